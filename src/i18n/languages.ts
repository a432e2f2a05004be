import Negotiator from 'negotiator';

/**
 * The languages of Keygate's pages and mail, as BCP 47 tags. Adding one is its catalogue
 * file next to `en.ts` (pages and mail), its entry in `catalogues.ts` and its tag here.
 */
export const UI_LANGUAGES = ['en', 'cs', 'de'] as const;
export type UiLanguage = (typeof UI_LANGUAGES)[number];

export const isUiLanguage = (value: unknown): value is UiLanguage => typeof value === 'string' && (UI_LANGUAGES as readonly string[]).includes(value);

/** The best of `available` for an `Accept-Language` header (or `ui_locales`, space-separated), if any fits. */
export function bestLanguage<T extends string>(acceptLanguage: string | undefined, available: readonly T[]): T | undefined {
  if (!acceptLanguage) return undefined;
  // Negotiator answers with the first available language when the header is empty or `*`:
  // only an actual preference counts here.
  if (!/[a-z]{2}/i.test(acceptLanguage)) return undefined;
  return new Negotiator({ headers: { 'accept-language': acceptLanguage } }).language(available as T[]) as T | undefined;
}

/** `ui_locales` (OpenID Connect Core §3.1.2.1): space-separated tags, most preferred first. */
export function bestOfUiLocales<T extends string>(uiLocales: string | undefined, available: readonly T[]): T | undefined {
  if (!uiLocales) return undefined;
  const tags = uiLocales.split(' ').filter((tag) => /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(tag));
  const weighted = tags.map((tag, i) => `${tag};q=${Math.max(0.1, 1 - i * 0.1).toFixed(1)}`).join(', ');
  return bestLanguage(weighted, available);
}
