import type { Services } from '../../domain/services.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isUuid } from '../../domain/apps/app.js';
import { isFieldCode } from '../../domain/consent/fields.js';
import { isAddressAllowed } from '../../domain/protection/ip.js';
import { ConnectService } from '../../domain/connect/connect-service.js';
import { answerRedirect, expectedUserIds, isAnswerTargetAllowed } from './answer.js';
import { LOGIN_HINT_COOKIE } from '../oidc/authorize.js';
import type { PersonRef } from '../../domain/zones/zone-registry.js';
import { registerSignInFlow, type SignInServices } from '../interaction/sign-in-flow.js';
import { signInPage, signUpPage, type SignInPlace } from '../interaction/sign-in-views.js';
import { formString, formStrings, type Form } from '../kit/forms.js';
import { html } from '../kit/html.js';
import { messagePage } from '../kit/layout.js';
import type { PageContext } from '../kit/page-context.js';
import { browserLanguage } from '../kit/page-language.js';
import { sendPage } from '../kit/send-page.js';
import { consentPage, invitationPage, type GatewayPage } from './views.js';
import { appHome } from '../../domain/apps/extranet.js';

/**
 * The gateway: the pages a person signs in and decides on an app's request through.
 * No guard hook: a visitor without a session is shown the sign-in step of the request.
 */
/** What the gateway uses: the request and its decision, private lists, and the sign-in steps. */
export type GatewayServices = Pick<Services, 'appDirectory' | 'connects' | 'consents' | 'extranet' | 'metrics'> & SignInServices;

