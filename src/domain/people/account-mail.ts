import type { Logger } from 'pino';
import type { Mailer } from '../../mail/mailer.js';
import { accountMessage, resolveLocale, type AccountMessage } from '../../mail/messages.js';
import type { PersonRef } from '../zones/zone-registry.js';
import type { PeopleService } from './people-service.js';

/** Czech for Czech speakers, British English for everyone else (the locales we write mail in). */
const localeOfLanguage = (language: string | null | undefined) => resolveLocale(language === 'cs' ? 'cs_CZ' : 'en_GB');

/**
 * Mail about a person's own account, in their language. Sending never delays the
 * answer: whether a message goes out must not show in the response time (that would
 * tell whether an account exists), so delivery runs after the answer and a failure is
 * logged, never shown.
 */
export class AccountMail {
  readonly #pending = new Set<Promise<void>>();

  constructor(private readonly people: PeopleService, private readonly mailer: Mailer, private readonly logger: Logger) {}

  #deliver(work: () => Promise<void>): void {
    const sending = work().catch((error: Error) => this.logger.warn({ err: error.message }, 'could not send an account email'));
    this.#pending.add(sending);
    void sending.finally(() => this.#pending.delete(sending));
  }

  /** To an address typed into a form (sign-up), in the language chosen there. */
  toAddress(email: string, language: string, message: AccountMessage): void {
    this.#deliver(() => this.mailer.send({ to: email, ...accountMessage(localeOfLanguage(language), message) }));
  }

  /** To a person's confirmed address: reading it and their language is an audited read. */
  toPerson(person: PersonRef, message: AccountMessage, requestId?: string): void {
    this.#deliver(async () => {
      const profile = await this.people.readFieldsOf(person, ['email', 'language'], { kind: 'system', id: null, requestId }, `account email: ${message.kind}`);
      if (!profile?.email) return;
      await this.mailer.send({ to: profile.email, ...accountMessage(localeOfLanguage(profile.language), message) });
    });
  }

  /** Resolves once every message handed over so far has been delivered or has failed (shutdown, tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}
