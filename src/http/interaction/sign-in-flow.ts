import type { Services } from '../../domain/services.js';
import { randomBytes } from 'node:crypto';
import { isPersonName } from '../../domain/people/names.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normaliseEmail } from '../../domain/people/email.js';
import { normaliseNickname } from '../../domain/people/nickname.js';
import { checkNewPassword } from '../../domain/people/password-policy.js';
import { isCountryCode, isLanguageCode } from '../../domain/zones/countries.js';
import type { PersonRef } from '../../domain/zones/zone-registry.js';
import { challengeTokenOf, type SignInFlow } from '../../domain/authn/sign-in-flows.js';
import type { SignInMethodName } from '../../domain/authn/methods.js';
import { accountCounter, type ThrottleVerdict } from '../../domain/protection/sign-in-throttle.js';
import type { FieldErrors } from '../kit/form-controls.js';
import { formString, type Form } from '../kit/forms.js';
import type { PageContext } from '../kit/page-context.js';
import { browserLanguage } from '../kit/page-language.js';
import { passwordProblemText, type Texts } from '../kit/texts.js';
import type { SafeHtml } from '../kit/html.js';
import { sendPage, sendScriptedPage } from '../kit/send-page.js';
import {
  emailCodePage, emailCodeRequestPage, forgotPasswordPage, secondFactorPage, signInPage, signUpPage,
  type SignInPlace, type SignUpValues,
} from './sign-in-views.js';

const SECOND_FACTOR_SECONDS = 5 * 60;
/** As long as the flow lives (see `keygate.ts`): how long a person has to finish a sign-in. */
const SIGN_IN_FLOW_COOKIE_SECONDS = 30 * 60;
/** Where a standalone sign-in returns when it began at `?next=` (see registerStandaloneSignIn). */
const nextCookieName = (https: boolean) => (https ? '__Host-keygate-next' : 'keygate-next');
const DEVICE_COOKIE_SECONDS = 400 * 24 * 60 * 60;

/** A place to sign in, resolved from the request (null: a page saying why not was sent). */
export interface ResolvedPlace {
  readonly place: SignInPlace;
  /** Where a signed-in person goes next. */
  readonly continueUrl: string;
  /** The app's return URL on the gateway: the page's CSP lets forms end there. */
  readonly returnUrl?: string;
}

export interface SignInFlowOptions {
  /** The route prefix, e.g. `/gateway/:connectId` or `/dashboard`. */
  readonly prefix: string;
  resolve(request: FastifyRequest, reply: FastifyReply): Promise<ResolvedPlace | null>;
}

/** An account is named by its email or its nickname; throttles count the canonical form. */
const accountKey = (identifier: string) => normaliseEmail(identifier) ?? normaliseNickname(identifier) ?? identifier.trim().toLowerCase();

/**
 * The steps of signing in, shared by the gateway, the dashboard and the account centre:
 * password, sign-up with an emailed confirmation code, passwordless email code, forgotten
 * password and the second factor. What a sign-in has done so far is a flow in the domain
 * (`domain/authn/sign-in-flows.ts`), bound to the surface it started on (`place.base`);
 * the browser holds its token in an HttpOnly cookie. Every answer about an email is the
 * same whether or not an account exists.
 */
/** What the sign-in steps use. */
export type SignInServices = Pick<Services, 'accounts' | 'challenges' | 'metrics' | 'passwords' | 'personDirectory' | 'secondFactor' | 'signInFlows' | 'signInThrottle'>;

