import { mkdirSync, watch } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * The codes Keygate mails (sign-up confirmation, sign-in), read as they land in its
 * outbox: inotify, not a directory scan per wait, since the outbox of a memory run
 * receives 100,000 mails. Each mail is deleted once read, as a person would after using
 * its code.
 */
export class CodeInbox {
  readonly #arrived = new Map<string, string>();
  readonly #waiting = new Map<string, (code: string | null) => void>();
  readonly #watcher;

  /** `dataDir` is Keygate's KEYGATE_DATA_DIR; its outbox is made here so that it can be watched before the first mail. */
  constructor(dataDir: string) {
    const outbox = path.join(dataDir, 'outbox');
    mkdirSync(outbox, { recursive: true, mode: 0o700 });
    this.#watcher = watch(outbox, (_event, file) => {
      if (file?.endsWith('.eml')) void this.#read(path.join(outbox, file));
    });
  }

  async #read(file: string): Promise<void> {
    const text = await readFile(file, 'utf8').catch(() => '');
    const to = /^To: (\S+)\r?$/m.exec(text)?.[1]?.toLowerCase();
    const code = /^Subject: .*\b(\d{6})\r?$/m.exec(text)?.[1];
    if (!to || !code) return;
    await rm(file, { force: true });
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

  close(): void {
    this.#watcher.close();
  }
}

