import { IntlMessageFormat } from 'intl-messageformat';
import { CATALOGUES } from '../../i18n/catalogues.js';
import type { MessageKey } from '../../i18n/en.js';
import { UI_LANGUAGES, type UiLanguage } from '../../i18n/languages.js';
import type { PasswordProblem } from '../../domain/people/password-policy.js';
import { COUNTRY_CODES, LANGUAGE_CODES } from '../../domain/zones/countries.js';
import { escapeHtml, SafeHtml } from './html.js';

/** A value a message is formatted with. */
type Plain = string | number | Date;
/** In a rich message: SafeHtml as it is, or a tag (`<link>…</link>`) wrapped by a function. */
type Rich = Plain | SafeHtml | ((chunks: SafeHtml) => SafeHtml);

const compiled = new Map<string, IntlMessageFormat>();

function formatOf(language: UiLanguage, key: MessageKey): IntlMessageFormat {
  const id = `${language}\u0000${key}`;
  let format = compiled.get(id);
  if (!format) {
    format = new IntlMessageFormat(CATALOGUES[language].messages[key], intlLocale(language));
    compiled.set(id, format);
  }
  return format;
}

const joinParts = (parts: unknown): SafeHtml => {
  const list = Array.isArray(parts) ? parts : [parts];
  return new SafeHtml(list.map((part) => (part instanceof SafeHtml ? part.value : escapeHtml(String(part)))).join(''));
};

/** The locale Intl formats with: English pages write dates the British way, as the mail does. */
const intlLocale = (language: UiLanguage): string => (language === 'en' ? 'en-GB' : language);

const dateTimeFormats = new Map<UiLanguage, Intl.DateTimeFormat>();

type Options = ReadonlyArray<{ code: string; name: string }>;
const countryOptions = new Map<UiLanguage, Options>();
const languageOptions = new Map<UiLanguage, Options>();

/** The options of a select of codes named by Intl, made once per language. */
function namedOptions(cache: Map<UiLanguage, Options>, language: UiLanguage, type: 'region' | 'language', codes: readonly string[]): Options {
  let options = cache.get(language);
  if (!options) {
    const names = new Intl.DisplayNames([language], { type });
    const collator = new Intl.Collator(intlLocale(language));
    options = codes.map((code) => ({ code, name: names.of(code) ?? code })).sort((a, b) => collator.compare(a.name, b.name));
    cache.set(language, options);
  }
  return options;
}

/**
 * The words of one page in one language: messages from the language's catalogue (ICU
 * MessageFormat), dates and names formatted for it, and the path the language switch
 * brings the person back to.
 */
export class Texts {
  constructor(readonly language: UiLanguage, readonly here: string = '/') {}

  /** The message as plain text; `html` escapes it where it is placed. */
  t(key: MessageKey, values?: Record<string, Plain>): string {
    return String(formatOf(this.language, key).format(values));
  }

  /**
   * The message as HTML: its text escaped, SafeHtml values kept, and each tag of the message
   * (`<link>…</link>`) rendered by the function of that name, so a translation can move a
   * link within its sentence.
   */
  rich(key: MessageKey, values: Record<string, Rich>): SafeHtml {
    const wrapped: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(values)) {
      wrapped[name] = typeof value === 'function' ? (chunks: unknown[]) => value(joinParts(chunks)) : value;
    }
    return joinParts(formatOf(this.language, key).format(wrapped as Record<string, never>));
  }

  /** A moment as the language writes it, always in UTC (stated), e.g. "2 Dec 2026, 16:46 UTC". */
  when(at: Date): string {
    let format = dateTimeFormats.get(this.language);
    if (!format) {
      format = new Intl.DateTimeFormat(intlLocale(this.language), { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC', hourCycle: 'h23' });
      dateTimeFormats.set(this.language, format);
    }
    return `${format.format(at)} UTC`;
  }

  /** Every country and territory, by its name in this language, in this language's order. */
  countries(): ReadonlyArray<{ code: string; name: string }> {
    return namedOptions(countryOptions, this.language, 'region', COUNTRY_CODES);
  }

  /** Every language a profile may have, by its name in this language, in this language's order. */
  languages(): ReadonlyArray<{ code: string; name: string }> {
    return namedOptions(languageOptions, this.language, 'language', LANGUAGE_CODES);
  }

  /** The other languages, each by its own name, for the switch in the footer. */
  get others(): ReadonlyArray<{ language: UiLanguage; name: string }> {
    return UI_LANGUAGES.filter((l) => l !== this.language).map((language) => ({ language, name: CATALOGUES[language].name }));
  }
}

/** A refused new password, worded for the page. */
export function passwordProblemText(t: Texts, problem: PasswordProblem): string {
  switch (problem.reason) {
    case 'length': return t.t('password.length', { min: problem.min, max: problem.max });
    case 'personal': return t.t('password.personal');
    case 'guessable': return t.t('password.guessable');
  }
}
