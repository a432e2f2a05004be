import type { ActivityRecord, ConnectedApp, ConsentProof, SessionSummary } from '../../domain/people/account-centre.js';
import type { Profile } from '../../domain/people/person-profiles.js';
import { isFieldCode } from '../../domain/consent/fields.js';
import type { ZoneName } from '../../domain/zones/zones.js';
import type { MessageKey } from '../../i18n/en.js';
import { csrfField, postForm, input, select, type FieldErrors } from '../kit/form-controls.js';
import { html, type SafeHtml } from '../kit/html.js';
import { alert, notice, widePage } from '../kit/layout.js';
import type { Texts } from '../kit/texts.js';
import { topbar } from './views.js';

/** What the person types to confirm the erasure, in every language. */
export const DELETE_WORD = 'DELETE';

/** A field's name in the page's language; a code that is no field of a profile as it is. */
const fieldName = (t: Texts, code: string): string => (isFieldCode(code) ? t.t(`field.${code}`) : code);

export function profilePage(t: Texts, view: { csrf: string; profile: Profile; zone: ZoneName; hasImage: boolean; notice?: string; errors?: FieldErrors }): string {
  const p = view.profile;
  const e = view.errors ?? {};
  return widePage(t, t.t('account.profile.title'), html`${topbar(t, view.csrf)}
<h1>${t.t('account.profile.title')}</h1>
${notice(view.notice)}
<dl class="facts"><dt>${t.t('field.email')}</dt><dd>${p.email ?? ''}</dd><dt>${t.t('account.profile.storedIn')}</dt><dd>${t.t('account.profile.zone', { zone: t.t(`zone.${view.zone}`) })}</dd></dl>
${postForm({ action: '/account/profile', csrf: view.csrf, submit: t.t('account.profile.save') }, html`<input type="hidden" name="language_shown" value="${p.language ?? ''}">
${input({ id: 'firstname', name: 'firstname', label: t.t('field.firstname'), type: 'text', value: p.firstname ?? '', autocomplete: 'given-name', error: e.firstname })}
${input({ id: 'surname', name: 'surname', label: t.t('field.surname'), type: 'text', value: p.surname ?? '', autocomplete: 'family-name', error: e.surname })}
${select({ id: 'language', name: 'language', label: t.t('field.language'), options: t.languages(), value: p.language ?? '', error: e.language, choose: t.t('form.choose') })}`)}
<section aria-labelledby="email-h"><h2 id="email-h">${t.t('field.email')}</h2>
<p class="fine">${t.t('account.profile.email.lead')}</p>
${postForm({ action: '/account/email', csrf: view.csrf, submit: t.t('account.profile.email.submit'), kind: 'secondary' }, html`${input({ id: 'new-email', name: 'email', label: t.t('account.profile.email.new'), type: 'email', value: '', autocomplete: 'email', error: e.email })}
${input({ id: 'email-password', name: 'password', label: t.t('account.profile.email.password'), type: 'password', value: '', autocomplete: 'current-password', error: e.email_password })}`)}
</section>
<section aria-labelledby="country-h"><h2 id="country-h">${t.t('field.country')}</h2>
<p class="fine">${t.t('account.profile.country.lead')}</p>
${postForm({ action: '/account/country', csrf: view.csrf, submit: t.t('account.profile.country.submit'), kind: 'secondary' }, html`${select({ id: 'country', name: 'country', label: t.t('field.country'), options: t.countries(), value: p.country ?? '', error: e.country, choose: t.t('form.choose') })}
${input({ id: 'country-password', name: 'password', label: t.t('account.profile.country.password'), type: 'password', value: '', autocomplete: 'current-password', error: e.country_password })}`)}
</section>
<section aria-labelledby="picture-h"><h2 id="picture-h">${t.t('account.profile.picture.heading')}</h2>
${view.hasImage ? html`<img src="/account/image" alt="${t.t('account.profile.picture.alt')}" class="avatar" width="128" height="128">
<form method="post" action="/account/image/remove" class="inline">${csrfField(view.csrf)}<button type="submit" class="link">${t.t('account.profile.picture.remove')}</button></form>` : html`<p>${t.t('account.profile.picture.none')}</p>`}
<form method="post" action="/account/image" enctype="multipart/form-data" novalidate>
${csrfField(view.csrf)}
<div class="field"><label for="image">${t.t('account.profile.picture.new')}</label>
<input id="image" name="image" type="file" accept="image/png,image/jpeg,image/webp" aria-invalid="${e.image ? 'true' : 'false'}"${e.image ? html` aria-describedby="image-error"` : html``}>
${e.image ? html`<p class="error" id="image-error">${e.image}</p>` : html``}</div>
<div class="actions"><button type="submit" class="secondary">${t.t('account.profile.picture.upload')}</button></div>
</form>
</section>`);
}

