import type { ActivityRecord, ConnectedApp, ConsentProof, SessionSummary } from '../../domain/people/account-centre.js';
import type { Profile } from '../../domain/people/people-service.js';
import { FIELD_LABELS, isFieldCode } from '../../domain/consent/fields.js';
import { COUNTRY_OPTIONS, LANGUAGE_OPTIONS } from '../../domain/zones/countries.js';
import { ZONE_LABELS, type ZoneName } from '../../domain/zones/zones.js';
import { csrfField, input, select, type FieldErrors } from '../kit/form-controls.js';
import { html, type SafeHtml } from '../kit/html.js';
import { alert, notice, widePage } from '../kit/layout.js';
import { topbar } from './views.js';

const when = (date: Date) => date.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

export function profilePage(view: { csrf: string; profile: Profile; zone: ZoneName; hasImage: boolean; notice?: string; errors?: FieldErrors }): string {
  const p = view.profile;
  const e = view.errors ?? {};
  return widePage('Your profile', html`${topbar(view.csrf)}
<h1>Your profile</h1>
${notice(view.notice)}
<dl class="facts"><dt>Email</dt><dd>${p.email ?? ''}</dd><dt>Data stored in</dt><dd>the ${ZONE_LABELS[view.zone]} zone</dd></dl>
<form method="post" action="/account/profile" novalidate>
${csrfField(view.csrf)}
${input({ id: 'firstname', name: 'firstname', label: 'First name', type: 'text', value: p.firstname ?? '', autocomplete: 'given-name', error: e.firstname })}
${input({ id: 'surname', name: 'surname', label: 'Surname', type: 'text', value: p.surname ?? '', autocomplete: 'family-name', error: e.surname })}
${select({ id: 'language', name: 'language', label: 'Language', options: LANGUAGE_OPTIONS, value: p.language ?? '', error: e.language })}
<div class="actions"><button type="submit" class="primary">Save</button></div>
</form>
<section aria-labelledby="email-h"><h2 id="email-h">Email</h2>
<p class="fine">You sign in with your email, and apps you allow may read it. A code goes to the new address; the change takes effect once you enter it.</p>
<form method="post" action="/account/email" novalidate>
${csrfField(view.csrf)}
${input({ id: 'new-email', name: 'email', label: 'New email', type: 'email', value: '', autocomplete: 'email', error: e.email })}
${input({ id: 'email-password', name: 'password', label: 'Your password, to confirm the change', type: 'password', value: '', autocomplete: 'current-password', error: e.email_password })}
<div class="actions"><button type="submit" class="secondary">Change email</button></div>
</form>
</section>
<section aria-labelledby="country-h"><h2 id="country-h">Country</h2>
<p class="fine">Your country decides which legal zone stores your data. If you choose a country of another zone, everything about you moves there at once: your profile, the apps you allowed, your sessions and the record of who read your data. Nothing stays behind.</p>
<form method="post" action="/account/country" novalidate>
${csrfField(view.csrf)}
${select({ id: 'country', name: 'country', label: 'Country', options: COUNTRY_OPTIONS, value: p.country ?? '', error: e.country })}
${input({ id: 'country-password', name: 'password', label: 'Your password, to confirm the move', type: 'password', value: '', autocomplete: 'current-password', error: e.country_password })}
<div class="actions"><button type="submit" class="secondary">Change country</button></div>
</form>
</section>
<section aria-labelledby="picture-h"><h2 id="picture-h">Profile picture</h2>
${view.hasImage ? html`<img src="/account/image" alt="Your profile picture" class="avatar" width="128" height="128">
<form method="post" action="/account/image/remove" class="inline">${csrfField(view.csrf)}<button type="submit" class="link">Remove the picture</button></form>` : html`<p>No picture.</p>`}
<form method="post" action="/account/image" enctype="multipart/form-data" novalidate>
${csrfField(view.csrf)}
<div class="field"><label for="image">New picture (PNG, JPEG or WebP, up to 5 MB)</label>
<input id="image" name="image" type="file" accept="image/png,image/jpeg,image/webp" aria-invalid="${e.image ? 'true' : 'false'}"${e.image ? html` aria-describedby="image-error"` : html``}>
${e.image ? html`<p class="error" id="image-error">${e.image}</p>` : html``}</div>
<div class="actions"><button type="submit" class="secondary">Upload</button></div>
</form>
</section>`);
}

