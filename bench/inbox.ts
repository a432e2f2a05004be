import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * The codes Keygate mails (sign-up confirmation, sign-in), received by an SMTP server of
 * the benchmark's own, as production sends them. Only the recipient and the subject's
 * code are kept: a memory run receives 100,000 mails, so nothing else is parsed.
 */
export class CodeInbox {
  readonly #arrived = new Map<string, string>();
  readonly #waiting = new Map<string, (code: string | null) => void>();
  readonly #server: SMTPServer;

  private constructor(server: SMTPServer, readonly url: string) {
    this.#server = server;
  }

  /** Starts the SMTP server on loopback; `url` is Keygate's KEYGATE_SMTP_URL. */
  static async start(): Promise<CodeInbox> {
    let inbox: CodeInbox | undefined;
    const server = new SMTPServer({
      secure: false, disabledCommands: ['STARTTLS', 'AUTH'], logger: false, closeTimeout: 1000,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', callback);
        stream.on('end', () => {
          const to = session.envelope.rcptTo[0]?.address.toLowerCase();
          const code = /^Subject: .*\b(\d{6})\r?$/m.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
          if (to && code && inbox) inbox.#deliver(to, code);
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    server.on('error', () => {}); // a client's reset connection is re-emitted here; the client retries
    const { port } = server.server.address() as AddressInfo;
    inbox = new CodeInbox(server, `smtp://127.0.0.1:${port}`);
    return inbox;
  }

  #deliver(to: string, code: string): void {
    const waiter = this.#waiting.get(to);
    if (waiter) {
      this.#waiting.delete(to);
      waiter(code);
    } else {
      this.#arrived.set(to, code);
    }
  }

  /** The code mailed to `address` after the last call, or null after 10 s. */
  code(address: string): Promise<string | null> {
    const key = address.toLowerCase();
    const arrived = this.#arrived.get(key);
    if (arrived) {
      this.#arrived.delete(key);
      return Promise.resolve(arrived);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(key);
        resolve(null);
      }, 10_000);
      this.#waiting.set(key, (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  /** Drops a code that came too late for its sign-in, so that the next one is not taken for it. */
  forget(address: string): void {
    this.#arrived.delete(address.toLowerCase());
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