export async function gatewayPages(server: FastifyInstance, { context, services }: { context: PageContext; services: GatewayServices }): Promise<void> {
  const { csrf } = context;
  const actorOf = (request: FastifyRequest) => ({ requestId: request.id });
  const currentPerson = context.currentPerson;
  const answer = (loaded: GatewayPage, decision: Parameters<typeof answerRedirect>[3]) => answerRedirect(context.publicUrl, loaded.app, loaded.connect, decision);
  /** Whether this browser's sign-in is recent enough for the request (OpenID Connect `prompt=login`, `max_age`). */
  const signedInRecently = async (request: FastifyRequest, loaded: GatewayPage) =>
    ConnectService.acceptsSignIn(loaded.connect, (await context.sessionAuthentication(request))?.authTime ?? null);

  // Where a private app's invitation mail links to: the app's name and its registered site.
  server.get<{ Params: { appId: string } }>('/invitations/:appId', async (request, reply) => {
    const { appId } = request.params;
    const app = isUuid(appId) ? await services.appDirectory.findApp(appId) : null;
    const t = context.texts(request);
    if (!app || !app.private) {
      return sendPage(reply, 404, messagePage(t, t.t('invitation.notFoundTitle'), t.t('invitation.notFound')));
    }
    return sendPage(reply, 200, invitationPage(t, { appName: app.name, appHome: appHome(app) }));
  });

  /**
   * The open connect request named in the URL with its app, or a page saying why not.
   * The app's protections apply here too: its IP list to the visitor, and its return
   * URLs as they are now (a URL removed since the request was opened is not used).
   */
  async function loadConnect(request: FastifyRequest<{ Params: { connectId: string } }>, reply: FastifyReply): Promise<GatewayPage | null> {
    const { connectId } = request.params;
    const connect = isUuid(connectId) ? await services.connects.findOpenConnect(connectId.toLowerCase()) : null;
    const app = connect ? await services.appDirectory.findApp(connect.appId) : null;
    const t = context.texts(request);
    if (!connect || !app) {
      sendPage(reply, 404, messagePage(t, t.t('gateway.notFoundTitle'), t.t('gateway.notFound')));
      return null;
    }
    if (app.protections.ip && !isAddressAllowed(context.clientAddress(request), app.ipEntries)) {
      sendPage(reply, 403, messagePage(t, t.t('gateway.networkTitle'), t.t('gateway.network', { app: app.name })));
      return null;
    }
    if (!isAnswerTargetAllowed(app, connect)) {
      sendPage(reply, 403, messagePage(t, t.t('gateway.refusedTitle'), t.t('gateway.refused', { app: app.name })));
      return null;
    }
    return { connect, app, csrf: csrf.tokenFor(request, reply), t };
  }

  const placeOf = (loaded: GatewayPage): SignInPlace => ({
    base: `/gateway/${loaded.connect.id}`,
    lead: loaded.t.rich('gateway.lead', { app: loaded.app.name, strong: (chunks) => html`<strong>${chunks}</strong>` }),
    cancellable: true,
    standalone: false,
    csrf: loaded.csrf,
    t: loaded.t,
  });

  /**
   * A private app the person may not use, or a request the app made for someone else (an
   * OpenID Connect `claims` `sub` value), ends the request with `denied`.
   */
  async function denyIfNotAdmitted(request: FastifyRequest, reply: FastifyReply, loaded: GatewayPage, person: PersonRef): Promise<boolean> {
    const expected = expectedUserIds(loaded.connect);
    const otherPerson = expected !== null && !expected.includes((await services.consents.userIdFor(person, loaded.app.id)) ?? '');
    if (!otherPerson && (await services.extranet.admits(loaded.app, person, request.id))) return false;
    const reason = otherPerson ? 'connect.other_person' : 'private_app.denied';
    reply.redirect(answer(loaded, await services.consents.deny(person, loaded.app, loaded.connect, actorOf(request), reason)), 303);
    return true;
  }

  server.get<{ Params: { connectId: string }; Querystring: { signup?: string } }>('/gateway/:connectId', async (request, reply) => {
    const loaded = await loadConnect(request, reply);
    if (!loaded) return reply;
    const { connect } = loaded;
    const person = await currentPerson(request);
    if (person && await signedInRecently(request, loaded)) {
      if (await denyIfNotAdmitted(request, reply, loaded, person)) return reply;
      return sendPage(reply, 200, consentPage(loaded), connect.returnUrl);
    }
    const place = placeOf(loaded);
    // An OpenID Connect client's login_hint prefills the identifier (an email or a nickname).
    const cookie = request.cookies[LOGIN_HINT_COOKIE];
    const hint = cookie !== undefined && cookie.length <= 320 ? cookie : undefined;
    const page = request.query.signup === '1'
      ? signUpPage(place, { browserLanguage: browserLanguage(request), ...(hint?.includes('@') ? { values: { email: hint } } : {}) })
      : signInPage(place, { identifier: hint });
    return sendPage(reply, 200, page, connect.returnUrl);
  });

  registerSignInFlow(server, context, services, {
    prefix: '/gateway/:connectId',
    async resolve(request, reply) {
      const loaded = await loadConnect(request as FastifyRequest<{ Params: { connectId: string } }>, reply);
      if (!loaded) return null;
      const base = `/gateway/${loaded.connect.id}`;
      return { place: placeOf(loaded), continueUrl: base, returnUrl: loaded.connect.returnUrl };
    },
  });

  server.post<{ Params: { connectId: string }; Body: Form }>('/gateway/:connectId/consent', async (request, reply) => {
    const loaded = await loadConnect(request, reply);
    if (!loaded) return reply;
    const { connect, app } = loaded;
    const person = await currentPerson(request);
    const form = request.body ?? {};
    const decision = formString(form, 'decision', 16);
    if (decision === 'cancel') {
      return reply.redirect(answer(loaded, await services.consents.cancel(person, app, connect, actorOf(request), context.clientAddress(request))), 303);
    }
    if (!person || !(await signedInRecently(request, loaded))) return reply.redirect(`/gateway/${connect.id}`, 303);
    if (await denyIfNotAdmitted(request, reply, loaded, person)) return reply;
    if (decision !== 'allow') {
      return sendPage(reply, 400, consentPage({ ...loaded, error: loaded.t.t('consent.chooseDecision') }), connect.returnUrl);
    }
    const granted = formStrings(form, 'fields').filter(isFieldCode);
    const outcome = await services.consents.allow(person, app, connect, granted, actorOf(request), {
      from: context.clientAddress(request), authentication: await context.sessionAuthentication(request), sessionId: context.publicSessionId(request),
    });
    if (!outcome.ok) {
      return sendPage(reply, 400, consentPage({
        ...loaded,
        checked: granted,
        error: loaded.t.t('consent.requiredMissing', { app: app.name }),
      }), connect.returnUrl);
    }
    services.metrics.codeIssued(connect.protocol);
    return reply.redirect(answer(loaded, outcome), 303);
  });

  server.post<{ Params: { connectId: string } }>('/gateway/:connectId/cancel', async (request, reply) => {
    const loaded = await loadConnect(request, reply);
    if (!loaded) return reply;
    const person = await currentPerson(request);
    return reply.redirect(answer(loaded, await services.consents.cancel(person, loaded.app, loaded.connect, actorOf(request), context.clientAddress(request))), 303);
  });

  server.post<{ Params: { connectId: string } }>('/gateway/:connectId/sign-out', async (request, reply) => {
    await context.endSession(request, reply, { signOut: true });
    return reply.redirect(isUuid(request.params.connectId) ? `/gateway/${request.params.connectId}` : '/', 303);
  });
}
