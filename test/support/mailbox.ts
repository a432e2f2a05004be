import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { sleep } from './services.js';

export interface OutboxMail {
  readonly file: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/**
 * The outbox folder Keygate writes mail to when no SMTP server is set: what a person
 * would find in their inbox. Mail goes out after the answer, so readers wait for it.
 */
export class Outbox {
  readonly #seen = new Set<string>();
  readonly #parsed = new Map<string, Promise<OutboxMail>>();

  constructor(readonly dataDir: string) {}

  async all(): Promise<OutboxMail[]> {
    const folder = path.join(this.dataDir, 'outbox');
    if (!existsSync(folder)) return [];
    const files = readdirSync(folder).filter((f) => f.endsWith('.eml')).sort();
    return Promise.all(files.map((file) => {
      let mail = this.#parsed.get(file);
      if (!mail) {
        mail = simpleParser(readFileSync(path.join(folder, file))).then((parsed) => {
          const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
          return { file, to: to?.value[0]?.address ?? '', subject: parsed.subject ?? '', text: parsed.text ?? '' };
        });
        this.#parsed.set(file, mail);
      }
      return mail;
    }));
  }

  /** The next message to `address` not returned before that satisfies `match`, waiting up to 10 s. */
  async next(address: string, match: (mail: OutboxMail) => boolean = () => true): Promise<OutboxMail> {
    for (let waited = 0; waited < 10_000; waited += 20) {
      const mail = (await this.all()).find((m) => !this.#seen.has(m.file) && m.to.toLowerCase() === address.toLowerCase() && match(m));
      if (mail) {
        this.#seen.add(mail.file);
        return mail;
      }
      await sleep(20);
    }
    throw new Error(`no mail to ${address} arrived`);
  }

  /** The six-digit code of the next message to `address` that carries one. */
  async code(address: string): Promise<string> {
    const mail = await this.next(address, (m) => /\b\d{6}\b/.test(m.subject));
    return /\b(\d{6})\b/.exec(mail.subject)![1]!;
  }

  /** The link of the next message to `address` that carries one under `pathPrefix`. */
  async link(address: string, pathPrefix: string): Promise<string> {
    const pattern = new RegExp(`https?://\\S+${pathPrefix.replace(/\//g, '\\/')}\\S+`);
    const mail = await this.next(address, (m) => pattern.test(m.text));
    return pattern.exec(mail.text)![0];
  }
}
