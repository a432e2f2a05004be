import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isUuid } from '../../domain/apps/apps-service.js';
import { isFieldCode } from '../../domain/consent/fields.js';
import { normaliseEmail } from '../../domain/people/email.js';
import { checkNewPassword } from '../../domain/people/password-policy.js';
import { isAddressAllowed } from '../../domain/protection/ip.js';
import { isReturnUrlAllowed } from '../../domain/protection/return-url.js';
import type { PersonRef } from '../../domain/zones/zone-registry.js';
import { isCountryCode, isLanguageCode } from '../../domain/zones/countries.js';
import { formString, formStrings, type Form, type PageContext } from '../web/web-pages.js';
import { sendPage } from './pages.js';
import { consentPage, messagePage, signInPage, signUpPage, type FieldErrors, type GatewayPage, type SignUpView } from './views.js';

// Names: printable text without control characters or markup-significant angle brackets.
const NAME = /^[^\p{Cc}\p{Cf}<>]{1,100}$/u;

export type SignInAttempt =
  | { readonly ok: true; readonly person: PersonRef }
  | { readonly ok: false; readonly status: 401 | 429; readonly email: string; readonly error: string; readonly retryAfterSeconds?: number };

/** Checks a sign-in form, throttled per client address and per account. */
export async function attemptSignIn(context: PageContext, request: FastifyRequest, form: Form): Promise<SignInAttempt> {
  const { services } = context;
  const email = formString(form, 'email', 320) ?? '';
  const password = formString(form, 'password', 256) ?? '';
  const account = normaliseEmail(email) ?? email.trim().toLowerCase();
  const verdict = await services.signInThrottle.admit(context.clientAddress(request) ?? request.socket.remoteAddress ?? 'unknown', account);
  if (!verdict.allowed) {
    return { ok: false, status: 429, email, retryAfterSeconds: verdict.retryAfterSeconds, error: `Too many attempts. Wait ${verdict.retryAfterSeconds} seconds and try again.` };
  }
  const person = email && password ? await services.people.authenticate(email, password, { requestId: request.id }) : null;
  await (person ? services.signInThrottle.recordSuccess(account) : services.signInThrottle.recordFailure(account));
  if (!person) return { ok: false, status: 401, email, error: 'The email or password is incorrect.' };
  return { ok: true, person };
}

export type SignUpAttempt =
  | { readonly ok: true; readonly person: PersonRef }
  | { readonly ok: false; readonly values: NonNullable<SignUpView['values']>; readonly errors: FieldErrors };

/** Validates a sign-up form and creates the account in the person's zone. */
export async function attemptSignUp(context: PageContext, request: FastifyRequest, form: Form): Promise<SignUpAttempt> {
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
  if (Object.keys(errors).length > 0) return { ok: false, values, errors };
  const result = await context.services.people.signUp({ ...values, password }, { requestId: request.id });
  if (!result.ok) {
    const message = result.reason === 'email_taken'
      ? 'An account cannot be created with this email. If it is yours, sign in instead.'
      : 'Enter a valid email address.';
    return { ok: false, values, errors: { email: message } };
  }
  return { ok: true, person: result.person };
}

/** The gateway: the pages a person signs in and decides on an app's request through. */
export function gatewayRoutes(server: FastifyInstance, context: PageContext): void {
  const { services, csrf } = context;
  const actorOf = (request: FastifyRequest) => ({ requestId: request.id });
  const currentPerson = context.currentPerson;

  /**
   * The open connect request named in the URL with its app, or a page saying why not.
   * The app's protections apply here too: its IP list to the visitor, and its return
   * URLs as they are now (a URL removed since the request was opened is not used).
   */
  async function loadConnect(request: FastifyRequest<{ Params: { connectId: string } }>, reply: FastifyReply): Promise<GatewayPage | null> {
    const { connectId } = request.params;
    const connect = isUuid(connectId) ? await services.connects.findOpenConnect(connectId.toLowerCase()) : null;
    const app = connect ? await services.apps.findApp(connect.appId) : null;
    if (!connect || !app) {
      sendPage(reply, 404, messagePage('Sign-in request not found', 'This sign-in request does not exist, has expired or has already been completed. Go back to the app and start again.'));
      return null;
    }
    if (app.protections.ip && !isAddressAllowed(context.clientAddress(request), app.ipEntries)) {
      sendPage(reply, 403, messagePage('Not available from here', `${app.name} can only be signed in to from its own network.`));
      return null;
    }
    if (app.protections.returnUrl && !isReturnUrlAllowed(connect.returnUrl, app.returnUrls)) {
      sendPage(reply, 403, messagePage('Sign-in request refused', `${app.name} no longer accepts this sign-in request. Go back to the app and start again.`));
      return null;
    }
    return { connect, app, csrf: csrf.tokenFor(request, reply) };
  }

  /** A private app the person may not use ends the request with `denied`. */
  async function denyIfNotAdmitted(request: FastifyRequest, reply: FastifyReply, loaded: GatewayPage, person: PersonRef): Promise<boolean> {
    if (await services.extranet.admits(loaded.app, person, request.id)) return false;
    reply.redirect(await services.consents.deny(person, loaded.app, loaded.connect, actorOf(request)), 303);
    return true;
  }

  server.get<{ Params: { connectId: string }; Querystring: { signup?: string } }>('/gateway/:connectId', async (request, reply) => {
    const loaded = await loadConnect(request, reply);
    if (!loaded) return reply;
    const { connect } = loaded;
    const person = await currentPerson(request);
    if (person) {
      if (await denyIfNotAdmitted(request, reply, loaded, person)) return reply;
      return sendPage(reply, 200, consentPage(loaded), connect.returnUrl);
    }
    const page = request.query.signup === '1' ? signUpPage(loaded) : signInPage(loaded);
    return sendPage(reply, 200, page, connect.returnUrl);
  });

  server.post<{ Params: { connectId: string }; Body: Form }>('/gateway/:connectId/sign-in', async (request, reply) => {
    const loaded = await loadConnect(request, reply);
    if (!loaded) return reply;
    const attempt = await attemptSignIn(context, request, request.body ?? {});
    if (!attempt.ok) {
      if (attempt.retryAfterSeconds !== undefined) reply.header('Retry-After', String(attempt.retryAfterSeconds));
      return sendPage(reply, attempt.status, signInPage({ ...loaded, email: attempt.email, error: attempt.error }), loaded.connect.returnUrl);
    }
    await context.startSession(request, reply, attempt.person);
    return reply.redirect(`/gateway/${loaded.connect.id}`, 303);
  });

  server.post<{ Params: { connectId: string }; Body: Form }>('/gateway/:connectId/sign-up', async (request, reply) => {
    const loaded = await loadConnect(request, reply);
    if (!loaded) return reply;
    const attempt = await attemptSignUp(context, request, request.body ?? {});
    if (!attempt.ok) return sendPage(reply, 400, signUpPage({ ...loaded, values: attempt.values, errors: attempt.errors }), loaded.connect.returnUrl);
    await context.startSession(request, reply, attempt.person);
    return reply.redirect(`/gateway/${loaded.connect.id}`, 303);
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
    if (await denyIfNotAdmitted(request, reply, loaded, person)) return reply;
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
    await context.endSession(request, reply);
    return reply.redirect(isUuid(request.params.connectId) ? `/gateway/${request.params.connectId}` : '/', 303);
  });
}
