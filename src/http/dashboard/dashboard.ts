import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppSettingsError } from '../../domain/apps/app-settings.js';
import type { Actor } from '../../domain/audit/audit-log.js';
import { isUuid, type App } from '../../domain/apps/apps-service.js';
import { isFieldCode, type FieldCode } from '../../domain/consent/fields.js';
import { KeygateError } from '../../domain/errors.js';
import { pageError } from '../kit/page-errors.js';
import type { PersonRef } from '../../domain/zones/zone-registry.js';
import { registerStandaloneSignIn } from '../interaction/sign-in-flow.js';
import type { FieldErrors } from '../kit/form-controls.js';
import { formString, formStrings, type Form } from '../kit/forms.js';
import { personOf, requirePerson } from '../kit/guard.js';
import { html } from '../kit/html.js';
import { messagePage } from '../kit/layout.js';
import type { PageContext } from '../kit/page-context.js';
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
export async function dashboardPages(server: FastifyInstance, { context }: { context: PageContext }): Promise<void> {
  registerStandaloneSignIn(server, context, { base: '/dashboard', lead: html`Manage the apps that send people to Keygate to sign in.`, home: '/dashboard' });

  invitationRoutes(server, context);

  await server.register(async (owner) => {
    owner.addHook('preHandler', requirePerson(context, '/dashboard/sign-in'));
    ownerRoutes(owner, context);
  });
}

/** What an owner is told after asking to invite an address, whatever the address. */
const OWNER_INVITATION_ASKED = `If this address belongs to a Keygate account, we sent it an invitation to become an owner of this app. `
  + `It becomes an owner only once it accepts, within ${OWNER_INVITATION_DAYS} days.`;

/** A refusal shown on the app page with its own status, next to a field or for the form. */
class FormRefusal extends Error {
  constructor(readonly status: number, readonly errors: FieldErrors) {
    super('form refused');
  }
}

const inMinutes = (seconds: number): string => {
  const minutes = Math.ceil(seconds / 60);
  return minutes <= 1 ? 'in a minute' : minutes < 120 ? `in ${minutes} minutes` : `in ${Math.ceil(minutes / 60)} hours`;
};

/** How the limits on invitations read on the app page; anything else goes on as it was. */
function refusedMail(error: unknown, field: 'invite' | 'owners'): unknown {
  if (!(error instanceof KeygateError) || error.code !== 'too_many_requests') return error;
  const { retryAfterSeconds } = error.details as { retryAfterSeconds: number };
  return new FormRefusal(429, { [field]: `This app has sent many invitations lately. Try again ${inMinutes(retryAfterSeconds)}.` });
}

/**
 * The link of an invitation to own an app: only the invited account, signed in, sees what
 * it is about and can accept or decline it; anyone else learns nothing from the link.
 */
function invitationRoutes(server: FastifyInstance, context: PageContext): void {
  const { services, csrf } = context;
  type InvitationRoute = { Params: { token: string }; Body: Form };
  const gone = (reply: FastifyReply) => send(reply, 404, messagePage('Invitation not found', 'This invitation has expired, has already been answered or does not exist. Ask an owner of the app to invite you again.'));
  const notYours = (reply: FastifyReply) => send(reply, 403, messagePage('Not your invitation', 'This invitation was sent to another Keygate account. Sign out, then sign in with the account that received the email.'));

  server.get<InvitationRoute>(`${OWNER_INVITATION_PATH}:token`, async (request, reply) => {
    const person = await context.currentPerson(request);
    if (!person) return send(reply, 200, signInToAnswerPage());
    const view = await services.ownerInvitations.view(request.params.token, person);
    if (!view) return gone(reply);
    if (view.kind === 'for_another_account') return notYours(reply);
    return send(reply, 200, ownerInvitationPage({ csrf: csrf.tokenFor(request, reply), appName: view.appName, expiresAt: view.expiresAt, action: request.url.split('?')[0]! }));
  });

  server.post<InvitationRoute>(`${OWNER_INVITATION_PATH}:token`, async (request, reply) => {
    const person = await context.currentPerson(request);
    if (!person) return reply.redirect('/dashboard/sign-in', 303);
    const decision = formString(request.body ?? {}, 'decision', 16);
    if (decision !== 'accept' && decision !== 'decline') {
      return send(reply, 400, messagePage('Choose an answer', 'Go back to the invitation and choose Accept or Decline.'));
    }
    const outcome = await services.ownerInvitations.decide(request.params.token, person, decision, request.id);
    if (!outcome) return gone(reply);
    if (outcome.kind === 'for_another_account') return notYours(reply);
    if (outcome.kind === 'accepted') return reply.redirect(`/dashboard/apps/${outcome.appId}`, 303);
    return send(reply, 200, messagePage('Invitation declined', 'You declined the invitation. Nothing changed for your account.'));
  });
}

