import type { Services } from '../../domain/services.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isPersonName } from '../../domain/people/names.js';
import { isUuid } from '../../domain/apps/app.js';
import { isFieldCode } from '../../domain/consent/fields.js';
import { isCountryCode, isLanguageCode } from '../../domain/zones/countries.js';
import { ZoneMoveError } from '../../domain/zones/zone-move.js';
import type { PersonRef } from '../../domain/zones/zone-registry.js';
import multipart from '@fastify/multipart';
import { ImageRefused, MAX_IMAGE_BYTES } from '../../domain/people/profile-image.js';
import type { MessageKey } from '../../i18n/en.js';
import type { FieldErrors } from '../kit/form-controls.js';
import { formString, type Form } from '../kit/forms.js';
import { personOf } from '../kit/guard.js';
import { messagePage } from '../kit/layout.js';
import type { PageContext } from '../kit/page-context.js';
import { sendScriptedPage as send } from '../kit/send-page.js';
import type { Texts } from '../kit/texts.js';
import { activityPage, appsPage, dataPage, DELETE_WORD, emailCodePage, profilePage, sessionsPage } from './centre-views.js';
import { normaliseEmail } from '../../domain/people/email.js';

/**
 * The account centre: the person's profile, the apps they let in, who read their data,
 * their sessions, export and erasure (behind the account's guard). Export and erasure ask
 * for the password again.
 */
/** What the account centre uses. */
export type CentreServices = Pick<Services, 'accountCentre' | 'accounts' | 'images' | 'passwords' | 'people' | 'signInThrottle' | 'zoneMoves'>;

