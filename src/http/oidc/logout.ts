import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../domain/services.js';
import { authorizationResponse } from '../../protocols/oidc/authorization-response.js';
import { checkLogoutRequest, type LogoutProblem, type LogoutRequest } from '../../protocols/oidc/logout-request.js';
import { OIDC_PATHS } from '../../protocols/oidc/discovery.js';
import { postForm } from '../kit/form-controls.js';
import type { Form } from '../kit/forms.js';
import { html } from '../kit/html.js';
import { layout, messagePage } from '../kit/layout.js';
import type { PageContext } from '../kit/page-context.js';
import { sendPage } from '../kit/send-page.js';
import type { Texts } from '../kit/texts.js';

export type LogoutServices = Pick<Services, 'appDirectory' | 'signingKeys'>;

const PROBLEMS: Readonly<Record<LogoutProblem, 'oidc.logout.invalidHint' | 'oidc.logout.unregistered'>> = {
  invalid_hint: 'oidc.logout.invalidHint',
  client_mismatch: 'oidc.logout.invalidHint',
  unregistered_redirect: 'oidc.logout.unregistered',
  repeated_parameter: 'oidc.logout.invalidHint',
};

function confirmPage(t: Texts, csrf: string, request: LogoutRequest): string {
  const hidden = (name: string, value: string | null | undefined) => (value ? html`<input type="hidden" name="${name}" value="${value}">` : html``);
  const title = t.t('oidc.logout.title');
  return layout(t, title, html`<h1>${title}</h1>
<p class="lead">${request.app ? t.t('oidc.logout.leadApp', { app: request.app.name }) : t.t('oidc.logout.lead')}</p>
${postForm({ action: `${OIDC_PATHS.endSession}/confirm`, csrf, submit: t.t('oidc.logout.confirm') }, html`${hidden('client_id', request.app?.id)}
${hidden('post_logout_redirect_uri', request.postLogoutRedirectUri)}
${hidden('state', request.state)}`)}
<p><a href="/">${t.t('oidc.logout.stay')}</a></p>`);
}

/**
 * The end-session endpoint (RP-Initiated Logout 1.0, GET and POST). With an ID token hint
 * for this very browser session, Keygate signs the person out at once; otherwise it asks
 * them first (a foreign page must not be able to sign anybody out). Afterwards it sends
 * them to the client's registered post-logout redirect URI with `state`, or says they are
 * signed out. Every client of the session then hears of it on its back channel.
 */
export async function logoutRoutes(server: FastifyInstance, { context, services }: { context: PageContext; services: LogoutServices }): Promise<void> {
  const check = (params: Readonly<Record<string, unknown>>) => checkLogoutRequest(params, {
    keySet: () => services.signingKeys.keySet(), issuer: context.publicUrl, findApp: (id) => services.appDirectory.findApp(id),
  });

  function finish(request: FastifyRequest, reply: FastifyReply, logout: LogoutRequest) {
    if (logout.postLogoutRedirectUri) return reply.redirect(authorizationResponse(logout.postLogoutRedirectUri, { state: logout.state }), 303);
    const t = context.texts(request);
    return sendPage(reply, 200, messagePage(t, t.t('oidc.logout.doneTitle'), t.t('oidc.logout.done')));
  }

  async function refuse(request: FastifyRequest, reply: FastifyReply, problem: LogoutProblem) {
    const t = context.texts(request);
    return sendPage(reply, 400, messagePage(t, t.t('oidc.logout.refusedTitle'), t.t(PROBLEMS[problem])));
  }

  async function endSession(request: FastifyRequest, reply: FastifyReply, params: Readonly<Record<string, unknown>>) {
    const checked = await check(params);
    if (!checked.ok) return refuse(request, reply, checked.problem);
    const logout = checked.request;
    if (!(await context.currentPerson(request))) return finish(request, reply, logout);
    const thisSession = context.publicSessionId(request);
    if (logout.hint?.sid && thisSession && logout.hint.sid === thisSession) {
      await context.endSession(request, reply, { signOut: true });
      return finish(request, reply, logout);
    }
    const t = context.texts(request);
    return sendPage(reply, 200, confirmPage(t, context.csrf.tokenFor(request, reply), logout), logout.postLogoutRedirectUri ?? undefined);
  }

  server.get(OIDC_PATHS.endSession, (request, reply) => endSession(request, reply, (request.query ?? {}) as Readonly<Record<string, unknown>>));
  server.post<{ Body: Form }>(OIDC_PATHS.endSession, { config: { crossSiteForm: true } }, (request, reply) => endSession(request, reply, request.body ?? {}));

  // The person's own answer on the confirmation page: a same-origin form with its CSRF token.
  server.post<{ Body: Form }>(`${OIDC_PATHS.endSession}/confirm`, async (request, reply) => {
    const form = request.body ?? {};
    const checked = await check({ client_id: form.client_id, post_logout_redirect_uri: form.post_logout_redirect_uri, state: form.state });
    if (!checked.ok) return refuse(request, reply, checked.problem);
    await context.endSession(request, reply, { signOut: true });
    return finish(request, reply, checked.request);
  });
}