export function registerSignInFlow(server: FastifyInstance, context: PageContext, services: SignInServices, options: SignInFlowOptions): void {
  const { prefix } = options;
  const https = context.publicUrl.startsWith('https:');
  const flowCookie = https ? '__Host-keygate-sign-in' : 'keygate-sign-in';
  const deviceCookie = https ? '__Host-keygate-device' : 'keygate-device';
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: https };

  const show = (reply: FastifyReply, resolved: ResolvedPlace, status: number, page: string) =>
    sendPage(reply, status, page, resolved.returnUrl, { script: resolved.place.standalone });
  const holdFlow = (reply: FastifyReply, flow: SignInFlow) =>
    reply.setCookie(flowCookie, flow.token, { ...cookieOptions, maxAge: SIGN_IN_FLOW_COOKIE_SECONDS });
  /** The sign-in this browser has under way on this surface, if any. */
  const heldFlow = (request: FastifyRequest, resolved: ResolvedPlace) => services.signInFlows.find(request.cookies[flowCookie], resolved.place.base);
  /** The token of the challenge a step of the held flow waits on (a token that matches nothing when there is no flow). */
  const stepToken = (flow: SignInFlow | null, purpose: 'sign_up' | 'sign_in_code' | 'second_factor') => (flow ? challengeTokenOf(flow, purpose) : '');
  /** The held flow, or a new one the browser now holds, for a step that sends a challenge. */
  async function flowFor(request: FastifyRequest, reply: FastifyReply, resolved: ResolvedPlace): Promise<SignInFlow> {
    const flow = await services.signInFlows.resume(request.cookies[flowCookie], resolved.place.base);
    holdFlow(reply, flow);
    return flow;
  }
  const clientAddress = (request: FastifyRequest) => context.clientAddress(request) ?? request.socket.remoteAddress ?? 'unknown';

  /** Answers 429 with Retry-After when a limit refused the attempt. */
  function refused(reply: FastifyReply, resolved: ResolvedPlace, verdict: ThrottleVerdict, page: (error: string) => string): boolean {
    if (verdict.allowed) return false;
    reply.header('Retry-After', String(verdict.retryAfterSeconds));
    show(reply, resolved, 429, page(resolved.place.t.t('signIn.tooManyAttempts', { seconds: verdict.retryAfterSeconds })));
    return true;
  }

  /**
   * Counts an attempt to prove who one is by `method` (a password, a second factor, an
   * emailed code) on the account, whichever of its identifiers was used, and (a first step)
   * from this address. The attempt that goes over pauses the account and tells its person.
   * An identifier nobody holds is counted under its own name, so the answers are the same.
   */
  async function throttled(request: FastifyRequest, reply: FastifyReply, resolved: ResolvedPlace, method: SignInMethodName, account: PersonRef | string, page: (error: string) => string, step: 'first' | 'later' = 'first'): Promise<boolean> {
    const key = typeof account === 'string' ? account : accountCounter(account);
    const verdict = step === 'first' ? await services.signInThrottle.admit(clientAddress(request), key) : await services.signInThrottle.admitOnAccount(key);
    if (!verdict.allowed && verdict.pauseStarted && typeof account !== 'string') {
      services.accounts.announcePause(account, Math.ceil(verdict.retryAfterSeconds / 60), request.id);
    }
    if (!verdict.allowed) services.metrics.signIn(method, 'throttled');
    return refused(reply, resolved, verdict, page);
  }

  /** Answers an attempt whose password or code was not right (counted by method, never by whom). */
  function failed(reply: FastifyReply, resolved: ResolvedPlace, method: SignInMethodName, status: number, page: string) {
    services.metrics.signIn(method, 'failed');
    return show(reply, resolved, status, page);
  }

  /**
   * Whom an emailed code's guesses count against: the account the pending challenge
   * belongs to, so that a fresh challenge (a new sign-in, a new browser) gives no fresh
   * guesses; without one (an address with no account, a decoy) the flow's own counter.
   */
  async function codeAccount(token: string, purpose: 'sign_up' | 'sign_in_code'): Promise<PersonRef | string> {
    return (await services.challenges.peek(token, purpose)) ?? `code:${token}`;
  }

  /** Counts a request that may send mail from this address (the account's mail budget is counted where the mail is sent). */
  async function mailThrottled(request: FastifyRequest, reply: FastifyReply, resolved: ResolvedPlace, page: (error: string) => string): Promise<boolean> {
    return refused(reply, resolved, await services.signInThrottle.admitMailRequest(clientAddress(request)), page);
  }

  const confirmationPage = (resolved: ResolvedPlace, error?: string) => emailCodePage(resolved.place, {
    action: 'confirm',
    title: resolved.place.t.t('emailCode.checkEmail'),
    message: resolved.place.t.t('emailCode.signUpSent'),
    error,
  });

  const signInCodePage = (resolved: ResolvedPlace, error?: string) => emailCodePage(resolved.place, {
    action: 'email-code/confirm',
    title: resolved.place.t.t('emailCode.checkEmail'),
    message: resolved.place.t.t('emailCode.signInSent'),
    error,
  });

  /**
   * The person proved who they are by `method`. The flow says what follows: an
   * unconfirmed address gets a code first, an enrolled second factor is asked for next;
   * otherwise a fresh session starts, recording when and how the person signed in.
   */
  async function finish(request: FastifyRequest, reply: FastifyReply, resolved: ResolvedPlace, flow: SignInFlow | null, person: PersonRef, method: SignInMethodName) {
    services.metrics.signIn(method, 'proved');
    const state = await services.personDirectory.accountState(person);
    if (!state) return show(reply, resolved, 401, signInPage(resolved.place, { error: resolved.place.t.t('signIn.accountGone') }));
    const next = await services.signInFlows.proved(flow, resolved.place.base, person, method, state);
    if (next.step !== 'complete') {
      holdFlow(reply, next.flow);
      if (next.step === 'confirm_email') {
        await services.accounts.resendConfirmation(person, request.id, challengeTokenOf(next.flow, 'sign_up'));
        return show(reply, resolved, 200, confirmationPage(resolved));
      }
      await services.challenges.create(person, 'second_factor', {
        token: challengeTokenOf(next.flow, 'second_factor'), ttlSeconds: SECOND_FACTOR_SECONDS, withCode: false, requestId: request.id,
      });
      return reply.redirect(`${resolved.place.base}/second-factor`, 303);
    }
    // Only a whole sign-in clears the account's count: a right password alone does not
    // reopen the guesses at the second factor.
    await services.signInThrottle.recordSuccess(accountCounter(person));
    reply.clearCookie(flowCookie, cookieOptions);
    reply.clearCookie(nextCookieName(https), cookieOptions);
    await context.startSession(request, reply, person, next.authentication);
    let device = request.cookies[deviceCookie];
    if (!device || !/^[A-Za-z0-9_-]{43}$/.test(device)) {
      device = randomBytes(32).toString('base64url');
      reply.setCookie(deviceCookie, device, { ...cookieOptions, maxAge: DEVICE_COOKIE_SECONDS });
    }
    await services.accounts.noteDevice(person, device, request.id);
    return reply.redirect(resolved.continueUrl, 303);
  }

  type Route = { Body: Form };

  server.post<Route>(`${prefix}/sign-in`, async (request, reply) => {
    const resolved = await options.resolve(request, reply);
    if (!resolved) return reply;
    const form = request.body ?? {};
    const identifier = formString(form, 'email', 320) ?? '';
    const password = formString(form, 'password', 256) ?? '';
    // The account is looked up first so that its attempts count on it, whichever identifier is typed.
    const account = identifier && password ? await services.personDirectory.findAccount(identifier) : null;
    if (await throttled(request, reply, resolved, 'password', account?.person ?? accountKey(identifier), (error) => signInPage(resolved.place, { identifier, error }))) return reply;
    const person = identifier && password ? await services.passwords.signInWithPassword(account, password, { requestId: request.id }) : null;
    if (!person) return failed(reply, resolved, 'password', 401, signInPage(resolved.place, { identifier, error: resolved.place.t.t('signIn.wrongPassword') }));
    return finish(request, reply, resolved, await heldFlow(request, resolved), person, 'password');
  });

  server.post<Route>(`${prefix}/sign-up`, async (request, reply) => {
    const resolved = await options.resolve(request, reply);
    if (!resolved) return reply;
    const form = request.body ?? {};
    const values = {
      email: (formString(form, 'email', 320) ?? '').trim(),
      firstname: (formString(form, 'firstname', 200) ?? '').trim(),
      surname: (formString(form, 'surname', 200) ?? '').trim(),
      country: (formString(form, 'country', 8) ?? '').trim().toUpperCase(),
      language: (formString(form, 'language', 8) ?? '').trim().toLowerCase(),
    } satisfies SignUpValues;
    const password = formString(form, 'password', 1024) ?? '';
    const { t } = resolved.place;
    const errors: FieldErrors = {};
    if (!normaliseEmail(values.email)) errors.email = t.t('signUp.invalidEmail');
    const passwordProblem = checkNewPassword(password, values);
    if (passwordProblem) errors.password = passwordProblemText(t, passwordProblem);
    if (!isPersonName(values.firstname)) errors.firstname = t.t('signUp.invalidFirstname');
    if (!isPersonName(values.surname)) errors.surname = t.t('signUp.invalidSurname');
    if (!isCountryCode(values.country)) errors.country = t.t('signUp.chooseCountry');
    if (!isLanguageCode(values.language)) errors.language = t.t('signUp.chooseLanguage');
    if (Object.keys(errors).length > 0) return show(reply, resolved, 400, signUpPage(resolved.place, { values, errors }));
    if (await mailThrottled(request, reply, resolved, (error) => signUpPage(resolved.place, { values, errors: { form: error } }))) return reply;
    const flow = await flowFor(request, reply, resolved);
    await services.accounts.beginSignUp({ ...values, password }, { requestId: request.id }, challengeTokenOf(flow, 'sign_up'));
    return show(reply, resolved, 200, confirmationPage(resolved));
  });

  server.post<Route>(`${prefix}/confirm`, async (request, reply) => {
    const resolved = await options.resolve(request, reply);
    if (!resolved) return reply;
    const flow = await heldFlow(request, resolved);
    const token = stepToken(flow, 'sign_up');
    if (await throttled(request, reply, resolved, 'email_code', await codeAccount(token, 'sign_up'), (error) => confirmationPage(resolved, error), 'later')) return reply;
    const person = await services.accounts.confirmSignUp(token, formString(request.body ?? {}, 'code', 32) ?? '', { requestId: request.id });
    if (!person) return failed(reply, resolved, 'email_code', 400, confirmationPage(resolved, resolved.place.t.t('emailCode.wrong')));
    return finish(request, reply, resolved, flow, person, 'email_code');
  });

  server.get(`${prefix}/email-code`, async (request, reply) => {
    const resolved = await options.resolve(request, reply);
    if (!resolved) return reply;
    return show(reply, resolved, 200, emailCodeRequestPage(resolved.place));
  });

  server.post<Route>(`${prefix}/email-code`, async (request, reply) => {
    const resolved = await options.resolve(request, reply);
    if (!resolved) return reply;
    const identifier = formString(request.body ?? {}, 'email', 320) ?? '';
    if (await mailThrottled(request, reply, resolved, (error) => emailCodeRequestPage(resolved.place, { error }))) return reply;
    const flow = await flowFor(request, reply, resolved);
    services.accounts.requestSignInCode(identifier, request.id, challengeTokenOf(flow, 'sign_in_code'));
    return show(reply, resolved, 200, signInCodePage(resolved));
  });

  server.post<Route>(`${prefix}/email-code/confirm`, async (request, reply) => {
    const resolved = await options.resolve(request, reply);
    if (!resolved) return reply;
    const flow = await heldFlow(request, resolved);
    const token = stepToken(flow, 'sign_in_code');
    if (await throttled(request, reply, resolved, 'email_code', await codeAccount(token, 'sign_in_code'), (error) => signInCodePage(resolved, error), 'later')) return reply;
    const person = await services.accounts.signInWithCode(token, formString(request.body ?? {}, 'code', 32) ?? '');
    if (!person) return failed(reply, resolved, 'email_code', 400, signInCodePage(resolved, resolved.place.t.t('emailCode.wrong')));
    return finish(request, reply, resolved, flow, person, 'email_code');
  });

  server.get(`${prefix}/forgot`, async (request, reply) => {
    const resolved = await options.resolve(request, reply);
    if (!resolved) return reply;
    return show(reply, resolved, 200, forgotPasswordPage(resolved.place));
  });

  server.post<Route>(`${prefix}/forgot`, async (request, reply) => {
    const resolved = await options.resolve(request, reply);
    if (!resolved) return reply;
    const identifier = formString(request.body ?? {}, 'email', 320) ?? '';
    if (await mailThrottled(request, reply, resolved, () => forgotPasswordPage(resolved.place))) return reply;
    services.accounts.requestPasswordReset(identifier, request.id);
    return show(reply, resolved, 200, forgotPasswordPage(resolved.place, { sent: true }));
  });

  server.get(`${prefix}/second-factor`, async (request, reply) => {
    const resolved = await options.resolve(request, reply);
    if (!resolved) return reply;
    if (!(await services.challenges.peek(stepToken(await heldFlow(request, resolved), 'second_factor'), 'second_factor'))) return reply.redirect(resolved.place.standalone ? `${resolved.place.base}/sign-in` : resolved.place.base, 303);
    return show(reply, resolved, 200, secondFactorPage(resolved.place));
  });

  server.post<Route>(`${prefix}/second-factor`, async (request, reply) => {
    const resolved = await options.resolve(request, reply);
    if (!resolved) return reply;
    const flow = await heldFlow(request, resolved);
    const token = stepToken(flow, 'second_factor');
    const person = await services.challenges.peek(token, 'second_factor');
    if (!person) return show(reply, resolved, 400, signInPage(resolved.place, { error: resolved.place.t.t('signIn.tooLong') }));
    if (await throttled(request, reply, resolved, 'totp', person, (error) => secondFactorPage(resolved.place, { error }), 'later')) return reply;
    const code = formString(request.body ?? {}, 'code', 64) ?? '';
    if (!(await services.secondFactor.verify(person, code, { requestId: request.id }))) {
      await services.challenges.countFailure(token, 'second_factor');
      return failed(reply, resolved, 'totp', 400, secondFactorPage(resolved.place, { error: resolved.place.t.t('secondFactor.wrong') }));
    }
    const redeemed = await services.challenges.redeemToken(token, 'second_factor');
    if (!redeemed) return show(reply, resolved, 400, signInPage(resolved.place, { error: resolved.place.t.t('signIn.tooLong') }));
    return finish(request, reply, resolved, flow, redeemed, 'totp');
  });
}