/** Step two of an email change: the code sent to the new address. */
export function emailCodePage(t: Texts, view: { csrf: string; token: string; email: string; error?: string }): string {
  return widePage(t, t.t('account.emailCode.title'), html`${topbar(t, view.csrf)}
<h1>${t.t('account.emailCode.title')}</h1>
<p>${t.rich('account.emailCode.lead', { strong: (chunks) => html`<strong>${chunks}</strong>`, email: view.email })}</p>
${postForm({ action: '/account/email/confirm', csrf: view.csrf, submit: t.t('account.emailCode.submit') }, html`<input type="hidden" name="token" value="${view.token}">
<input type="hidden" name="email" value="${view.email}">
${input({ id: 'code', name: 'code', label: t.t('account.emailCode.label'), type: 'text', value: '', autocomplete: 'one-time-code', error: view.error })}`)}
<p class="fine"><a href="/account/profile">${t.t('account.emailCode.keep')}</a></p>`);
}

function consentList(t: Texts, consents: readonly ConsentProof[]): SafeHtml {
  if (consents.length === 0) return html``;
  const names = (codes: readonly string[]) => codes.map((c) => fieldName(t, c)).join(', ') || t.t('account.apps.decisions.nothing');
  return html`<section aria-labelledby="consents-h"><h2 id="consents-h">${t.t('account.apps.decisions.heading')}</h2>
<ol class="timeline">${consents.map((c) => html`<li><time datetime="${c.decidedAt.toISOString()}">${t.when(c.decidedAt)}</time>
${t.rich(c.decision === 'allowed' ? 'account.apps.decisions.allowed' : 'account.apps.decisions.refused', {
    app: html`<strong>${c.appName}</strong>`,
    requested: names(c.requested),
    requiring: c.mandatory.length > 0 ? t.t('account.apps.decisions.requiring', { fields: names(c.mandatory), basis: c.legalBasis ?? '' }) : '',
    granted: names(c.granted),
  })}${c.from ? html` <span class="fine">${t.t('account.apps.decisions.from', { address: c.from })}</span>` : html``}</li>`)}</ol>
</section>`;
}

export function appsPage(t: Texts, view: { csrf: string; apps: readonly ConnectedApp[]; consents: readonly ConsentProof[]; notice?: string; error?: string }): string {
  return widePage(t, t.t('account.apps.title'), html`${topbar(t, view.csrf)}
<h1>${t.t('account.apps.title')}</h1>
${notice(view.notice)}${alert(view.error)}
${view.apps.length === 0 ? html`<p>${t.t('account.apps.none')}</p>` : view.apps.map((app) => html`<section class="app" aria-labelledby="app-${app.appId}">
<h2 id="app-${app.appId}">${app.name}</h2>
<p class="fine">${t.rich('account.apps.since', { when: t.when(app.grantedAt), link: (chunks) => html`<a href="/account/activity?app=${app.appId}">${chunks}</a>` })}</p>
${app.fields.length === 0 ? html`<p>${t.t('account.apps.noFields')}</p>` : html`<ul class="fields">${app.fields.map((field) => html`<li>${fieldName(t, field)}
<form method="post" action="/account/apps/revoke-field" class="inline">${csrfField(view.csrf)}<input type="hidden" name="app" value="${app.appId}"><input type="hidden" name="field" value="${field}"><button type="submit" class="link">${t.t('account.apps.stopSharing', { field: fieldName(t, field) })}</button></form></li>`)}</ul>`}
<form method="post" action="/account/apps/revoke">${csrfField(view.csrf)}<input type="hidden" name="app" value="${app.appId}"><button type="submit" class="secondary">${t.t('account.apps.disconnect', { app: app.name })}</button></form>
</section>`)}
${consentList(t, view.consents)}`);
}

