import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isUuid } from '../../domain/apps/apps-service.js';
import { isFieldCode } from '../../domain/consent/fields.js';
import { KeygateError } from '../../domain/errors.js';
import { normaliseEmail } from '../../domain/people/email.js';
import { checkNewPassword } from '../../domain/people/password-policy.js';
import type { Services } from '../../domain/services.js';
import { isCountryCode, isLanguageCode } from '../../domain/zones/countries.js';
import { sendPage, sendUnavailablePage } from './pages.js';
import { isStoreUnavailable } from '../../storage/availability.js';
import { GATEWAY_CSS } from './styles.js';
import { consentPage, homePage, messagePage, signInPage, signUpPage, type FieldErrors, type GatewayPage } from './views.js';
import { CsrfTokens } from './csrf.js';

export interface GatewayOptions {
  readonly services: Services;
  readonly publicUrl: string;
  /** Keys the HMAC of the forms' CSRF tokens; the same on every node. */
  readonly csrfKey: Buffer;
}

type Form = Record<string, unknown>;

/** A form value that must be one string: arrays and objects (`a[]=1&a[]=2`) are refused. */
function formString(form: Form, name: string, maxLength = 1024): string | undefined {
  const value = form[name];
  return typeof value === 'string' && value.length <= maxLength ? value : undefined;
}

