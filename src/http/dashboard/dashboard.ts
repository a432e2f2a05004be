import type { Services } from '../../domain/services.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppSettingsError } from '../../domain/apps/app-settings.js';
import type { Actor } from '../../domain/audit/audit-log.js';
import { isUuid, type App } from '../../domain/apps/app.js';
import { isFieldCode, type FieldCode } from '../../domain/consent/fields.js';
import { KeygateError } from '../../domain/errors.js';
import type { MessageKey } from '../../i18n/en.js';
import { pageError } from '../kit/page-errors.js';
import type { PersonRef } from '../../domain/zones/zone-registry.js';
import { registerStandaloneSignIn, type SignInServices } from '../interaction/sign-in-flow.js';
import type { FieldErrors } from '../kit/form-controls.js';
import { formString, formStrings, type Form } from '../kit/forms.js';
import { personOf, requirePerson } from '../kit/guard.js';
import { html } from '../kit/html.js';
import { messagePage } from '../kit/layout.js';
import type { PageContext } from '../kit/page-context.js';
import type { Texts } from '../kit/texts.js';
import { sendScriptedPage as send } from '../kit/send-page.js';
import { OWNER_INVITATION_DAYS, OWNER_INVITATION_PATH } from '../../domain/apps/owner-invitations.js';
import {
  appListPage, appPage, credentialsPage, ownerInvitationPage, signInToAnswerPage, type AppPageView,
} from './views.js';

const MAX_LIST_TEXT = 64 * 1024;

/** A textarea of one entry per line; blank lines are ignored. */
const lines = (form: Form, name: string): string[] =>
  (formString(form, name, MAX_LIST_TEXT) ?? '').split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);

const checked = (form: Form, name: string): boolean => formString(form, name, 8) === 'on';

/**
 * The developers' dashboard: for anyone with a Keygate account, their apps, credentials,
 * protections, fields, private-app lists, owners and usage. Every app route checks that
 * the signed-in person owns the app; anyone else gets the same "not found" as for an
 * app that does not exist.
 */
/** What the dashboard uses: apps, their owners, invitations, lists, proofs and usage, and the sign-in steps. */
export type DashboardServices = Pick<Services, 'appDirectory' | 'appOwners' | 'apps' | 'consentProofs' | 'extranet' | 'ownerInvitations' | 'profiles' | 'usage'> & SignInServices;

export async function dashboardPages(server: FastifyInstance, { context, services }: { context: PageContext; services: DashboardServices }): Promise<void> {
  registerStandaloneSignIn(server, context, services, { base: '/dashboard', lead: (t) => html`${t.t('dashboard.signIn.lead')}`, home: '/dashboard' });

  invitationRoutes(server, context, services);

  await server.register(async (owner) => {
    owner.addHook('preHandler', requirePerson(context, '/dashboard/sign-in'));
    ownerRoutes(owner, context, services);
  });
}

/** What an owner is told after asking to invite an address, whatever the address. */
const ownerInvitationAsked = (t: Texts): string => t.t('dashboard.owners.asked', { days: OWNER_INVITATION_DAYS });

/** A refusal shown on the app page with its own status, next to a field or for the form. */
class FormRefusal extends Error {
  constructor(readonly status: number, readonly errors: FieldErrors) {
    super('form refused');
  }
}

const inMinutes = (t: Texts, seconds: number): string => {
  const minutes = Math.ceil(seconds / 60);
  return minutes <= 1 ? t.t('dashboard.wait.minute') : minutes < 120 ? t.t('dashboard.wait.minutes', { n: minutes }) : t.t('dashboard.wait.hours', { n: Math.ceil(minutes / 60) });
};

/** How the limits on invitations read on the app page; anything else goes on as it was. */
function refusedMail(t: Texts, error: unknown, field: 'invite' | 'owners'): unknown {
  if (!(error instanceof KeygateError) || error.code !== 'too_many_requests') return error;
  const { retryAfterSeconds } = error.details as { retryAfterSeconds: number };
  return new FormRefusal(429, { [field]: t.t('dashboard.invitations.tooMany', { wait: inMinutes(t, retryAfterSeconds) }) });
}