/**
 * What each recorded action reads as. An app's action names who did it (`{who}`) and, for
 * some, the field (`{field}`), with its own words (`byYou`) where the person did it, so a
 * language can agree its verb with "you"; the person's own are whole sentences.
 */
const ACTIONS: Readonly<Record<string, { key: MessageKey; byYou?: MessageKey; field?: true; own?: true }>> = {
  'field.read': { key: 'account.activity.fieldRead', byYou: 'account.activity.fieldReadByYou', field: true },
  'consent.given': { key: 'account.activity.consentGiven' },
  'consent.refused': { key: 'account.activity.consentRefused' },
  'consent.revoked': { key: 'account.activity.consentRevoked' },
  'consent.field_revoked': { key: 'account.activity.consentFieldRevoked', field: true },
  'code.issued': { key: 'account.activity.codeIssued' },
  'token.issued': { key: 'account.activity.tokenIssued' },
  'token.revoked': { key: 'account.activity.tokenRevoked' },
  'person.signed_in': { key: 'account.activity.personSignedIn', own: true },
  'person.sign_in_failed': { key: 'account.activity.personSignInFailed', own: true },
  'person.signed_up': { key: 'account.activity.personSignedUp', own: true },
  'person.exported': { key: 'account.activity.personExported', own: true },
  'person.sign_up_code_sent': { key: 'account.activity.personSignUpCodeSent', own: true },
  'person.sign_in_code_sent': { key: 'account.activity.personSignInCodeSent', own: true },
  'person.sign_in_code_withheld': { key: 'account.activity.personSignInCodeWithheld', own: true },
  'person.reset_link_sent': { key: 'account.activity.personResetLinkSent', own: true },
  'person.second_factor_asked': { key: 'account.activity.personSecondFactorAsked', own: true },
  'person.email_change_requested': { key: 'account.activity.personEmailChangeRequested', own: true },
  'person.sign_up_attempted': { key: 'account.activity.personSignUpAttempted', own: true },
  'person.email_verified': { key: 'account.activity.personEmailVerified', own: true },
  'person.field_changed': { key: 'account.activity.personFieldChanged', own: true },
  'person.nickname_set': { key: 'account.activity.personNicknameSet', own: true },
  'person.nickname_removed': { key: 'account.activity.personNicknameRemoved', own: true },
  'person.password_changed': { key: 'account.activity.personPasswordChanged', own: true },
  'person.password_reset': { key: 'account.activity.personPasswordReset', own: true },
  'person.second_factor_undo_link_sent': { key: 'account.activity.personSecondFactorUndoLinkSent', own: true },
  'person.sessions_ended': { key: 'account.activity.personSessionsEnded', own: true },
  'person.signed_out': { key: 'account.activity.personSignedOut', own: true },
  'person.zone_moved_in': { key: 'account.activity.personZoneMovedIn', own: true },
  'person.zone_moved_out': { key: 'account.activity.personZoneMovedOut', own: true },
  'second_factor.enrolled': { key: 'account.activity.secondFactorEnrolled', own: true },
  'second_factor.disabled': { key: 'account.activity.secondFactorDisabled', own: true },
  'second_factor.failed': { key: 'account.activity.secondFactorFailed', own: true },
  'second_factor.passed': { key: 'account.activity.secondFactorPassed', own: true },
  'second_factor.recovery_code_used': { key: 'account.activity.secondFactorRecoveryCodeUsed', own: true },
  'second_factor.removed_by_mailed_link': { key: 'account.activity.secondFactorRemovedByMailedLink', own: true },
};

