import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConnectService } from '../../domain/connect/connect-service.js';
import { KeygateError } from '../../domain/errors.js';
import type { Services } from '../../domain/services.js';
import { checkAuthorizationRequest, type AuthorizationParams, type AuthorizationRequest, type PageProblem } from '../../protocols/oidc/authorization-request.js';
import { decisionResponse, errorResponse } from '../../protocols/oidc/authorization-response.js';
import type { ConnectDecision } from '../../domain/consent/consent-service.js';
import { isAddressAllowed } from '../../domain/protection/ip.js';
import type { SessionAuthentication } from '../../domain/sessions/session-service.js';
import type { PersonRef } from '../../domain/zones/zone-registry.js';
import { OIDC_PATHS } from '../../protocols/oidc/discovery.js';
import { OAuthError } from '../../protocols/oidc/errors.js';
import { storedRequestParams } from '../../protocols/oidc/request-params.js';
import { readIdTokenHint } from '../../protocols/oidc/id-token-hint.js';
import type { Form } from '../kit/forms.js';
import { messagePage } from '../kit/layout.js';
import type { PageContext } from '../kit/page-context.js';
import { sendPage } from '../kit/send-page.js';

/** Where a client's login_hint waits for the sign-in page of its request. */
export const LOGIN_HINT_COOKIE = 'keygate-login-hint';
const LOGIN_HINT_SECONDS = 10 * 60;

export type AuthorizeServices = Pick<Services, 'appDirectory' | 'authorizationRateLimit' | 'connects' | 'consents' | 'extranet' | 'metrics' | 'signingKeys'>;

const PAGE_MESSAGES: Readonly<Record<PageProblem, string>> = {
  unknown_client: 'oidc.unknownClient',
  missing_redirect_uri: 'oidc.missingRedirectUri',
  unregistered_redirect_uri: 'oidc.unregisteredRedirectUri',
  repeated_parameter: 'oidc.repeatedParameter',
};

/**
 * The OpenID Connect authorization endpoint (GET and POST, OpenID Connect Core §3.1.2.1).
 * An accepted request becomes the core's pending request and continues on the gateway's
 * own pages: the same sign-in, the same consent (one box per field, none ticked), the
 * same protections. A POST here comes from the client's site by design, so it is not
 * held to the pages' same-origin form rule; it changes nothing but opening a request.
 */