/** Step two of an email change: the code sent to the new address. */
export function emailCodePage(view: { csrf: string; token: string; email: string; error?: string }): string {
  return widePage('Confirm your new email', html`${topbar(view.csrf)}
<h1>Confirm your new email</h1>
<p>We sent a six-digit code to <strong>${view.email}</strong>. Enter it to make it your sign-in email.</p>
<form method="post" action="/account/email/confirm" novalidate>
${csrfField(view.csrf)}
<input type="hidden" name="token" value="${view.token}">
<input type="hidden" name="email" value="${view.email}">
${input({ id: 'code', name: 'code', label: 'Code from the email', type: 'text', value: '', autocomplete: 'one-time-code', error: view.error })}
<div class="actions"><button type="submit" class="primary">Confirm</button></div>
</form>
<p class="fine"><a href="/account/profile">Keep my current email</a></p>`);
}

function consentList(consents: readonly ConsentProof[]): SafeHtml {
  if (consents.length === 0) return html``;
  const names = (codes: readonly string[]) => codes.map((c) => (isFieldCode(c) ? FIELD_LABELS[c] : c)).join(', ') || 'nothing';
  return html`<section aria-labelledby="consents-h"><h2 id="consents-h">Your decisions</h2>
<ol class="timeline">${consents.map((c) => html`<li><time datetime="${c.decidedAt.toISOString()}">${when(c.decidedAt)}</time>
<strong>${c.appName}</strong> ${c.decision === 'allowed' ? 'allowed' : 'refused'}: asked for ${names(c.requested)}${c.mandatory.length > 0 ? html`, requiring ${names(c.mandatory)} (${c.legalBasis ?? ''})` : html``}; you granted ${names(c.granted)}${c.from ? html` <span class="fine">from ${c.from}</span>` : html``}</li>`)}</ol>
</section>`;
}

export function appsPage(view: { csrf: string; apps: readonly ConnectedApp[]; consents: readonly ConsentProof[]; notice?: string; error?: string }): string {
  return widePage('Connected apps', html`${topbar(view.csrf)}
<h1>Connected apps</h1>
${notice(view.notice)}${alert(view.error)}
${view.apps.length === 0 ? html`<p>No app can read anything about you.</p>` : view.apps.map((app) => html`<section class="app" aria-labelledby="app-${app.appId}">
<h2 id="app-${app.appId}">${app.name}</h2>
<p class="fine">Allowed since ${when(app.grantedAt)}. <a href="/account/activity?app=${app.appId}">What it read</a></p>
${app.fields.length === 0 ? html`<p>It knows only that you signed in; it reads no field.</p>` : html`<ul class="fields">${app.fields.map((field) => html`<li>${isFieldCode(field) ? FIELD_LABELS[field] : field}
<form method="post" action="/account/apps/revoke-field" class="inline">${csrfField(view.csrf)}<input type="hidden" name="app" value="${app.appId}"><input type="hidden" name="field" value="${field}"><button type="submit" class="link">Stop sharing ${isFieldCode(field) ? FIELD_LABELS[field] : field}</button></form></li>`)}</ul>`}
<form method="post" action="/account/apps/revoke">${csrfField(view.csrf)}<input type="hidden" name="app" value="${app.appId}"><button type="submit" class="secondary">Disconnect ${app.name}</button></form>
</section>`)}
${consentList(view.consents)}`);
}

const ACTIONS: Record<string, string> = {
  'field.read': 'read',
  'consent.given': 'was allowed in',
  'consent.refused': 'was refused',
  'consent.revoked': 'was disconnected',
  'consent.field_revoked': 'lost access to',
  'code.issued': 'received a sign-in code',
  'token.issued': 'received an access token',
  'person.signed_in': 'You signed in',
  'person.sign_in_failed': 'A wrong password was tried',
  'person.signed_up': 'You created your account',
  'person.exported': 'You exported your data',
  'person.sign_up_code_sent': 'A code to confirm your address was sent',
  'person.sign_in_code_sent': 'A sign-in code was sent to your address',
  'person.sign_in_code_withheld': 'A sign-in code was asked for before your address was confirmed; none was sent',
  'person.reset_link_sent': 'A password reset link was sent to your address',
  'person.second_factor_asked': 'Your authenticator code was asked for',
  'person.email_change_requested': 'You asked to change your email',
  'person.sign_up_attempted': 'Someone tried to create an account with your address',
};

