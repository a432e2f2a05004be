import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LANGUAGE_CODES } from '../../domain/zones/countries.js';
import { bestLanguage, bestOfUiLocales, isUiLanguage, UI_LANGUAGES, type UiLanguage } from '../../i18n/languages.js';
import { Texts } from './texts.js';

/**
 * The language of this browser's pages: `cs` when the person chose it (the switch in the
 * footer, the language saved in their profile), `account:cs` when it is what the account
 * that signed in here speaks. A sign-in never overrides a choice made in the browser.
 * A preference, not a secret: neither signed nor `__Host-`.
 */
export const LANGUAGE_COOKIE = 'keygate-language';

const languageOfCookie = (value: string | undefined): { language: UiLanguage; chosen: boolean } | null => {
  const match = /^(account:)?([a-z]{2})$/.exec(value ?? '');
  return match && isUiLanguage(match[2]) ? { language: match[2], chosen: !match[1] } : null;
};
const ONE_YEAR_SECONDS = 365 * 24 * 3600;

const chosen = new WeakMap<FastifyRequest, Texts>();

/**
 * The words of the page this request gets: the language chosen in this browser, else the
 * one its signed-in person speaks, else the `ui_locales` the app asked for, else the
 * browser's `Accept-Language`, else English.
 */
export function textsFor(request: FastifyRequest): Texts {
  let texts = chosen.get(request);
  if (!texts) {
    const cookie = languageOfCookie(request.cookies?.[LANGUAGE_COOKIE])?.language;
    const query = request.query as Record<string, unknown> | undefined;
    const uiLocales = typeof query?.ui_locales === 'string' ? query.ui_locales.slice(0, 200) : undefined;
    const language: UiLanguage = (isUiLanguage(cookie) ? cookie : undefined)
      ?? bestOfUiLocales(uiLocales, UI_LANGUAGES)
      ?? bestLanguage(request.headers['accept-language']?.slice(0, 500), UI_LANGUAGES)
      ?? 'en';
    texts = new Texts(language, request.url);
    chosen.set(request, texts);
  }
  return texts;
}

/** The language the browser prefers among all a profile may have (ISO 639-1), to preselect at sign-up. */
export function browserLanguage(request: FastifyRequest): string | undefined {
  return bestLanguage(request.headers['accept-language']?.slice(0, 500), LANGUAGE_CODES);
}

/**
 * Makes `language` this browser's language from now on, and for the rest of this request:
 * `chosen` by the person here, or (`account`) the language of the account that signed in,
 * which gives way to a choice made in this browser.
 */
export function rememberLanguage(request: FastifyRequest, reply: FastifyReply, language: string | null | undefined, secure: boolean, how: 'chosen' | 'account' = 'chosen'): void {
  if (!isUiLanguage(language)) return;
  if (how === 'account' && languageOfCookie(request.cookies?.[LANGUAGE_COOKIE])?.chosen) return;
  const value = how === 'account' ? `account:${language}` : language;
  reply.setCookie(LANGUAGE_COOKIE, value, { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: ONE_YEAR_SECONDS });
  request.cookies[LANGUAGE_COOKIE] = value;
  chosen.set(request, new Texts(language, request.url));
}

/** After a sign-out: a shared browser does not keep speaking the language of the account that left. */
export function forgetAccountLanguage(request: FastifyRequest, reply: FastifyReply): void {
  if (languageOfCookie(request.cookies?.[LANGUAGE_COOKIE])?.chosen !== false) return;
  reply.clearCookie(LANGUAGE_COOKIE, { path: '/' });
  delete request.cookies[LANGUAGE_COOKIE];
  chosen.delete(request);
}

const routePattern = (url: string): RegExp =>
  new RegExp(`^${url.split('/').map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`);

/**
 * The language switch: `GET /language/<tag>?back=<path>` remembers the language and sends
 * the browser back to the page it was on. `back` must be a page of this server: a form's
 * action (a POST-only path) leads to the nearest page above it, anything else to `/`.
 */
export function registerLanguageSwitch(server: FastifyInstance, secure: boolean): void {
  const pages: RegExp[] = [];
  server.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    if (methods.includes('GET') && !route.url.startsWith('/auth/') && !route.url.includes('*')) pages.push(routePattern(route.url));
  });
  const pageAt = (path: string): string => {
    for (let candidate = path; candidate.length > 0; candidate = candidate.slice(0, candidate.lastIndexOf('/'))) {
      if (pages.some((page) => page.test(candidate))) return candidate;
    }
    return '/';
  };
  server.get<{ Params: { language: string }; Querystring: { back?: unknown } }>('/language/:language', async (request, reply) => {
    const { language } = request.params;
    const back = typeof request.query.back === 'string' ? request.query.back : '/';
    // Only a path of this server: never `//host` or `/\host`, which browsers read as another site.
    const local = /^\/(?![/\\])/.test(back) && URL.canParse(back, 'http://keygate.invalid') ? new URL(back, 'http://keygate.invalid') : null;
    if (isUiLanguage(language)) rememberLanguage(request, reply, language, secure);
    const target = local ? pageAt(local.pathname) + (pageAt(local.pathname) === local.pathname ? local.search : '') : '/';
    return reply.redirect(target, 303);
  });
}