export function accountCentreRoutes(server: FastifyInstance, context: PageContext, services: CentreServices): void {
  const { csrf } = context;
  const centre = services.accountCentre;
  const actor = (request: FastifyRequest) => ({ requestId: request.id });

  /** Why a picture was refused, in the page's language (the domain words it in English). */
  const imageRefusal = (t: Texts, message: string): string => {
    const key = IMAGE_REFUSALS[message];
    return key ? t.t(key) : message;
  };

  const renderProfile = async (request: FastifyRequest, reply: FastifyReply, person: PersonRef, status = 200, extra: { notice?: string; errors?: FieldErrors } = {}) =>
    send(reply, status, profilePage(context.texts(request), {
      csrf: csrf.tokenFor(request, reply),
      profile: (await centre.profile(person, request.id)) ?? {},
      zone: person.zone,
      hasImage: await centre.hasImage(person),
      ...extra,
    }));

  // The picture: a multipart upload, parsed into plain values so that the CSRF check reads `_csrf` as on every form.
  void server.register(async (uploads) => {
    await uploads.register(multipart, { attachFieldsToBody: 'keyValues', limits: { fileSize: MAX_IMAGE_BYTES, files: 1, fields: 4, parts: 5 } });
    uploads.post<{ Body: Record<string, unknown> }>('/account/image', { bodyLimit: MAX_IMAGE_BYTES + 64 * 1024 }, async (request, reply) => {
      const person = personOf(request);
      const t = context.texts(request);
      const file = request.body?.image;
      if (!Buffer.isBuffer(file)) return renderProfile(request, reply, person, 400, { errors: { image: t.t('account.profile.picture.choose') } });
      try {
        await services.images.setImage(person, file, actor(request));
      } catch (error) {
        if (error instanceof ImageRefused) return renderProfile(request, reply, person, 400, { errors: { image: imageRefusal(t, error.message) } });
        throw error;
      }
      return renderProfile(request, reply, person, 200, { notice: t.t('account.profile.picture.saved') });
    });
  });

  server.post('/account/image/remove', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    await services.images.removeImage(person, actor(request));
    return renderProfile(request, reply, person, 200, { notice: t.t('account.profile.picture.removed') });
  });

  server.get('/account/image', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    const image = await services.images.ownImage(person, request.id);
    if (!image) return reply.code(404).type('text/plain; charset=utf-8').send(t.t('account.profile.picture.none'));
    return reply.type('image/webp').header('Cache-Control', 'private, no-store').send(image);
  });

  server.get('/account/profile', async (request, reply) => renderProfile(request, reply, personOf(request)));

  server.post<{ Body: Form }>('/account/profile', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    const form = request.body ?? {};
    const values = {
      firstname: (formString(form, 'firstname', 200) ?? '').trim(),
      surname: (formString(form, 'surname', 200) ?? '').trim(),
      language: (formString(form, 'language', 8) ?? '').trim().toLowerCase(),
    };
    const errors: FieldErrors = {};
    if (!isPersonName(values.firstname)) errors.firstname = t.t('account.profile.invalidFirstname');
    if (!isPersonName(values.surname)) errors.surname = t.t('account.profile.invalidSurname');
    if (!isLanguageCode(values.language)) errors.language = t.t('account.profile.chooseLanguage');
    if (Object.keys(errors).length > 0) return renderProfile(request, reply, person, 400, { errors });
    await centre.updateProfile(person, values, actor(request));
    // A new language is a choice: the pages speak it at once, this one included (if Keygate
    // speaks it). Saving other fields leaves the language this browser chose alone.
    if (values.language !== formString(form, 'language_shown', 8)) context.rememberLanguage(request, reply, values.language);
    return renderProfile(request, reply, person, 200, { notice: context.texts(request).t('account.profile.saved') });
  });

  const renderApps = async (request: FastifyRequest, reply: FastifyReply, person: PersonRef, status = 200, extra: { notice?: string; error?: string } = {}) =>
    send(reply, status, appsPage(context.texts(request), {
      csrf: csrf.tokenFor(request, reply),
      apps: await centre.connectedApps(person),
      consents: await centre.consentHistory(person, { kind: 'person', id: person.id, requestId: request.id }),
      ...extra,
    }));

  server.get('/account/apps', async (request, reply) => renderApps(request, reply, personOf(request)));

  server.post<{ Body: Form }>('/account/apps/revoke', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    const appId = formString(request.body ?? {}, 'app', 64) ?? '';
    const revoked = isUuid(appId) && await centre.revokeApp(person, appId.toLowerCase(), actor(request));
    if (!revoked) return renderApps(request, reply, person, 404, { error: t.t('account.apps.notConnected') });
    return renderApps(request, reply, person, 200, { notice: t.t('account.apps.disconnected') });
  });

  server.post<{ Body: Form }>('/account/apps/revoke-field', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    const form = request.body ?? {};
    const appId = formString(form, 'app', 64) ?? '';
    const field = formString(form, 'field', 16);
    const revoked = isUuid(appId) && isFieldCode(field) && await centre.revokeField(person, appId.toLowerCase(), field, actor(request));
    if (!revoked) return renderApps(request, reply, person, 404, { error: t.t('account.apps.noSuchField') });
    return renderApps(request, reply, person, 200, { notice: t.t('account.apps.fieldRevoked') });
  });

  server.get<{ Querystring: { app?: string } }>('/account/activity', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    const appId = typeof request.query.app === 'string' && isUuid(request.query.app) ? request.query.app.toLowerCase() : undefined;
    const [records, apps] = await Promise.all([centre.activity(person, { appId }), centre.connectedApps(person)]);
    return send(reply, 200, activityPage(t, { csrf: csrf.tokenFor(request, reply), records, apps, appId }));
  });

  const renderSessions = async (request: FastifyRequest, reply: FastifyReply, person: PersonRef, notice?: string) =>
    send(reply, 200, sessionsPage(context.texts(request), { csrf: csrf.tokenFor(request, reply), sessions: await centre.sessions(person, context.sessionToken(request), { kind: 'person', id: person.id, requestId: request.id }), notice }));

  server.get('/account/sessions', async (request, reply) => renderSessions(request, reply, personOf(request)));

  server.post<{ Body: Form }>('/account/sessions/end', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    const ended = await centre.endSessions(person, { id: formString(request.body ?? {}, 'session', 64) ?? '' }, actor(request));
    return renderSessions(request, reply, person, t.t(ended > 0 ? 'account.sessions.ended' : 'account.sessions.alreadyEnded'));
  });

  server.post('/account/sessions/end-others', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    const ended = await centre.endSessions(person, { allBut: context.sessionToken(request) }, actor(request));
    return renderSessions(request, reply, person, t.t('account.sessions.othersEnded', { n: ended }));
  });

  server.get('/account/data', async (request, reply) => {
    const t = context.texts(request);
    return send(reply, 200, dataPage(t, { csrf: csrf.tokenFor(request, reply) }));
  });

  /**
   * Export, erasure and a change of country need the password again: a session left open
   * is not enough. On refusal `refuse` renders the page again with the message.
   */
  async function reauthenticated(
    request: FastifyRequest<{ Body: Form }>, reply: FastifyReply, person: PersonRef, refuse: (status: number, message: string) => Promise<unknown> | unknown,
  ): Promise<boolean> {
    const verdict = await services.signInThrottle.admit(context.clientAddress(request) ?? 'unknown', `person:${person.id}`);
    const ok = verdict.allowed && await services.passwords.checkPassword(person, formString(request.body ?? {}, 'password', 256) ?? '');
    if (ok) {
      await services.signInThrottle.recordSuccess(`person:${person.id}`);
      return true;
    }
    if (!verdict.allowed) reply.header('Retry-After', String(verdict.retryAfterSeconds));
    await refuse(verdict.allowed ? 403 : 429, context.texts(request).t(verdict.allowed ? 'account.wrongPassword' : 'account.tooManyAttemptsMinute'));
    return false;
  }
  const refuseOnDataPage = (request: FastifyRequest, reply: FastifyReply, field: 'export' | 'delete') => (status: number, message: string) =>
    send(reply, status, dataPage(context.texts(request), { csrf: csrf.tokenFor(request, reply), errors: { [field]: message } }));

  server.post<{ Body: Form }>('/account/email', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    const email = (formString(request.body ?? {}, 'email', 320) ?? '').trim();
    if (!normaliseEmail(email)) return renderProfile(request, reply, person, 400, { errors: { email: t.t('account.profile.email.invalid') } });
    const refuse = (status: number, message: string) => renderProfile(request, reply, person, status, { errors: { email_password: message } });
    if (!(await reauthenticated(request, reply, person, refuse))) return reply;
    // Each request emails an address the person typed: counted like every mail request, per account.
    const mail = await services.signInThrottle.admitMail(context.clientAddress(request) ?? 'unknown', `person:${person.id}`);
    if (!mail.allowed) {
      reply.header('Retry-After', String(mail.retryAfterSeconds));
      return renderProfile(request, reply, person, 429, { errors: { email: t.t('account.profile.email.tooManyCodes', { seconds: mail.retryAfterSeconds }) } });
    }
    const started = await services.accounts.requestEmailChange(person, email, actor(request));
    if (started === 'unchanged') return renderProfile(request, reply, person, 400, { errors: { email: t.t('account.profile.email.unchanged') } });
    if (started === 'invalid') return renderProfile(request, reply, person, 400, { errors: { email: t.t('account.profile.email.invalid') } });
    return send(reply, 200, emailCodePage(t, { csrf: csrf.tokenFor(request, reply), token: started.token, email: normaliseEmail(email)! }));
  });

  server.post<{ Body: Form }>('/account/email/confirm', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    const form = request.body ?? {};
    const token = formString(form, 'token', 64) ?? '';
    const shown = normaliseEmail(formString(form, 'email', 320) ?? '') ?? '';
    const outcome = await services.accounts.confirmEmailChange(person, token, formString(form, 'code', 32) ?? '', actor(request));
    if (outcome === 'wrong_code') {
      return send(reply, 400, emailCodePage(t, { csrf: csrf.tokenFor(request, reply), token, email: shown, error: t.t('account.emailCode.wrong') }));
    }
    if (outcome === 'taken') return renderProfile(request, reply, person, 409, { errors: { email: t.t('account.emailCode.taken') } });
    return renderProfile(request, reply, person, 200, { notice: t.t('account.emailCode.changed', { email: outcome.email }) });
  });

  server.post<{ Body: Form }>('/account/country', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    const country = (formString(request.body ?? {}, 'country', 8) ?? '').trim().toUpperCase();
    if (!isCountryCode(country)) return renderProfile(request, reply, person, 400, { errors: { country: t.t('account.profile.country.choose') } });
    const refuse = (status: number, message: string) => renderProfile(request, reply, person, status, { errors: { country_password: message } });
    if (!(await reauthenticated(request, reply, person, refuse))) return reply;
    let now: PersonRef;
    try {
      now = await services.zoneMoves.changeCountry(person, country, actor(request));
    } catch (error) {
      if (!(error instanceof ZoneMoveError)) throw error;
      return renderProfile(request, reply, person, 409, { errors: { country: t.t('account.profile.country.failed') } });
    }
    if (now.zone === person.zone) return renderProfile(request, reply, person, 200, { notice: t.t('account.profile.country.saved') });
    // The session moved with the person; its cookie still names the old zone, so it is replaced.
    await context.startSession(request, reply, now);
    return renderProfile(request, reply, now, 200, { notice: t.t('account.profile.country.moved', { to: t.t(`zone.${now.zone}`), from: t.t(`zone.${person.zone}`) }) });
  });

  server.post<{ Body: Form }>('/account/export', async (request, reply) => {
    const person = personOf(request);
    if (!(await reauthenticated(request, reply, person, refuseOnDataPage(request, reply, 'export')))) return reply;
    const data = await centre.exportData(person, actor(request));
    reply.header('Cache-Control', 'no-store');
    reply.header('Content-Disposition', 'attachment; filename="keygate-my-data.json"');
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(data, null, 2));
  });

  server.post<{ Body: Form }>('/account/delete', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    if ((formString(request.body ?? {}, 'confirm', 16) ?? '').trim() !== DELETE_WORD) {
      return send(reply, 400, dataPage(t, { csrf: csrf.tokenFor(request, reply), errors: { confirm: t.t('account.data.delete.confirmRefused', { word: DELETE_WORD }) } }));
    }
    if (!(await reauthenticated(request, reply, person, refuseOnDataPage(request, reply, 'delete')))) return reply;
    await centre.erase(person, { kind: 'person', id: person.id, requestId: request.id });
    await context.endSession(request, reply);
    return send(reply, 200, messagePage(t, t.t('account.data.deleted.title'), t.t('account.data.deleted.message')));
  });
}

/** The picture refusals the domain words, by their English wording. */
const IMAGE_REFUSALS: Readonly<Record<string, MessageKey>> = {
  'Choose a PNG, JPEG or WebP image of at most 5 MB.': 'account.profile.picture.tooLarge',
  'This file is not an image we can read. Choose a PNG, JPEG or WebP image.': 'account.profile.picture.unreadable',
  'Choose a PNG, JPEG or WebP image.': 'account.profile.picture.choose',
  'This image is damaged or truncated. Choose another one.': 'account.profile.picture.damaged',
};