/** The purposes Keygate records its reads under, in words; any other is shown as recorded. */
const PURPOSES: Readonly<Record<string, MessageKey>> = {
  'ukey1.me': 'account.activity.purpose.ukeyMe',
  'account centre': 'account.activity.purpose.accountCentre',
  'account settings': 'account.activity.purpose.accountSettings',
  'consent history': 'account.activity.purpose.consentHistory',
  'list of sessions': 'account.activity.purpose.listOfSessions',
  'image fetch': 'account.activity.purpose.imageFetch',
  'the language of the pages': 'account.activity.purpose.pageLanguage',
  'private app list check': 'account.activity.purpose.privateAppListCheck',
  'password policy check': 'account.activity.purpose.passwordPolicyCheck',
  'notice of an email change': 'account.activity.purpose.emailChangeNotice',
  'email change': 'account.activity.purpose.emailChange',
  'data export': 'account.activity.purpose.dataExport',
  'dashboard owner list': 'account.activity.purpose.dashboardOwnerList',
  'authenticator app label': 'account.activity.purpose.authenticatorAppLabel',
};

/** A purpose in words, or (`recorded`) as it was recorded when Keygate has no words for it. */
function purposeText(t: Texts, purpose: string): { text: string; recorded: boolean } {
  const key = PURPOSES[purpose];
  if (key) return { text: t.t(key), recorded: false };
  // The mail Keygate sends about the account names its kind: `account email: signInCode`.
  if (purpose.startsWith('account email: ')) return { text: t.t('account.activity.purpose.accountEmail', { kind: purpose.slice('account email: '.length) }), recorded: false };
  return { text: purpose, recorded: true };
}

const WHO: Readonly<Record<string, MessageKey>> = {
  person: 'account.activity.who.you',
  system: 'account.activity.who.keygate',
  operator: 'account.activity.who.operator',
};

function describe(t: Texts, record: ActivityRecord): SafeHtml {
  const spec = ACTIONS[record.action];
  if (spec?.own) return html`${t.t(spec.key)}`;
  const field = record.field ? fieldName(t, record.field) : '';
  const byYou = record.appName === null && record.actorKind === 'person';
  const who = html`<strong>${record.appName ?? t.t(WHO[record.actorKind] ?? 'account.activity.who.app')}</strong>`;
  const said = record.purpose && record.action === 'field.read' ? purposeText(t, record.purpose) : null;
  const purpose = said ? html` <span class="fine${said.recorded ? ' recorded' : ''}">(${said.text})</span>` : html``;
  const fieldAfter = field && !spec?.field ? html` <em>${field}</em>` : html``;
  // An action without words of its own reads as its code.
  if (!spec) return html`${who} ${record.action.replace(/[._]/g, ' ')}${fieldAfter}${purpose}`;
  return html`${t.rich((byYou && spec.byYou) || spec.key, { who, field: field ? html`<em>${field}</em>` : html`` })}${fieldAfter}${purpose}`;
}

export function activityPage(t: Texts, view: { csrf: string; records: readonly ActivityRecord[]; apps: readonly ConnectedApp[]; appId?: string }): string {
  return widePage(t, t.t('account.activity.title'), html`${topbar(t, view.csrf)}
<h1>${t.t('account.activity.title')}</h1>
<form method="get" action="/account/activity" class="inline-form">
<div class="field"><label for="app">${t.t('account.activity.show')}</label>
<select id="app" name="app"><option value="">${t.t('account.activity.everything')}</option>${view.apps.map((a) => html`<option value="${a.appId}"${a.appId === view.appId ? html` selected` : html``}>${a.name}</option>`)}</select></div>
<div class="actions"><button type="submit" class="secondary">${t.t('account.activity.filter')}</button></div>
</form>
${view.records.length === 0 ? html`<p>${t.t('account.activity.nothing')}</p>` : html`<ol class="timeline">${view.records.map((r) => html`<li><time datetime="${r.at.toISOString()}">${t.when(r.at)}</time> ${describe(t, r)}</li>`)}</ol>`}`);
}

