import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CsrfTokens } from './csrf.js';
import { messagePage } from './layout.js';
import { textsFor } from './page-language.js';
import { sendPage } from './send-page.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Other sites post to this route by design; the pages' same-origin form rule does not apply. */
    crossSiteForm?: boolean;
  }
}

/**
 * Refuses state-changing requests that another site made the browser send. Pages are
 * served with `Referrer-Policy: no-referrer`, under which browsers send `Origin: null`
 * even for our own forms, so Fetch Metadata is the primary signal and a real foreign
 * Origin the second; a request with neither (old browsers, non-browser clients) passes.
 * Then every post must carry the CSRF token of the page it came from.
 */
export function refuseForeignForms(publicUrl: string, csrf: CsrfTokens) {
  const publicOrigin = new URL(publicUrl).origin;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (request.method !== 'POST') return undefined;
    // A route that other sites post to by design (the OpenID Connect authorization
    // endpoint) says so in its config; it must change nothing a foreign page could abuse.
    if (request.routeOptions.config.crossSiteForm === true) return undefined;
    const origin = request.headers.origin;
    const site = request.headers['sec-fetch-site'];
    const foreignOrigin = origin !== undefined && origin !== 'null' && origin !== publicOrigin;
    if (foreignOrigin || (site !== undefined && site !== 'same-origin' && site !== 'none')) {
      const t = textsFor(request);
      return sendPage(reply, 403, messagePage(t, t.t('page.crossSite.title'), t.t('page.crossSite.message')));
    }
    if (!csrf.isValid(request)) {
      const t = textsFor(request);
      return sendPage(reply, 403, messagePage(t, t.t('page.expiredForm.title'), t.t('page.expiredForm.message')));
    }
    return undefined;
  };
}
