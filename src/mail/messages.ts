import { CATALOGUES } from '../i18n/catalogues.js';
import { UI_LANGUAGES } from '../i18n/languages.js';
import type { ExtranetInvitationParams, MailCatalogue, MailContent, CodeParams, LinkParams, OwnerInvitationParams } from '../i18n/mail-catalogue.js';

export type { CodeParams, ExtranetInvitationParams, LinkParams, OwnerInvitationParams };

/** The mail locales, one per language (`en_GB`, `cs_CZ`, `de_DE`): what an invitation's `locale` may name. */
export const LOCALES: readonly string[] = UI_LANGUAGES.map((language) => CATALOGUES[language].mailLocale);
export type Locale = string;

const BY_LOCALE = new Map<string, MailCatalogue>(UI_LANGUAGES.map((language) => [CATALOGUES[language].mailLocale, CATALOGUES[language].mail]));
const ACCEPTED = new Map<string, string>(UI_LANGUAGES.flatMap((language) =>
  CATALOGUES[language].acceptedLocales.map((tag): [string, string] => [tag.toLowerCase(), CATALOGUES[language].mailLocale])));

/**
 * The mail locale for a requested one: each language lists the spellings it accepts (in any
 * case, with `-` or `_`: `cs`, `cs-CZ`, `de_AT`…); British English for anything else.
 */
export function resolveLocale(requested: string | undefined): Locale {
  const tag = requested?.trim().toLowerCase().replace('-', '_') ?? '';
  return ACCEPTED.get(tag) ?? 'en_GB';
}

const catalogueOf = (locale: Locale): MailCatalogue => BY_LOCALE.get(locale) ?? BY_LOCALE.get('en_GB')!;

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export function extranetInvitation(locale: Locale, params: ExtranetInvitationParams): RenderedMail {
  assertWebUrl(params.signInUrl);
  // A name spread over several lines would otherwise break the one-line Subject header.
  const appName = oneLine(params.appName);
  const catalogue = catalogueOf(locale);
  return render(catalogue, catalogue.extranetInvitation({ appName, signInUrl: params.signInUrl }));
}

/** Every account message, by name, as the domain sends them. */
export type AccountMessage =
  | { kind: 'signUpCode'; params: CodeParams }
  | { kind: 'signUpExisting'; params: { signInUrl: string } }
  | { kind: 'passwordReset'; params: LinkParams }
  | { kind: 'signInCode'; params: CodeParams }
  | { kind: 'newDeviceSignIn'; params: { when: string } }
  | { kind: 'signInPaused'; params: { minutes: number } }
  | { kind: 'secondFactorEnrolled'; params: { link: string; days: number } }
  | { kind: 'emailChangeCode'; params: CodeParams }
  | { kind: 'emailChangeTaken'; params: Record<string, never> }
  | { kind: 'emailChanged'; params: { when: string } }
  | { kind: 'ownerInvitation'; params: OwnerInvitationParams };

export function accountMessage(locale: Locale, message: AccountMessage): RenderedMail {
  const catalogue = catalogueOf(locale);
  if ('link' in message.params) assertWebUrl(message.params.link);
  if ('signInUrl' in message.params) assertWebUrl(message.params.signInUrl);
  // A name spread over several lines would otherwise break the one-line Subject header.
  const params: AccountMessage['params'] = message.kind === 'ownerInvitation' ? { ...message.params, appName: oneLine(message.params.appName) } : message.params;
  // Each kind takes its own params; the union keeps them paired.
  const content = (catalogue[message.kind] as (params: AccountMessage['params']) => MailContent)(params);
  return render(catalogue, content);
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

function assertWebUrl(url: string): void {
  const protocol = URL.canParse(url) ? new URL(url).protocol : '';
  if (protocol !== 'https:' && protocol !== 'http:') throw new Error('a link in an email must be an absolute http(s) URL');
}

// Mail keeps its own escaper rather than the pages' `html` template: a message has a few
// paragraphs and links of plain text, and mail must not depend on the HTTP layer.
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

function render(catalogue: MailCatalogue, { subject, blocks }: MailContent): RenderedMail {
  const text = blocks.map((block) => (typeof block === 'string' ? block : block.link)).join('\n\n') + '\n';
  const paragraphs = blocks.map((block) =>
    typeof block === 'string' ? `<p>${escape(block)}</p>` : `<p><a href="${escape(block.link)}">${escape(block.link)}</a></p>`,
  ).join('');
  const page = `<!doctype html>
<html lang="${escape(catalogue.htmlLang)}">
<head><meta charset="utf-8"><title>${escape(subject)}</title></head>
<body>
${paragraphs}
</body>
</html>
`;
  return { subject, text, html: page };
}