/** A refused setting in the page's language; the English `message` is for the CLI and the API. */
function settingRefusal(t: Texts, error: AppSettingsError): string {
  if (error.reason === 'other') return t.t('dashboard.settings.other', { message: error.message });
  return t.t(`dashboard.settings.${error.reason}` as MessageKey, error.values);
}

/**
 * The link of an invitation to own an app: only the invited account, signed in, sees what
 * it is about and can accept or decline it; anyone else learns nothing from the link.
 */
function invitationRoutes(server: FastifyInstance, context: PageContext, services: DashboardServices): void {
  const { csrf } = context;
  type InvitationRoute = { Params: { token: string }; Body: Form };
  const gone = (t: Texts, reply: FastifyReply) => send(reply, 404, messagePage(t, t.t('dashboard.ownerInvitation.notFoundTitle'), t.t('dashboard.ownerInvitation.notFound')));
  const notYours = (t: Texts, reply: FastifyReply) => send(reply, 403, messagePage(t, t.t('dashboard.ownerInvitation.notYoursTitle'), t.t('dashboard.ownerInvitation.notYours')));

  server.get<InvitationRoute>(`${OWNER_INVITATION_PATH}:token`, async (request, reply) => {
    const t = context.texts(request);
    const person = await context.currentPerson(request);
    if (!person) return send(reply, 200, signInToAnswerPage(t, request.url.split('?')[0]!));
    const view = await services.ownerInvitations.view(request.params.token, person);
    if (!view) return gone(t, reply);
    if (view.kind === 'for_another_account') return notYours(t, reply);
    return send(reply, 200, ownerInvitationPage(t, { csrf: csrf.tokenFor(request, reply), appName: view.appName, expiresAt: view.expiresAt, action: request.url.split('?')[0]! }));
  });

  server.post<InvitationRoute>(`${OWNER_INVITATION_PATH}:token`, async (request, reply) => {
    const t = context.texts(request);
    const person = await context.currentPerson(request);
    if (!person) return reply.redirect('/dashboard/sign-in', 303);
    const decision = formString(request.body ?? {}, 'decision', 16);
    if (decision !== 'accept' && decision !== 'decline') {
      return send(reply, 400, messagePage(t, t.t('dashboard.ownerInvitation.chooseTitle'), t.t('dashboard.ownerInvitation.choose')));
    }
    const outcome = await services.ownerInvitations.decide(request.params.token, person, decision, request.id);
    if (!outcome) return gone(t, reply);
    if (outcome.kind === 'for_another_account') return notYours(t, reply);
    if (outcome.kind === 'accepted') return reply.redirect(`/dashboard/apps/${outcome.appId}`, 303);
    return send(reply, 200, messagePage(t, t.t('dashboard.ownerInvitation.declinedTitle'), t.t('dashboard.ownerInvitation.declined')));
  });
}

