import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import { NO_METRICS, type MailTransport, type Metrics } from '../domain/metrics.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export interface MailerOptions {
  /** smtp:// or smtps://, optionally with user:pass. Without it, mail goes to `outboxDir`. */
  smtpUrl?: string;
  from: string;
  outboxDir: string;
  logger: Logger;
  /** Counts each message sent or failed, by transport. */
  metrics?: Metrics;
}

// A bare addr-spec only: no display name, comment, group, quoting or list separator that
// an address parser could turn into a second recipient, and no control character (header injection).
const LOCAL_PART = /^[^\s@,;:<>()"[\]\\]+$/u;
const DOMAIN = /^[^\s@,;:<>()"[\]\\.]+(\.[^\s@,;:<>()"[\]\\.]+)*$/u;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** Throws unless `to` is exactly one plain address (never echoes it: it is personal data). */
export function assertSingleRecipient(to: string): void {
  const at = to.lastIndexOf('@');
  const valid =
    to.length <= 254 &&
    !CONTROL.test(to) &&
    at > 0 &&
    LOCAL_PART.test(to.slice(0, at)) &&
    DOMAIN.test(to.slice(at + 1));
  if (!valid) throw new Error('mail recipient must be a single plain email address');
}

function assertMessage(message: MailMessage): void {
  assertSingleRecipient(message.to);
  if (/[\r\n]/.test(message.subject)) throw new Error('mail subject must be a single line');
}

export function createMailer(options: MailerOptions): Mailer {
  if (/[\r\n]/.test(options.from)) throw new Error('mail sender must be a single line');
  const mailer = options.smtpUrl ? createSmtpMailer(options.smtpUrl, options) : createOutboxMailer(options);
  return counting(mailer, options.smtpUrl ? 'smtp' : 'outbox', options.metrics ?? NO_METRICS);
}

/** Every message passes `send`: counted there once, whoever sent it and whether it went. */
function counting(mailer: Mailer, transport: MailTransport, metrics: Metrics): Mailer {
  return {
    async send(message) {
      try {
        await mailer.send(message);
      } catch (error) {
        metrics.mail(transport, 'failed');
        throw error;
      }
      metrics.mail(transport, 'sent');
    },
    close: () => mailer.close(),
  };
}

function createSmtpMailer(smtpUrl: string, { from, logger }: MailerOptions): Mailer {
  const transport = nodemailer.createTransport({ ...smtpConnection(smtpUrl), pool: true }, { from });
  return {
    async send(message) {
      assertMessage(message);
      try {
        const info = await transport.sendMail({ ...message, from });
        logger.info({ messageId: info.messageId }, 'mail handed to the SMTP server');
      } catch (error) {
        // The server's reply often quotes the rejected address, so only codes leave this function.
        throw new Error(`SMTP delivery failed (${describeSmtpError(error)})`);
      }
    },
    close: () => transport.close(),
  };
}

function smtpConnection(smtpUrl: string) {
  const url = new URL(smtpUrl);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new Error('mail SMTP URL must use smtp:// or smtps://');
  const secure = url.protocol === 'smtps:';
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    // smtp:// still upgrades with STARTTLS whenever the server offers it.
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
  };
}

function describeSmtpError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown error';
  const { code, responseCode, command } = error as { code?: unknown; responseCode?: unknown; command?: unknown };
  const parts = [code, responseCode, command].filter((part) => typeof part === 'string' || typeof part === 'number');
  return parts.length > 0 ? parts.join(' ') : 'unknown error';
}

function createOutboxMailer({ from, outboxDir, logger }: MailerOptions): Mailer {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  let outboxReady: Promise<void> | undefined;
  const prepareOutbox = () => {
    outboxReady ??= (async () => {
      await mkdir(outboxDir, { recursive: true, mode: 0o700 });
      // mkdir leaves an existing directory's mode alone.
      await chmod(outboxDir, 0o700);
    })().catch((error: unknown) => {
      outboxReady = undefined;
      throw error;
    });
    return outboxReady;
  };

  return {
    async send(message) {
      assertMessage(message);
      const { message: eml } = await composer.sendMail({ ...message, from });
      if (!Buffer.isBuffer(eml)) throw new Error('mail composer did not return a buffered message');
      await prepareOutbox();
      const file = join(outboxDir, `${new Date().toISOString().replace(/:/g, '')}-${randomBytes(8).toString('hex')}.eml`);
      // Written aside, then renamed: whoever reads the outbox never sees half a message.
      const partial = `${file}.partial`;
      await writeFile(partial, eml, { mode: 0o600, flag: 'wx' });
      await rename(partial, file);
      logger.info({ file }, 'mail written to the outbox');
    },
    close: () => composer.close(),
  };
}
