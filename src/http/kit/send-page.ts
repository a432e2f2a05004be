import type { FastifyReply } from 'fastify';
import { messagePage } from './layout.js';
import type { Texts } from './texts.js';

/**
 * Sends a server-rendered page with a CSP that allows no script and no inline style.
 * Forms on gateway pages end in a redirect to the app, and browsers apply `form-action`
 * to that redirect, so the app's return origin is allowed as a form target too.
 */
export function sendPage(reply: FastifyReply, status: number, page: string, returnUrl?: string, options: { script?: boolean } = {}): FastifyReply {
  const formTargets = ["'self'"];
  if (returnUrl) formTargets.push(new URL(returnUrl).origin);
  reply.header('Content-Security-Policy', [
    "default-src 'none'",
    // Scripts only from our own files (the dashboard's copy buttons), never inline.
    ...(options.script ? ["script-src 'self'", "connect-src 'none'"] : []),
    "style-src 'self'",
    "img-src 'self'",
    `form-action ${formTargets.join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; '));
  reply.header('Cache-Control', 'no-store');
  reply.header('X-Frame-Options', 'DENY');
  return reply.code(status).type('text/html; charset=utf-8').send(page);
}

/** The page for a request that needs a store that cannot be reached right now. */
export function sendUnavailablePage(reply: FastifyReply, t: Texts): FastifyReply {
  reply.header('Retry-After', '1');
  return sendPage(reply, 503, messagePage(t, t.t('page.unavailable.title'), t.t('page.unavailable.message')));
}

/** A page of the dashboard or the account, which load the page script (copy buttons). */
export function sendScriptedPage(reply: FastifyReply, status: number, page: string): FastifyReply {
  return sendPage(reply, status, page, undefined, { script: true });
}
