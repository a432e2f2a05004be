import { cs, csMail } from './cs.js';
import { de, deMail } from './de.js';
import { en, enMail, type Messages } from './en.js';
import type { UiLanguage } from './languages.js';
import type { MailCatalogue } from './mail-catalogue.js';

/** What a language brings: its name in itself, its pages' messages and its mail. */
export interface Catalogue {
  /** As the language switch shows it. */
  readonly name: string;
  /** The Ukey1 locale it answers to (an invitation's `locale`), and the other spellings it accepts. */
  readonly mailLocale: string;
  readonly acceptedLocales: readonly string[];
  readonly messages: Messages;
  readonly mail: MailCatalogue;
}

/** Every language, from its one file. English also stands in for any locale no language accepts. */
export const CATALOGUES: Readonly<Record<UiLanguage, Catalogue>> = {
  en: { name: 'English', mailLocale: 'en_GB', acceptedLocales: ['en', 'en_GB'], messages: en, mail: enMail },
  cs: { name: 'Čeština', mailLocale: 'cs_CZ', acceptedLocales: ['cs', 'cs_CZ'], messages: cs, mail: csMail },
  de: { name: 'Deutsch', mailLocale: 'de_DE', acceptedLocales: ['de', 'de_DE', 'de_AT', 'de_CH'], messages: de, mail: deMail },
};