export async function authorizeRoutes(server: FastifyInstance, { context, services }: { context: PageContext; services: AuthorizeServices }): Promise<void> {
  const issuer = context.publicUrl;

  async function authorize(request: FastifyRequest, reply: FastifyReply, params: AuthorizationParams) {
    const check = await checkAuthorizationRequest(params, {
      findApp: (id) => services.appDirectory.findApp(id),
      readIdTokenHint: async (token) => readIdTokenHint(token, await services.signingKeys.keySet(), issuer),
    });
    if (check.kind === 'page') {
      const t = context.texts(request);
      return sendPage(reply, 400, messagePage(t, t.t('oidc.refusedTitle'), t.t(PAGE_MESSAGES[check.problem] as Parameters<typeof t.t>[0])));
    }
    if (check.kind === 'redirect') return reply.redirect(errorResponse(issuer, check.redirectUri, check.state, check.error), 303);
    const { request: asked } = check;
    const refuse = (error: OAuthError) => reply.redirect(errorResponse(issuer, asked.redirectUri, asked.state, error), 303);
    const signIn = { fresh: asked.prompt.has('login'), maxAgeSeconds: asked.maxAge };
    let silent: { person: PersonRef; authentication: SessionAuthentication } | null = null;
    if (asked.prompt.has('none')) {
      // No page may be shown: only a person signed in (recently enough) can be let in.
      const authentication = await context.sessionAuthentication(request);
      const person = await context.currentPerson(request);
      if (!person || !authentication || !ConnectService.acceptsSignIn({ signInAfter: services.connects.signInAfter(signIn) }, authentication.authTime)) {
        return refuse(new OAuthError('login_required', 'The person is not signed in (recently enough).'));
      }
      if (asked.app.protections.ip && !isAddressAllowed(context.clientAddress(request), asked.app.ipEntries)) {
        return refuse(new OAuthError('access_denied', 'This network may not use this app.'));
      }
      silent = { person, authentication };
    }
    // Every request opened counts against the client's own limit of authorizations (apart
    // from its API calls): nobody can fill the control plane with requests in its name.
    try {
      await services.authorizationRateLimit.admit(asked.app.id);
    } catch (error) {
      if (error instanceof KeygateError && error.code === 'too_many_requests') {
        return refuse(new OAuthError('temporarily_unavailable', 'Too many requests for this client; try again shortly.'));
      }
      throw error;
    }
    const { connectId, gateway } = await services.connects.openAuthorization(asked.app, {
      protocol: 'oidc',
      scope: asked.scope,
      redirectUri: asked.redirectUri,
      codeChallenge: asked.codeChallenge,
      signIn,
      params: storedRequestParams({
        state: asked.state, nonce: asked.nonce, offlineAccess: asked.offlineAccess, idTokenFields: asked.idTokenFields, promptNone: false,
        expectedUserIds: asked.expectedUserIds,
      }),
    });
    // The hints travel with the browser, never stored: a login hint is usually an email
    // address, which neither the pending request nor a URL (logs, history) may hold, so it
    // goes in a short-lived cookie for this request's pages alone.
    const target = new URL(gateway);
    if (asked.uiLocales.length > 0) target.searchParams.set('ui_locales', asked.uiLocales.join(' '));
    if (asked.loginHint) {
      reply.setCookie(LOGIN_HINT_COOKIE, asked.loginHint, {
        path: target.pathname, httpOnly: true, sameSite: 'lax', secure: issuer.startsWith('https:'), maxAge: LOGIN_HINT_SECONDS,
      });
    }
    if (!silent) return reply.redirect(target.href, 303);
    return answerSilently(request, reply, asked, connectId, silent);
  }

  /** Who the client will accept: the person of its ID token hint, among those `claims` names by `sub`. */
  const expectedPeople = (asked: AuthorizationRequest): readonly string[] | undefined => {
    const named = asked.expectedUserIds;
    if (!asked.hint) return named ?? undefined;
    return named === null ? [asked.hint.subject] : named.filter((id) => id === asked.hint!.subject);
  };

  /** prompt=none for a signed-in person: a code when all asked for is granted already, otherwise consent_required. */
  async function answerSilently(request: FastifyRequest, reply: FastifyReply, asked: AuthorizationRequest, connectId: string, silent: { person: PersonRef; authentication: SessionAuthentication }) {
    const connect = (await services.connects.findOpenConnect(connectId))!;
    const actor = { requestId: request.id };
    const answer = (decision: ConnectDecision) => reply.redirect(decisionResponse(issuer, asked.redirectUri, connectId, asked.state, decision), 303);
    if (!(await services.extranet.admits(asked.app, silent.person, request.id))) return answer(await services.consents.deny(silent.person, asked.app, connect, actor));
    const again = await services.consents.allowAgain(silent.person, asked.app, connect, actor, {
      from: context.clientAddress(request), authentication: silent.authentication, sessionId: context.publicSessionId(request),
      expectedUserIds: expectedPeople(asked),
    });
    if (!again.granted && again.otherPerson) {
      return reply.redirect(errorResponse(issuer, asked.redirectUri, asked.state, new OAuthError('login_required', 'Someone other than the person the client named is signed in.')), 303);
    }
    if (!again.granted) {
      return reply.redirect(errorResponse(issuer, asked.redirectUri, asked.state, new OAuthError('consent_required', 'The person has not granted everything asked for; send them without prompt=none.')), 303);
    }
    services.metrics.codeIssued('oidc');
    return answer({ result: 'authorized', code: again.code });
  }

  server.get(OIDC_PATHS.authorize, (request, reply) => authorize(request, reply, (request.query ?? {}) as AuthorizationParams));
  server.post<{ Body: Form }>(OIDC_PATHS.authorize, { config: { crossSiteForm: true } }, (request, reply) => authorize(request, reply, request.body ?? {}));
}