function describe(record: ActivityRecord): SafeHtml {
  const field = record.field && isFieldCode(record.field) ? FIELD_LABELS[record.field] : record.field ?? '';
  const who = record.appName ?? (record.actorKind === 'person' ? 'You' : record.actorKind === 'system' ? 'Keygate' : record.actorKind === 'operator' ? 'The operator' : 'An app');
  const verb = ACTIONS[record.action];
  if (record.action.startsWith('person.') && verb) return html`${verb}`;
  return html`<strong>${who}</strong> ${verb ?? record.action.replace(/[._]/g, ' ')}${field ? html` <em>${field}</em>` : html``}${record.purpose && record.action === 'field.read' ? html` <span class="fine">(${record.purpose})</span>` : html``}`;
}

export function activityPage(view: { csrf: string; records: readonly ActivityRecord[]; apps: readonly ConnectedApp[]; appId?: string }): string {
  return widePage('Who read my data', html`${topbar(view.csrf)}
<h1>Who read my data</h1>
<form method="get" action="/account/activity" class="inline-form">
<div class="field"><label for="app">Show</label>
<select id="app" name="app"><option value="">Everything</option>${view.apps.map((a) => html`<option value="${a.appId}"${a.appId === view.appId ? html` selected` : html``}>${a.name}</option>`)}</select></div>
<div class="actions"><button type="submit" class="secondary">Filter</button></div>
</form>
${view.records.length === 0 ? html`<p>Nothing recorded.</p>` : html`<ol class="timeline">${view.records.map((r) => html`<li><time datetime="${r.at.toISOString()}">${when(r.at)}</time> ${describe(r)}</li>`)}</ol>`}`);
}

/** " (Firefox on Windows, from network 203.0.113.0/24)", from what the session kept. */
const origin = (s: SessionSummary) => {
  const parts = [s.device, s.network ? `from ${s.network}` : null].filter((p): p is string => p !== null);
  return parts.length > 0 ? html` <span class="fine">(${parts.join(', ')})</span>` : html``;
};

export function sessionsPage(view: { csrf: string; sessions: readonly SessionSummary[]; notice?: string }): string {
  return widePage('Sessions', html`${topbar(view.csrf)}
<h1>Where you are signed in</h1>
${notice(view.notice)}
<ul class="sessions">${view.sessions.map((s) => html`<li>${s.current ? html`<strong>This browser</strong>` : html`Another browser`}${origin(s)}: signed in ${when(s.createdAt)}, last used ${when(s.lastSeenAt)}
${s.current ? html`` : html`<form method="post" action="/account/sessions/end" class="inline">${csrfField(view.csrf)}<input type="hidden" name="session" value="${s.id}"><button type="submit" class="link">Sign it out</button></form>`}</li>`)}</ul>
<form method="post" action="/account/sessions/end-others">${csrfField(view.csrf)}<button type="submit" class="secondary">Sign out everywhere else</button></form>`);
}

export function dataPage(view: { csrf: string; errors?: FieldErrors }): string {
  const e = view.errors ?? {};
  return widePage('Export or delete', html`${topbar(view.csrf)}
<h1>Your data</h1>
<section aria-labelledby="export-h"><h2 id="export-h">Export</h2>
<p>One JSON file with everything Keygate holds about you: profile, consents, connected apps, sessions and the records of who read what.</p>
<form method="post" action="/account/export" novalidate>
${csrfField(view.csrf)}
${input({ id: 'export-password', name: 'password', label: 'Your password, to confirm it is you', type: 'password', autocomplete: 'current-password', error: e.export })}
<div class="actions"><button type="submit" class="primary">Download my data</button></div>
</form>
</section>
<section aria-labelledby="delete-h"><h2 id="delete-h">Delete my account</h2>
<p>Your data key is destroyed, so nothing of yours can be decrypted again, even from backups; every app loses access at once. This cannot be undone.</p>
<form method="post" action="/account/delete" novalidate>
${csrfField(view.csrf)}
${input({ id: 'delete-password', name: 'password', label: 'Your password', type: 'password', autocomplete: 'current-password', error: e.delete })}
${input({ id: 'delete-confirm', name: 'confirm', label: 'Type DELETE to confirm', type: 'text', autocomplete: 'off', error: e.confirm })}
<div class="actions"><button type="submit" class="danger">Delete my account</button></div>
</form>
</section>`);
}