/** The owner's pages, behind the guard: every app route also checks that the person owns the app. */
function ownerRoutes(server: FastifyInstance, context: PageContext): void {
  const { services, csrf } = context;

  /** App changes are recorded in the control plane as the owner's (an opaque id), with the request. */
  const actorOf = (request: FastifyRequest, person: PersonRef, appId?: string): Actor => ({ kind: 'person', id: person.id, appId, requestId: request.id });

  async function loadOwnedApp(request: FastifyRequest<{ Params: { appId: string } }>, reply: FastifyReply): Promise<{ person: PersonRef; app: App } | null> {
    const person = personOf(request);
    const { appId } = request.params;
    const app = isUuid(appId) && (await services.apps.isOwner(appId, person.id)) ? await services.apps.findApp(appId) : null;
    if (!app) {
      send(reply, 404, messagePage('App not found', 'There is no app here that you own.'));
      return null;
    }
    return { person, app };
  }

  async function renderApp(request: FastifyRequest, reply: FastifyReply, person: PersonRef, appId: string, status = 200, extra: Partial<AppPageView> = {}) {
    const app = (await services.apps.findApp(appId))!;
    const owners = await services.apps.ownersOf(app.id);
    // Showing co-owners' emails is a read of their personal data: audited, per owner.
    const ownerViews = await Promise.all(owners.map(async (owner) => {
      const profile = await services.people.readFieldsOf(owner, ['email'], { kind: 'person', id: person.id, appId: app.id, requestId: request.id }, 'dashboard owner list');
      return { id: owner.id, email: profile?.email ?? null, you: owner.id === person.id };
    }));
    const members = app.private ? await services.extranet.list(app.id) : [];
    const usage = await services.usage.lastDays(app.id);
    const trail = await services.apps.auditTrail(app.id);
    const consents = await services.consentProofs.forApp(app.id);
    return send(reply, status, appPage({ csrf: csrf.tokenFor(request, reply), app, publicUrl: context.publicUrl, owners: ownerViews, members, usage, trail, consents, ...extra }));
  }

  /** Runs a settings change; a refused value is shown next to its field and nothing is saved. */
  async function change(
    request: FastifyRequest<{ Params: { appId: string }; Body: Form }>,
    reply: FastifyReply,
    apply: (app: App, person: PersonRef, form: Form, actor: Actor) => Promise<string | FieldErrors>,
    entered?: AppPageView['entered'],
  ) {
    const owned = await loadOwnedApp(request, reply);
    if (!owned) return reply;
    const form = request.body ?? {};
    try {
      const outcome = await apply(owned.app, owned.person, form, actorOf(request, owned.person, owned.app.id));
      if (typeof outcome === 'string') return renderApp(request, reply, owned.person, owned.app.id, 200, { notice: outcome });
      return renderApp(request, reply, owned.person, owned.app.id, 400, { errors: outcome, entered });
    } catch (error) {
      if (error instanceof FormRefusal) return renderApp(request, reply, owned.person, owned.app.id, error.status, { errors: error.errors, entered });
      if (error instanceof AppSettingsError) return renderApp(request, reply, owned.person, owned.app.id, 400, { errors: { [error.setting]: error.message }, entered });
      const refused = error instanceof KeygateError ? pageError(error) : null;
      if (refused && refused.status < 500) return renderApp(request, reply, owned.person, owned.app.id, refused.status, { errors: { form: refused.message }, entered });
      throw error;
    }
  }

  server.get('/dashboard', async (request, reply) => {
    const person = personOf(request);
    return send(reply, 200, appListPage({ csrf: csrf.tokenFor(request, reply), apps: await services.apps.appsOwnedBy(person.id) }));
  });

  server.post<{ Body: Form }>('/dashboard/apps', async (request, reply) => {
    const person = personOf(request);
    const form = request.body ?? {};
    const input = { name: formString(form, 'name', 200) ?? '', origins: lines(form, 'origins'), returnUrls: lines(form, 'returnUrls') };
    try {
      const created = await services.apps.createApp({ ...input, owner: person, requireOrigins: true }, actorOf(request, person));
      return send(reply, 201, credentialsPage({ csrf: csrf.tokenFor(request, reply), app: { id: created.appId, name: input.name.trim() }, secretKey: created.secretKey }));
    } catch (error) {
      if (!(error instanceof AppSettingsError)) throw error;
      return send(reply, 400, appListPage({
        csrf: csrf.tokenFor(request, reply), apps: await services.apps.appsOwnedBy(person.id), form: input, errors: { [error.setting]: error.message },
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
    return change(request, reply, async (app, _person, _form, actor) => {
      await services.apps.updateProtections(app.id, {
        protections: { domain: checked(form, 'domain'), returnUrl: checked(form, 'returnUrl'), serverOnly: checked(form, 'serverOnly'), ip: checked(form, 'ip') },
        ...entered,
      }, actor);
      return 'Protections saved.';
    }, entered);
  });

  server.post<AppRoute>('/dashboard/apps/:appId/fields', async (request, reply) => change(request, reply, async (app, _person, form, actor) => {
    const ask = formStrings(form, 'ask', 16).filter(isFieldCode);
    const require = formStrings(form, 'require', 16).filter(isFieldCode);
    const bases: Partial<Record<FieldCode, string>> = {};
    for (const field of require) bases[field] = formString(form, `basis_${field}`, 600) ?? '';
    await services.apps.updateFields(app.id, ask, require, bases, actor);
    return 'Fields saved.';
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/private', async (request, reply) => change(request, reply, async (app, _person, form, actor) => {
    const makePrivate = formString(form, 'private', 8) === 'on';
    await services.apps.setPrivate(app.id, makePrivate, actor);
    return makePrivate ? 'The app is private: only its owners and the people on its list may sign in.' : 'The app is public again.';
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/extranet', async (request, reply) => change(request, reply, async (app, _person, form, actor) => {
    const email = formString(form, 'email', 320) ?? '';
    try {
      const invited = await services.extranet.invite(app, email, formString(form, 'locale', 16), actor);
      if (invited.mail === 'already_listed') return 'This address is already on the list; it was not emailed again. Use "Resend invitation" to email it.';
      return invited.mail === 'sent'
        ? 'Added to the list, and the invitation was emailed.'
        : 'Added to the list. It was not emailed now: this address has had several invitations today. Use "Resend invitation" later.';
    } catch (error) {
      if (error instanceof KeygateError && error.code === 'invalid_request') return { invite: 'Enter a valid email address.' };
      throw refusedMail(error, 'invite');
    }
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/extranet/resend', async (request, reply) => change(request, reply, async (app, _person, form, actor) => {
    try {
      const mail = await services.extranet.resend(app, formString(form, 'reference', 64) ?? '', actor);
      return mail === 'sent' ? 'The invitation was emailed again.' : 'Not emailed: this address has had several invitations today. Try again tomorrow.';
    } catch (error) {
      throw refusedMail(error, 'invite');
    }
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/extranet/remove', async (request, reply) => change(request, reply, async (app, _person, form, actor) => {
    await services.extranet.remove(app, formString(form, 'reference', 64) ?? '', actor);
    return 'Removed from the list.';
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/owners', async (request, reply) => change(request, reply, async (app, person, form) => {
    // The answer is the same whether or not the address has an account (see OwnerInvitations).
    try {
      const asked = await services.ownerInvitations.invite(app, person, formString(form, 'email', 320) ?? '', request.id);
      if (asked === 'invalid_email') return { owners: 'Enter a valid email address.' };
    } catch (error) {
      throw refusedMail(error, 'owners');
    }
    return OWNER_INVITATION_ASKED;
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/owners/remove', async (request, reply) => change(request, reply, async (app, _person, form, actor) => {
    const outcome = await services.apps.removeOwner(app.id, formString(form, 'person', 64) ?? '', actor);
    if (outcome === 'last_owner') return { owners: 'An app keeps at least one owner.' };
    return outcome === 'removed' ? 'Owner removed.' : { owners: 'This person is not an owner of the app.' };
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/rename', async (request, reply) => change(request, reply, async (app, _person, form, actor) => {
    await services.apps.rename(app.id, formString(form, 'name', 200) ?? '', actor);
    return 'Renamed.';
  }));

  server.post<AppRoute>('/dashboard/apps/:appId/rotate', async (request, reply) => {
    const owned = await loadOwnedApp(request, reply);
    if (!owned) return reply;
    const graceDays = Number(formString(request.body ?? {}, 'graceDays', 2) ?? 'x');
    try {
      const { secretKey } = await services.apps.rotateKey(owned.app.id, graceDays, actorOf(request, owned.person, owned.app.id));
      return send(reply, 200, credentialsPage({ csrf: csrf.tokenFor(request, reply), app: owned.app, secretKey, rotated: true }));
    } catch (error) {
      if (!(error instanceof AppSettingsError)) throw error;
      return renderApp(request, reply, owned.person, owned.app.id, 400, { errors: { graceDays: error.message } });
    }
  });

  server.post<AppRoute>('/dashboard/apps/:appId/delete', async (request, reply) => {
    const owned = await loadOwnedApp(request, reply);
    if (!owned) return reply;
    if ((formString(request.body ?? {}, 'confirm', 200) ?? '').trim() !== owned.app.name) {
      return renderApp(request, reply, owned.person, owned.app.id, 400, { errors: { confirm: `Type "${owned.app.name}" exactly to delete the app.` } });
    }
    await services.apps.deleteApp(owned.app.id, actorOf(request, owned.person, owned.app.id));
    return send(reply, 200, appListPage({ csrf: csrf.tokenFor(request, reply), apps: await services.apps.appsOwnedBy(owned.person.id), notice: `${owned.app.name} was deleted.` }));
  });
}
