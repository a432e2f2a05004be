import type { Logger } from 'pino';
import type { Mailer } from '../../mail/mailer.js';
import { accountMessage, resolveLocale, type AccountMessage, type Locale } from '../../mail/messages.js';
import type { PersonRef } from '../zones/zone-registry.js';
import type { PersonProfiles } from './person-profiles.js';

/** A profile's language (ISO 639-1) as the locale of its mail: a language Keygate writes in, else British English. */
const localeOfLanguage = (language: string | null | undefined): Locale => resolveLocale(language ?? undefined);

/**
 * Mail about a person's own account, in their language. Sending never delays the
 * answer: whether a message goes out must not show in the response time (that would
 * tell whether an account exists), so delivery runs after the answer and a failure is
 * logged, never shown.
 */
export class AccountMail {
  readonly #pending = new Set<Promise<void>>();

  constructor(private readonly profiles: PersonProfiles, private readonly mailer: Mailer, private readonly logger: Logger) {}

  /**
   * Runs work after the answer (on the next turn of the event loop, once the answer has
   * been written: an embedded store runs its queries on this thread); a failure is
   * logged, never shown.
   */
  afterAnswer(work: () => Promise<void>): void {
    const sending = new Promise<void>((resolve) => setImmediate(resolve)).then(work)
      .catch((error: Error) => this.logger.warn({ err: error.message }, 'an account email request failed after the answer'));
    this.#pending.add(sending);
    void sending.finally(() => this.#pending.delete(sending));
  }

  /** To an address typed into a form (sign-up), in the language chosen there, after the answer. */
  toAddress(email: string, language: string, message: AccountMessage): void {
    this.afterAnswer(() => this.mailer.send({ to: email, ...accountMessage(localeOfLanguage(language), message) }));
  }

  /** To a person's confirmed address, after the answer (see `sendToPerson`). */
  toPerson(person: PersonRef, message: AccountMessage, requestId?: string): void {
    this.afterAnswer(() => this.sendToPerson(person, message, requestId));
  }

  /** To a person's confirmed address, now: reading it and their language is an audited read. */
  async sendToPerson(person: PersonRef, message: AccountMessage, requestId?: string): Promise<void> {
    const profile = await this.profiles.readFieldsOf(person, ['email', 'language'], { kind: 'system', id: null, requestId }, `account email: ${message.kind}`);
    if (!profile?.email) return;
    await this.mailer.send({ to: profile.email, ...accountMessage(localeOfLanguage(profile.language), message) });
  }

  /** Resolves once every message handed over so far has been delivered or has failed (shutdown, tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}