/**
 * The browser a session started from, kept as Keygate described it then ("Firefox on
 * Windows", "A browser on Linux", "Safari"), in the page's language.
 */
function deviceText(t: Texts, device: string): string {
  const on = device.indexOf(' on ');
  if (on < 0) return device;
  const browser = device.slice(0, on);
  return t.t('account.sessions.device', { browser: browser === 'A browser' ? t.t('account.sessions.someBrowser') : browser, os: device.slice(on + 4) });
}

/**
 * Where a session started from ("from network 203.0.113.0/24"), in the page's language,
 * from the network Keygate described then ("this computer", "a private network (…)").
 */
function networkText(t: Texts, network: string): string {
  if (network === 'this computer') return t.t('account.sessions.fromThisComputer');
  const local = /^a private network \((.+)\)$/.exec(network);
  if (local) return t.t('account.sessions.fromPrivateNetwork', { range: local[1]! });
  const wide = /^network (.+)$/.exec(network);
  if (wide) return t.t('account.sessions.fromNetwork', { range: wide[1]! });
  return t.t('account.sessions.from', { network });
}

/** " (Firefox on Windows, from network 203.0.113.0/24)", from what the session kept. */
const origin = (t: Texts, s: SessionSummary) => {
  const parts = [s.device ? deviceText(t, s.device) : null, s.network ? networkText(t, s.network) : null].filter((p): p is string => p !== null);
  return parts.length > 0 ? html` <span class="fine">(${parts.join(', ')})</span>` : html``;
};

export function sessionsPage(t: Texts, view: { csrf: string; sessions: readonly SessionSummary[]; notice?: string }): string {
  return widePage(t, t.t('account.sessions.title'), html`${topbar(t, view.csrf)}
<h1>${t.t('account.sessions.heading')}</h1>
${notice(view.notice)}
<ul class="sessions">${view.sessions.map((s) => html`<li>${t.rich('account.sessions.entry', {
    browser: s.current ? html`<strong>${t.t('account.sessions.thisBrowser')}</strong>` : t.t('account.sessions.anotherBrowser'),
    origin: origin(t, s),
    signedIn: t.when(s.createdAt),
    lastUsed: t.when(s.lastSeenAt),
  })}
${s.current ? html`` : html`<form method="post" action="/account/sessions/end" class="inline">${csrfField(view.csrf)}<input type="hidden" name="session" value="${s.id}"><button type="submit" class="link">${t.t('account.sessions.end')}</button></form>`}</li>`)}</ul>
<form method="post" action="/account/sessions/end-others">${csrfField(view.csrf)}<button type="submit" class="secondary">${t.t('account.sessions.endOthers')}</button></form>`);
}

export function dataPage(t: Texts, view: { csrf: string; errors?: FieldErrors }): string {
  const e = view.errors ?? {};
  return widePage(t, t.t('account.data.title'), html`${topbar(t, view.csrf)}
<h1>${t.t('account.data.heading')}</h1>
<section aria-labelledby="export-h"><h2 id="export-h">${t.t('account.data.export.heading')}</h2>
<p>${t.t('account.data.export.lead')}</p>
${postForm({ action: '/account/export', csrf: view.csrf, submit: t.t('account.data.export.submit') }, html`${input({ id: 'export-password', name: 'password', label: t.t('account.data.export.password'), type: 'password', autocomplete: 'current-password', error: e.export })}`)}
</section>
<section aria-labelledby="delete-h"><h2 id="delete-h">${t.t('account.data.delete.heading')}</h2>
<p>${t.t('account.data.delete.lead')}</p>
${postForm({ action: '/account/delete', csrf: view.csrf, submit: t.t('account.data.delete.submit'), kind: 'danger' }, html`${input({ id: 'delete-password', name: 'password', label: t.t('account.data.delete.password'), type: 'password', autocomplete: 'current-password', error: e.delete })}
${input({ id: 'delete-confirm', name: 'confirm', label: t.t('account.data.delete.confirm', { word: DELETE_WORD }), type: 'text', autocomplete: 'off', error: e.confirm })}`)}
</section>`);
}
