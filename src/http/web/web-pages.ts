import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KeygateError } from '../../domain/errors.js';
import { pageError } from '../error-pages.js';
import type { Services } from '../../domain/services.js';
import type { PersonRef } from '../../domain/zones/zone-registry.js';
import { isStoreUnavailable } from '../../storage/availability.js';
import type { ClientAddress } from '../api/steps.js';
import { accountCentreRoutes } from '../account/centre.js';
import { accountSecurityRoutes } from '../account/security.js';
import { dashboardRoutes } from '../dashboard/dashboard.js';
import { DASHBOARD_SCRIPT } from '../dashboard/script.js';
import { CsrfTokens } from '../gateway/csrf.js';
import { gatewayRoutes } from '../gateway/gateway.js';
import { sendPage, sendUnavailablePage } from '../gateway/pages.js';
import { GATEWAY_CSS } from '../gateway/styles.js';
import { registerPasswordReset } from './sign-in-flow.js';
import { homePage, messagePage } from '../gateway/views.js';

export interface WebPagesOptions {
  readonly services: Services;
  readonly publicUrl: string;
  /** Keys the HMAC of the forms' CSRF tokens; the same on every node. */
  readonly csrfKey: Buffer;
  readonly clientAddress: ClientAddress;
}

/** What every page route shares: the person's session, the forms' CSRF tokens, the client address. */
export interface PageContext {
  readonly services: Services;
  readonly publicUrl: string;
  readonly csrf: CsrfTokens;
  readonly clientAddress: ClientAddress;
  currentPerson(request: FastifyRequest): Promise<PersonRef | null>;
  /** The session cookie's value, to tell "this browser" apart from the person's other sessions. */
  sessionToken(request: FastifyRequest): string | undefined;
  /** Signs a person in with a fresh session id (a cookie planted before is worth nothing after). */
  startSession(request: FastifyRequest, reply: FastifyReply, person: PersonRef): Promise<void>;
  /** Ends this browser's session; `signOut` when the person asked for it (recorded). */
  endSession(request: FastifyRequest, reply: FastifyReply, options?: { signOut?: boolean }): Promise<void>;
}

export type Form = Record<string, unknown>;

/** A form value that must be one string: arrays and objects (`a[]=1&a[]=2`) are refused. */
export function formString(form: Form, name: string, maxLength = 1024): string | undefined {
  const value = form[name];
  return typeof value === 'string' && value.length <= maxLength ? value : undefined;
}

export function formStrings(form: Form, name: string, maxEach = 1024): string[] {
  const value = form[name];
  if (typeof value === 'string') return value.length <= maxEach ? [value] : [];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.length <= maxEach) : [];
}

/** The server-rendered pages: the gateway people sign in through and the developers' dashboard. */
export async function webPages(server: FastifyInstance, options: WebPagesOptions): Promise<void> {
  const { services, publicUrl } = options;
  await server.register(formbody, { bodyLimit: 64 * 1024 });
  const publicOrigin = new URL(publicUrl).origin;
  const https = publicUrl.startsWith('https:');
  const sessionCookie = https ? { name: '__Host-keygate-session', secure: true } : { name: 'keygate-session', secure: false };
  const csrf = new CsrfTokens(options.csrfKey, https ? { name: '__Host-keygate-csrf', secure: true } : { name: 'keygate-csrf', secure: false });

  const context: PageContext = {
    services,
    publicUrl,
    csrf,
    clientAddress: options.clientAddress,
    currentPerson: (request) => services.sessions.resolveSession(request.cookies[sessionCookie.name]),
    sessionToken: (request) => request.cookies[sessionCookie.name],
    async startSession(request, reply, person) {
      await services.sessions.endSession(request.cookies[sessionCookie.name]);
      const token = await services.sessions.startSession(person, { userAgent: request.headers['user-agent'], address: options.clientAddress(request) });
      reply.setCookie(sessionCookie.name, token, { path: '/', httpOnly: true, sameSite: 'lax', secure: sessionCookie.secure });
    },
    async endSession(request, reply, options = {}) {
      await services.sessions.endSession(request.cookies[sessionCookie.name], { signOut: options.signOut, requestId: request.id });
      reply.clearCookie(sessionCookie.name, { path: '/', secure: sessionCookie.secure });
    },
  };

  // Refuse state-changing requests that another site made the browser send. Pages are
  // served with `Referrer-Policy: no-referrer`, under which browsers send `Origin: null`
  // even for our own forms, so Fetch Metadata is the primary signal and a real foreign
  // Origin the second; a request with neither (old browsers, non-browser clients) passes.
  server.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return;
    const origin = request.headers.origin;
    const site = request.headers['sec-fetch-site'];
    const foreignOrigin = origin !== undefined && origin !== 'null' && origin !== publicOrigin;
    if (foreignOrigin || (site !== undefined && site !== 'same-origin' && site !== 'none')) {
      return sendPage(reply, 403, messagePage('Request refused', 'This form was sent from another site. Go back and start again.'));
    }
    if (!csrf.isValid(request)) {
      return sendPage(reply, 403, messagePage('This form has expired', 'Go back, reload the page and try again.'));
    }
  });

  server.setErrorHandler((error, request, reply) => {
    if (error instanceof KeygateError) {
      const { status, message } = pageError(error);
      return sendPage(reply, status, messagePage('Something is not right', message));
    }
    if (isStoreUnavailable(error)) {
      request.log.warn({ err: (error as Error).message }, 'a store is unavailable');
      return sendUnavailablePage(reply);
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return sendPage(reply, status, messagePage('Request refused', 'The form could not be read. Go back and try again.'));
    }
    request.log.error({ err: error }, 'unexpected error on a page');
    return sendPage(reply, 500, messagePage('Something went wrong', `Please try again. If it keeps happening, quote this reference: ${request.id}`));
  });

  server.get('/', async (_request, reply) => sendPage(reply, 200, homePage()));
  server.get('/static/keygate.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(GATEWAY_CSS));
  server.get('/static/dashboard.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(DASHBOARD_SCRIPT));

  // A profile picture behind an app's expiring link: embeddable by the app's pages (any origin).
  server.get<{ Params: { token: string } }>('/images/:token', async (request, reply) => {
    const image = await services.images.fetchForApp(request.params.token, request.id);
    if (!image) return reply.code(404).type('text/plain; charset=utf-8').header('Cache-Control', 'no-store').send('This link has expired or the picture is no longer shared.');
    return reply.type('image/webp').header('Cache-Control', 'private, max-age=300').header('Cross-Origin-Resource-Policy', 'cross-origin').send(image);
  });

  registerPasswordReset(server, context);
  gatewayRoutes(server, context);
  dashboardRoutes(server, context);
  accountSecurityRoutes(server, context);
  accountCentreRoutes(server, context);
}