function formStrings(form: Form, name: string): string[] {
  const value = form[name];
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

// Names: printable text without control characters or markup-significant angle brackets.
const NAME = /^[^\p{Cc}\p{Cf}<>]{1,100}$/u;

export async function gatewayPages(server: FastifyInstance, { services, publicUrl, csrfKey }: GatewayOptions): Promise<void> {
  await server.register(formbody, { bodyLimit: 64 * 1024 });
  const publicOrigin = new URL(publicUrl).origin;
  const sessionCookie = publicUrl.startsWith('https:')
    ? { name: '__Host-keygate-session', secure: true }
    : { name: 'keygate-session', secure: false };

  const csrf = new CsrfTokens(csrfKey, publicUrl.startsWith('https:')
    ? { name: '__Host-keygate-csrf', secure: true }
    : { name: 'keygate-csrf', secure: false });

  const actorOf = (request: FastifyRequest) => ({ requestId: request.id });
  const currentPerson = (request: FastifyRequest) => services.sessions.resolveSession(request.cookies[sessionCookie.name]);

  async function startSession(request: FastifyRequest, reply: FastifyReply, person: Parameters<typeof services.sessions.startSession>[0]) {
    // A fresh identifier at every sign-in: a cookie planted before it is worth nothing after it.
    await services.sessions.endSession(request.cookies[sessionCookie.name]);
    const token = await services.sessions.startSession(person);
    reply.setCookie(sessionCookie.name, token, { path: '/', httpOnly: true, sameSite: 'lax', secure: sessionCookie.secure });
  }

  /** The open connect request named in the URL with its app, or a page saying why not. */
  async function loadConnect(request: FastifyRequest<{ Params: { connectId: string } }>, reply: FastifyReply): Promise<GatewayPage | null> {
    const { connectId } = request.params;
    const connect = isUuid(connectId) ? await services.connects.findOpenConnect(connectId.toLowerCase()) : null;
    const app = connect ? await services.apps.findApp(connect.appId) : null;
    if (!connect || !app) {
      sendPage(reply, 404, messagePage('Sign-in request not found', 'This sign-in request does not exist, has expired or has already been completed. Go back to the app and start again.'));
      return null;
    }
    return { connect, app, csrf: csrf.tokenFor(request, reply) };
  }

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
      return sendPage(reply, 403, messagePage('Request refused', 'This form was sent from another site. Go back to the app and start again.'));
    }
    if (!csrf.isValid(request)) {
      return sendPage(reply, 403, messagePage('This form has expired', 'Go back, reload the page and try again.'));
    }
  });

  server.setErrorHandler((error, request, reply) => {
    if (error instanceof KeygateError) {
      return sendPage(reply, error.status, messagePage('Something is not right', error.message));
    }
    if (isStoreUnavailable(error)) {
      request.log.warn({ err: (error as Error).message }, 'a store is unavailable');
      return sendUnavailablePage(reply);
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return sendPage(reply, status, messagePage('Request refused', 'The form could not be read. Go back and try again.'));
    }
    request.log.error({ err: error }, 'unexpected error on a gateway page');
    return sendPage(reply, 500, messagePage('Something went wrong', `Please try again. If it keeps happening, quote this reference: ${request.id}`));
  });

  server.get('/', async (_request, reply) => sendPage(reply, 200, homePage()));

  server.get('/static/keygate.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(GATEWAY_CSS));

  server.get<{ Params: { connectId: string }; Querystring: { signup?: string } }>('/gateway/:connectId', async (request, reply) => {
    const loaded = await loadConnect(request, reply);
    if (!loaded) return reply;
    const { connect } = loaded;
    if (await currentPerson(request)) return sendPage(reply, 200, consentPage(loaded), connect.returnUrl);
    const page = request.query.signup === '1' ? signUpPage(loaded) : signInPage(loaded);
    return sendPage(reply, 200, page, connect.returnUrl);
  });

  server.post<{ Params: { connectId: string }; Body: Form }>('/gateway/:connectId/sign-in', async (request, reply) => {
    const loaded = await loadConnect(request, reply);
    if (!loaded) return reply;
    const { connect } = loaded;
    const form = request.body ?? {};
    const email = formString(form, 'email', 320) ?? '';
    const password = formString(form, 'password', 256) ?? '';
    const account = normaliseEmail(email) ?? email.trim().toLowerCase();
    const verdict = await services.signInThrottle.admit(request.ip, account);
    if (!verdict.allowed) {
      reply.header('Retry-After', String(verdict.retryAfterSeconds));
      return sendPage(reply, 429, signInPage({ ...loaded, email, error: `Too many attempts. Wait ${verdict.retryAfterSeconds} seconds and try again.` }), connect.returnUrl);
    }
    const person = email && password ? await services.people.authenticate(email, password, actorOf(request)) : null;
    await (person ? services.signInThrottle.recordSuccess(account) : services.signInThrottle.recordFailure(account));
    if (!person) {
      return sendPage(reply, 401, signInPage({ ...loaded, email, error: 'The email or password is incorrect.' }), connect.returnUrl);
    }
    await startSession(request, reply, person);
    return reply.redirect(`/gateway/${connect.id}`, 303);
  });

  server.post<{ Params: { connectId: string }; Body: Form }>('/gateway/:connectId/sign-up', async (request, reply) => {
    const loaded = await loadConnect(request, reply);
    if (!loaded) return reply;
    const { connect } = loaded;
    const form = request.body ?? {};
    const values = {
      email: (formString(form, 'email', 320) ?? '').trim(),
      firstname: (formString(form, 'firstname', 200) ?? '').trim(),
      surname: (formString(form, 'surname', 200) ?? '').trim(),
      country: (formString(form, 'country', 8) ?? '').trim().toUpperCase(),
      language: (formString(form, 'language', 8) ?? '').trim().toLowerCase(),
    };
    const password = formString(form, 'password', 1024) ?? '';
    const errors: FieldErrors = {};
    if (!normaliseEmail(values.email)) errors.email = 'Enter a valid email address.';
    const passwordProblem = checkNewPassword(password, values);
    if (passwordProblem) errors.password = passwordProblem;
    if (!NAME.test(values.firstname)) errors.firstname = 'Enter your first name (up to 100 characters).';
    if (!NAME.test(values.surname)) errors.surname = 'Enter your surname (up to 100 characters).';
    if (!isCountryCode(values.country)) errors.country = 'Choose your country.';
    if (!isLanguageCode(values.language)) errors.language = 'Choose your language.';
    if (Object.keys(errors).length > 0) {
      return sendPage(reply, 400, signUpPage({ ...loaded, values, errors }), connect.returnUrl);
    }
    const result = await services.people.signUp({ ...values, password }, actorOf(request));
    if (!result.ok) {
      const message = result.reason === 'email_taken'
        ? 'An account cannot be created with this email. If it is yours, sign in instead.'
        : 'Enter a valid email address.';
      return sendPage(reply, 400, signUpPage({ ...loaded, values, errors: { email: message } }), connect.returnUrl);
    }
    await startSession(request, reply, result.person);
    return reply.redirect(`/gateway/${connect.id}`, 303);
  });

  server.post<{ Params: { connectId: string }; Body: Form }>('/gateway/:connectId/consent', async (request, reply) => {
    const loaded = await loadConnect(request, reply);
    if (!loaded) return reply;
    const { connect, app } = loaded;
    const person = await currentPerson(request);
    const form = request.body ?? {};
    const decision = formString(form, 'decision', 16);
    if (decision === 'cancel') {
      return reply.redirect(await services.consents.cancel(person, app, connect, actorOf(request)), 303);
    }
    if (!person) return reply.redirect(`/gateway/${connect.id}`, 303);
    if (decision !== 'allow') {
      return sendPage(reply, 400, consentPage({ ...loaded, error: 'Choose Allow or Cancel.' }), connect.returnUrl);
    }
    const granted = formStrings(form, 'fields').filter(isFieldCode);
    const outcome = await services.consents.allow(person, app, connect, granted, actorOf(request));
    if (!outcome.ok) {
      return sendPage(reply, 400, consentPage({
        ...loaded,
        checked: granted,
        error: `${app.name} cannot work without the fields marked required. Tick them to continue, or cancel.`,
      }), connect.returnUrl);
    }
    return reply.redirect(outcome.redirectUrl, 303);
  });

  server.post<{ Params: { connectId: string } }>('/gateway/:connectId/cancel', async (request, reply) => {
    const loaded = await loadConnect(request, reply);
    if (!loaded) return reply;
    const person = await currentPerson(request);
    return reply.redirect(await services.consents.cancel(person, loaded.app, loaded.connect, actorOf(request)), 303);
  });

  server.post<{ Params: { connectId: string } }>('/gateway/:connectId/sign-out', async (request, reply) => {
    await services.sessions.endSession(request.cookies[sessionCookie.name]);
    reply.clearCookie(sessionCookie.name, { path: '/', secure: sessionCookie.secure });
    return reply.redirect(isUuid(request.params.connectId) ? `/gateway/${request.params.connectId}` : '/', 303);
  });
}
