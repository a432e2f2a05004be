import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** RCPT TO addresses: who the message was actually delivered to. */
  to: string[];
  /** Addresses in the To header. */
  headerTo: string[];
  /** The user the client authenticated as, if it did. */
  authUser: string | undefined;
  subject: string;
  text: string;
  html: string | undefined;
  /** The message as it came over the wire, headers still encoded. */
  raw: string;
}

export interface TestSmtpServer {
  /** Usable as `smtpUrl` of createMailer. */
  url: string;
  messages: ReceivedMail[];
  waitFor(predicate: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** The six-digit code of the next message to `address` not read this way before, waiting up to 10 s. */
  code(address: string): Promise<string>;
  close(): Promise<void>;
}

const addresses = (header: AddressObject | AddressObject[] | undefined): string[] =>
  [header ?? []].flat().flatMap((object) => object.value.map((entry) => entry.address ?? ''));

/** A plain-text SMTP server on loopback that accepts everything and keeps what it receives. */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const arrivals = new EventEmitter();
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    closeTimeout: 1000,
    onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            const mail: ReceivedMail = {
              to: session.envelope.rcptTo.map((recipient) => recipient.address),
              headerTo: addresses(parsed.to),
              authUser: typeof session.user === 'string' ? session.user : undefined,
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: parsed.html === false ? undefined : parsed.html,
              raw: raw.toString('utf8'),
            };
            messages.push(mail);
            arrivals.emit('mail', mail);
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // smtp-server re-emits every connection's socket error on the server: a node killed
  // mid-delivery resets its connection, which is the sender's loss, not the test's failure.
  server.on('error', () => {});
  const { port } = server.server.address() as AddressInfo;

  const codesRead = new Set<ReceivedMail>();
  const waitFor: TestSmtpServer['waitFor'] = (predicate, timeoutMs = 5000) => {
    const already = messages.find(predicate);
    if (already) return Promise.resolve(already);
    return new Promise((resolve, reject) => {
      const onMail = (mail: ReceivedMail) => {
        if (!predicate(mail)) return;
        clearTimeout(timer);
        arrivals.off('mail', onMail);
        resolve(mail);
      };
      const timer = setTimeout(() => {
        arrivals.off('mail', onMail);
        reject(new Error(`no matching mail within ${timeoutMs} ms (${messages.length} received)`));
      }, timeoutMs);
      arrivals.on('mail', onMail);
    });
  };
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitFor,
    async code(address) {
      const mail = await waitFor((m) => !codesRead.has(m) && m.to.some((to) => to.toLowerCase() === address.toLowerCase()) && /\b\d{6}\b/.test(m.subject), 10_000);
      codesRead.add(mail);
      return /\b(\d{6})\b/.exec(mail.subject)![1]!;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