/** A surface of its own that a person signs in to (the dashboard, the account centre), not an app's request. */
export interface StandaloneSurface {
  /** Its path, e.g. `/dashboard`: the sign-in pages live under it and its flows return to it. */
  readonly base: string;
  readonly lead: (t: Texts) => SafeHtml;
  /** Where a signed-in person lands. */
  readonly home: string;
}

/**
 * The sign-in, sign-up and sign-out pages of a standalone surface, and the steps of its
 * sign-in: every surface has the same ones and differs only in where they return.
 */
export function registerStandaloneSignIn(server: FastifyInstance, context: PageContext, services: SignInServices, surface: StandaloneSurface): void {
  const https = context.publicUrl.startsWith('https:');
  const nextCookie = nextCookieName(https);
  /**
   * Where a sign-in that began at `?next=` returns: only a page of this surface (an
   * invitation link opened signed out), never another site, so the parameter cannot
   * send a person anywhere they could not already go.
   */
  const pageOfSurface = (path: unknown): string | null => {
    if (typeof path !== 'string' || !path.startsWith(`${surface.base}/`) || /[\\\s]|\/\/|%2f|%5c/i.test(path) || path.length > 512) return null;
    return URL.canParse(path, 'http://keygate.invalid') && new URL(path, 'http://keygate.invalid').pathname === path ? path : null;
  };
  const continueUrlOf = (request: FastifyRequest) => pageOfSurface(request.cookies[nextCookie]) ?? surface.home;
  const place = (request: FastifyRequest, reply: FastifyReply): SignInPlace => {
    const t = context.texts(request);
    return { base: surface.base, lead: surface.lead(t), cancellable: false, standalone: true, csrf: context.csrf.tokenFor(request, reply), t };
  };
  const send = (reply: FastifyReply, page: string) => sendScriptedPage(reply, 200, page);
  server.get<{ Querystring: { next?: unknown } }>(`${surface.base}/sign-in`, async (request, reply) => {
    const next = pageOfSurface(request.query.next);
    if (await context.currentPerson(request)) return reply.redirect(next ?? surface.home, 303);
    if (next) reply.setCookie(nextCookie, next, { path: '/', httpOnly: true, sameSite: 'lax', secure: https, maxAge: SIGN_IN_FLOW_COOKIE_SECONDS });
    return send(reply, signInPage(place(request, reply)));
  });
  server.get(`${surface.base}/sign-up`, async (request, reply) => send(reply, signUpPage(place(request, reply), { browserLanguage: browserLanguage(request) })));
  registerSignInFlow(server, context, services, {
    prefix: surface.base,
    resolve: async (request, reply) => ({ place: place(request, reply), continueUrl: continueUrlOf(request) }),
  });
  server.post(`${surface.base}/sign-out`, async (request, reply) => {
    await context.endSession(request, reply, { signOut: true });
    return reply.redirect(`${surface.base}/sign-in`, 303);
  });
}