/** The owner's pages, behind the guard: every app route also checks that the person owns the app. */
function ownerRoutes(server: FastifyInstance, context: PageContext, services: DashboardServices): void {
  const { csrf } = context;

  /** App changes are recorded in the control plane as the owner's (an opaque id), with the request. */
  const actorOf = (request: FastifyRequest, person: PersonRef, appId?: string): Actor => ({ kind: 'person', id: person.id, appId, requestId: request.id });

  async function loadOwnedApp(request: FastifyRequest<{ Params: { appId: string } }>, reply: FastifyReply): Promise<{ person: PersonRef; app: App } | null> {
    const person = personOf(request);
    const { appId } = request.params;
    const app = isUuid(appId) && (await services.appOwners.isOwner(appId, person.id)) ? await services.appDirectory.findApp(appId) : null;
    if (!app) {
      const t = context.texts(request);
      send(reply, 404, messagePage(t, t.t('dashboard.app.notFoundTitle'), t.t('dashboard.app.notFound')));
      return null;
    }
    return { person, app };
  }

  async function renderApp(request: FastifyRequest, reply: FastifyReply, person: PersonRef, appId: string, status = 200, extra: Partial<AppPageView> = {}) {
    const app = (await services.appDirectory.findApp(appId))!;
    const owners = await services.appOwners.ownersOf(app.id);
    // Showing co-owners' emails is a read of their personal data: audited, per owner.
    const ownerViews = await Promise.all(owners.map(async (owner) => {
      const profile = await services.profiles.readFieldsOf(owner, ['email'], { kind: 'person', id: person.id, appId: app.id, requestId: request.id }, 'dashboard owner list');
      return { id: owner.id, email: profile?.email ?? null, you: owner.id === person.id };
    }));
    const members = app.private ? await services.extranet.list(app.id) : [];
    const usage = await services.usage.lastDays(app.id);
    const trail = await services.apps.auditTrail(app.id);
    const consents = await services.consentProofs.forApp(app.id);
    return send(reply, status, appPage(context.texts(request), { csrf: csrf.tokenFor(request, reply), app, publicUrl: context.publicUrl, owners: ownerViews, members, usage, trail, consents, ...extra }));
  }

  /** Runs a settings change; a refused value is shown next to its field and nothing is saved. */
  async function change(
    request: FastifyRequest<{ Params: { appId: string }; Body: Form }>,
    reply: FastifyReply,
    apply: (app: App, person: PersonRef, form: Form, actor: Actor, t: Texts) => Promise<string | FieldErrors>,
    entered?: AppPageView['entered'],
  ) {
    const t = context.texts(request);
    const owned = await loadOwnedApp(request, reply);
    if (!owned) return reply;
    const form = request.body ?? {};
    try {
      const outcome = await apply(owned.app, owned.person, form, actorOf(request, owned.person, owned.app.id), t);
      if (typeof outcome === 'string') return renderApp(request, reply, owned.person, owned.app.id, 200, { notice: outcome });
      return renderApp(request, reply, owned.person, owned.app.id, 400, { errors: outcome, entered });
    } catch (error) {
      if (error instanceof FormRefusal) return renderApp(request, reply, owned.person, owned.app.id, error.status, { errors: error.errors, entered });
      if (error instanceof AppSettingsError) return renderApp(request, reply, owned.person, owned.app.id, 400, { errors: { [error.setting]: settingRefusal(t, error) }, entered });
      const refused = error instanceof KeygateError ? pageError(error, t) : null;
      if (refused && refused.status < 500) return renderApp(request, reply, owned.person, owned.app.id, refused.status, { errors: { form: refused.message }, entered });
      throw error;
    }
  }

  server.get('/dashboard', async (request, reply) => {
    const t = context.texts(request);
    const person = personOf(request);
    return send(reply, 200, appListPage(t, { csrf: csrf.tokenFor(request, reply), apps: await services.appOwners.appsOwnedBy(person.id) }));
  });

  server.post<{ Body: Form }>('/dashboard/apps', async (request, reply) => {
    const t = context.texts(request);
    const person = personOf(request);
    const form = request.body ?? {};
    const input = { name: formString(form, 'name', 200) ?? '', origins: lines(form, 'origins'), returnUrls: lines(form, 'returnUrls'), redirectUris: lines(form, 'redirectUris'), publicClient: checked(form, 'publicClient') };
    try {
      const created = await services.apps.createApp({ ...input, owner: person, requireOrigins: true }, actorOf(request, person));
      return send(reply, 201, credentialsPage(t, {
        csrf: csrf.tokenFor(request, reply), app: { id: created.appId, name: input.name.trim() }, secretKey: created.secretKey, clientSecret: created.clientSecret,
      }));
    } catch (error) {
      if (!(error instanceof AppSettingsError)) throw error;
      return send(reply, 400, appListPage(t, {
        csrf: csrf.tokenFor(request, reply), apps: await services.appOwners.appsOwnedBy(person.id), form: input, errors: { [error.setting]: settingRefusal(t, error) },
      }));
    }
  });

  server.get<{ Params: { appId: string } }>('/dashboard/apps/:appId', async (request, reply) => {
    const owned = await loadOwnedApp(request, reply);
    if (!owned) return reply;
    return renderApp(request, reply, owned.person, owned.app.id);
  });

  type AppRoute = { Params: { appId: string }; Body: Form };

  server.post<AppRoute>('/dashboard/apps/:appId/protections', async (request, reply) => {
    const form = request.body ?? {};
    const entered = { origins: lines(form, 'origins'), returnUrls: lines(form, 'returnUrls'), ipEntries: lines(form, 'ipEntries') };
    return change(request, reply, async (app, _person, _form, actor, t) => {
      await services.apps.updateProtections(app.id, {
        protections: { domain: checked(form, 'domain'), returnUrl: checked(form, 'returnUrl'), serverOnly: checked(form, 'serverOnly'), ip: checked(form, 'ip') },
        ...entered,
      }, actor);
      return t.t('dashboard.notice.protectionsSaved');
    }, entered);
  });

  server.post<AppRoute>('/dashboard/apps/:appId/redirect-uris', async (request, reply) => {
    const entered = { redirectUris: lines(request.body ?? {}, 'redirectUris') };
    return change(request, reply, async (app, _person, _form, actor, t) => {
      await services.apps.updateRedirectUris(app.id, entered.redirectUris, actor);
      return t.t('dashboard.notice.redirectUrisSaved');
    }, entered);
  });

  server.post<AppRoute>('/dashboard/apps/:appId/logout', async (request, reply) => {
    const form = request.body ?? {};
    const backchannel = formString(form, 'backchannelLogoutUri', 2048) ?? '';
    const entered = { postLogoutRedirectUris: lines(form, 'postLogoutRedirectUris'), backchannelLogoutUri: [backchannel] };
    return change(request, reply, async (app, _person, _form, actor, t) => {
      await services.apps.updateLogout(app.id, { postLogoutRedirectUris: entered.postLogoutRedirectUris, backchannelLogoutUri: backchannel }, actor);
      return t.t('dashboard.notice.logoutSaved');
    }, entered);
  });

  server.post<AppRoute>('/dashboard/apps/:appId/client-keys', async (request, reply) => {
    const entered = { clientJwks: (formString(request.body ?? {}, 'clientJwks', 70_000) ?? '').split(/\r?\n/) };
    return change(request, reply, async (app, _person, _form, actor, t) => {
      await services.apps.updateClientJwks(app.id, entered.clientJwks.join('\n'), actor);
      return t.t('dashboard.notice.clientJwksSaved');
    }, entered);
  });

  server.post<AppRoute>('/dashboard/apps/:appId/client-secret', async (request, reply) => {
    const owned = await loadOwnedApp(request, reply);
    if (!owned) return reply;
    if (owned.app.publicClient) return renderApp(request, reply, owned.person, owned.app.id, 400);
    const { clientSecret } = await services.apps.regenerateClientSecret(owned.app.id, actorOf(request, owned.person, owned.app.id));
    return send(reply, 200, credentialsPage(context.texts(request), { csrf: csrf.tokenFor(request, reply), app: owned.app, clientSecret }));
  });

  server.post<AppRoute>('/dashboard/apps/:appId/fields', async (request, reply) => change(request, reply, async (app, _person, form, actor, t) => {
    const ask = formStrings(form, 'ask', 16).filter(isFieldCode);
    const require = formStrings(form, 'require', 16).filter(isFieldCode);
    const bases: Partial<Record<FieldCode, string>> = {};
    for (const field of require) bases[field] = formString(form, `basis_${field}`, 600) ?? '';
    await services.apps.updateFields(app.id, ask, require, bases, actor);
    return t.t('dashboard.notice.fieldsSaved');
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/private', async (request, reply) => change(request, reply, async (app, _person, form, actor, t) => {
    const makePrivate = formString(form, 'private', 8) === 'on';
    await services.apps.setPrivate(app.id, makePrivate, actor);
    return makePrivate ? t.t('dashboard.notice.madePrivate') : t.t('dashboard.notice.madePublic');
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/extranet', async (request, reply) => change(request, reply, async (app, _person, form, actor, t) => {
    const email = formString(form, 'email', 320) ?? '';
    try {
      const invited = await services.extranet.invite(app, email, formString(form, 'locale', 16), actor);
      if (invited.mail === 'already_listed') return t.t('dashboard.notice.alreadyListed');
      return invited.mail === 'sent' ? t.t('dashboard.notice.invited') : t.t('dashboard.notice.invitedNotMailed');
    } catch (error) {
      if (error instanceof KeygateError && error.code === 'invalid_request') return { invite: t.t('dashboard.invalidEmail') };
      throw refusedMail(t, error, 'invite');
    }
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/extranet/resend', async (request, reply) => change(request, reply, async (app, _person, form, actor, t) => {
    try {
      const mail = await services.extranet.resend(app, formString(form, 'reference', 64) ?? '', actor);
      return mail === 'sent' ? t.t('dashboard.notice.resent') : t.t('dashboard.notice.resendWithheld');
    } catch (error) {
      throw refusedMail(t, error, 'invite');
    }
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/extranet/remove', async (request, reply) => change(request, reply, async (app, _person, form, actor, t) => {
    await services.extranet.remove(app, formString(form, 'reference', 64) ?? '', actor);
    return t.t('dashboard.notice.removed');
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/owners', async (request, reply) => change(request, reply, async (app, person, form, _actor, t) => {
    // The answer is the same whether or not the address has an account (see OwnerInvitations).
    try {
      const asked = await services.ownerInvitations.invite(app, person, formString(form, 'email', 320) ?? '', request.id);
      if (asked === 'invalid_email') return { owners: t.t('dashboard.invalidEmail') };
    } catch (error) {
      throw refusedMail(t, error, 'owners');
    }
    return ownerInvitationAsked(t);
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/owners/remove', async (request, reply) => change(request, reply, async (app, _person, form, actor, t) => {
    const outcome = await services.appOwners.removeOwner(app.id, formString(form, 'person', 64) ?? '', actor);
    if (outcome === 'last_owner') return { owners: t.t('dashboard.owners.lastOwner') };
    return outcome === 'removed' ? t.t('dashboard.notice.ownerRemoved') : { owners: t.t('dashboard.owners.notOwner') };
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/rename', async (request, reply) => change(request, reply, async (app, _person, form, actor, t) => {
    await services.apps.rename(app.id, formString(form, 'name', 200) ?? '', actor);
    return t.t('dashboard.notice.renamed');
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/rotate', async (request, reply) => {
    const t = context.texts(request);
    const owned = await loadOwnedApp(request, reply);
    if (!owned) return reply;
    const graceDays = Number(formString(request.body ?? {}, 'graceDays', 2) ?? 'x');
    try {
      const { secretKey } = await services.apps.rotateKey(owned.app.id, graceDays, actorOf(request, owned.person, owned.app.id));
      return send(reply, 200, credentialsPage(t, { csrf: csrf.tokenFor(request, reply), app: owned.app, secretKey, rotated: true }));
    } catch (error) {
      if (!(error instanceof AppSettingsError)) throw error;
      return renderApp(request, reply, owned.person, owned.app.id, 400, { errors: { graceDays: settingRefusal(t, error) } });
    }
  });

  server.post<AppRoute>('/dashboard/apps/:appId/delete', async (request, reply) => {
    const t = context.texts(request);
    const owned = await loadOwnedApp(request, reply);
    if (!owned) return reply;
    if ((formString(request.body ?? {}, 'confirm', 200) ?? '').trim() !== owned.app.name) {
      return renderApp(request, reply, owned.person, owned.app.id, 400, { errors: { confirm: t.t('dashboard.app.danger.confirmMismatch', { app: owned.app.name }) } });
    }
    await services.apps.deleteApp(owned.app.id, actorOf(request, owned.person, owned.app.id));
    return send(reply, 200, appListPage(t, { csrf: csrf.tokenFor(request, reply), apps: await services.appOwners.appsOwnedBy(owned.person.id), notice: t.t('dashboard.notice.deleted', { app: owned.app.name }) }));
  });
}
