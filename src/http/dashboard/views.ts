import type { App } from '../../domain/apps/apps-service.js';
import type { ExtranetMember } from '../../domain/apps/extranet.js';
import type { UsageDay } from '../../domain/apps/usage.js';
import type { AppConsentProof } from '../../domain/consent/consent-proofs.js';
import { FIELD_CODES, FIELD_LABELS, MANDATORY_BY_DEFAULT } from '../../domain/consent/fields.js';
import { csrfField, errorText, input, type FieldErrors } from '../kit/form-controls.js';
import { html, SafeHtml } from '../kit/html.js';
import { alert, notice, widePage as page } from '../kit/layout.js';
import { renderUsageChart } from './usage-chart.js';

function textarea(props: { id: string; name: string; label: string; value: readonly string[]; hint: string; error?: string }): SafeHtml {
  return html`<div class="field">
<label for="${props.id}">${props.label}</label>
<textarea id="${props.id}" name="${props.name}" rows="3" aria-describedby="${props.id}-hint${props.error ? html` ${props.id}-error` : html``}" aria-invalid="${props.error ? 'true' : 'false'}">${props.value.join('\n')}</textarea>
<p class="fine" id="${props.id}-hint">${props.hint}</p>
${errorText(props.id, props.error)}
</div>`;
}

function checkbox(props: { id: string; name: string; label: string; checked: boolean; hint?: string; value?: string }): SafeHtml {
  return html`<div class="choice">
<input type="checkbox" id="${props.id}" name="${props.name}" value="${props.value ?? 'on'}"${props.checked ? html` checked` : html``}${props.hint ? html` aria-describedby="${props.id}-hint"` : html``}>
<label for="${props.id}">${props.label}</label>
${props.hint ? html`<span class="why" id="${props.id}-hint">${props.hint}</span>` : html``}
</div>`;
}

/**
 * What the Secret Key guarantees, where it is shown. It is the app's RSA public key and
 * every redirect and access token carries a signature made with the private half, so
 * anyone sent back to the app can compute it: saying "keep it secret" would promise what
 * the Ukey1 protocol cannot keep.
 */
const SECRET_KEY_NOTE = 'The Secret Key identifies this app, but it is no secret from its users: anyone sent back to the app can compute it from the signatures Keygate must publish (redirects, access tokens). Calls that change the app, such as its private list, are accepted only with IP protection on and from a listed address.';

/** A snippet the developer pastes into their app, with a copy button (dashboard.js). */
function copyableBlock(id: string, label: string, value: string): SafeHtml {
  return html`<div class="field">
<span class="label" id="${id}-label">${label}</span>
<pre class="credential" id="${id}" aria-labelledby="${id}-label"><code>${value}</code></pre>
<button type="button" class="secondary copy" data-copy="${id}">Copy ${label}</button>
</div>`;
}

/** How the published Ukey1 SDKs reach this app through this Keygate: the values to paste. */
function connectSection(app: App, publicUrl: string): SafeHtml {
  const returnUrl = app.returnUrls[0] ?? 'https://your-app.example/after-sign-in';
  const browserSnippet = `new Ukey1().connect({
  appId: '${app.id}',
  host: '${publicUrl}',
  returnUrl: '${returnUrl}',
  scope: ['firstname', 'email'],
});`;
  return html`<section aria-labelledby="connect-h"><h2 id="connect-h">Connect your app</h2>
<p>Apps written with the published Ukey1 SDKs (PHP, Node, React, jQuery) work unchanged once they are pointed at this Keygate: give them its address as the host, this App ID, and on your server the Secret Key.</p>
${copyable('connect-host', 'host', publicUrl)}
${copyableBlock('connect-browser', 'browser sign-in snippet', browserSnippet)}
<p class="fine">The return URL must be one of those registered under Protections. Server-side SDKs sign their calls with the Secret Key above and send your origin as <code>X-Origin</code>.</p>
</section>`;
}

/** A value the developer copies into their configuration, with a copy button (dashboard.js). */
function copyable(id: string, label: string, value: string): SafeHtml {
  return html`<div class="field">
<span class="label" id="${id}-label">${label}</span>
<code class="credential" id="${id}" aria-labelledby="${id}-label">${value}</code>
<button type="button" class="secondary copy" data-copy="${id}">Copy ${label}</button>
</div>`;
}

const day = (at: Date): string => at.toISOString().slice(0, 10);

function header(signedIn: boolean, csrf: string): SafeHtml {
  return html`<nav class="topbar"><a href="/dashboard">Your apps</a>${signedIn ? html`
<form method="post" action="/dashboard/sign-out" class="inline">${csrfField(csrf)}<button type="submit" class="link">Sign out</button></form>` : html``}</nav>`;
}

export interface NewAppForm {
  readonly name?: string;
  readonly origins?: readonly string[];
  readonly returnUrls?: readonly string[];
}

export function appListPage(view: { csrf: string; apps: ReadonlyArray<{ id: string; name: string }>; form?: NewAppForm; errors?: FieldErrors; notice?: string }): string {
  const f = view.form ?? {};
  const e = view.errors ?? {};
  return page('Your apps', html`${header(true, view.csrf)}
<h1>Your apps</h1>
${notice(view.notice)}
${view.apps.length === 0
    ? html`<p>You have no apps yet.</p>`
    : html`<ul class="apps">${view.apps.map((app) => html`<li><a href="/dashboard/apps/${app.id}">${app.name}</a> <code class="fine">${app.id}</code></li>`)}</ul>`}
<h2>Create an app</h2>
<p class="fine">New apps start with domain and return-URL protection on.</p>
<form method="post" action="/dashboard/apps" novalidate>
${csrfField(view.csrf)}
${input({ id: 'name', name: 'name', label: 'Name (people see it on the consent screen)', type: 'text', value: f.name, autocomplete: 'off', error: e.name })}
${textarea({ id: 'origins', name: 'origins', label: 'Origins', value: f.origins ?? [], hint: 'One per line, e.g. https://app.example.org', error: e.origins })}
${textarea({ id: 'returnUrls', name: 'returnUrls', label: 'Return URLs', value: f.returnUrls ?? [], hint: 'One per line, at least one, e.g. https://app.example.org/callback/', error: e.returnUrls })}
<div class="actions"><button type="submit" class="primary">Create app</button></div>
</form>`);
}

export function credentialsPage(view: { csrf: string; app: { id: string; name: string }; secretKey: string; rotated?: boolean }): string {
  return page(`${view.app.name}: credentials`, html`${header(true, view.csrf)}
<h1>${view.rotated ? 'New Secret Key for' : 'Created'} ${view.app.name}</h1>
<p class="notice" role="status">Copy these into your app's server configuration now.</p>
${copyable('app-id', 'App ID', view.app.id)}
${copyable('secret-key', 'Secret Key', view.secretKey)}
<p class="fine">${SECRET_KEY_NOTE}</p>
<p><a href="/dashboard/apps/${view.app.id}">Continue to the app's settings</a></p>`);
}

export interface AppPageView {
  readonly csrf: string;
  readonly app: App;
  /** Where the app's SDK reaches Keygate. */
  readonly publicUrl: string;
  readonly owners: ReadonlyArray<{ id: string; email: string | null; you: boolean }>;
  readonly members: readonly ExtranetMember[];
  readonly usage: readonly UsageDay[];
  readonly trail: ReadonlyArray<{ at: Date; action: string; detail: string | null; actorKind: string }>;
  readonly consents: readonly AppConsentProof[];
  readonly notice?: string;
  readonly errors?: FieldErrors;
  /** Values re-shown after a refused save, as entered. */
  readonly entered?: Partial<Record<'origins' | 'returnUrls' | 'ipEntries', readonly string[]>>;
}

/** What each protection being off allows, shown next to it. */
export function protectionWarnings(app: App): string[] {
  const warnings: string[] = [];
  if (!app.protections.domain) warnings.push('Domain protection is off: browsers on any site may call the API with this App ID, and server calls are not held to a listed X-Origin.');
  if (!app.protections.returnUrl) warnings.push('Return URL protection is off: a sign-in request may send people back to any https URL, so a stolen App ID can phish codes to another site.');
  if (!app.protections.serverOnly) warnings.push('Server-only protection is off: unsigned calls from browsers are accepted (needed by browser SDKs).');
  if (!app.protections.ip) warnings.push('IP protection is off: calls and sign-ins are accepted from any network address, and the API refuses calls that change the app (its private list).');
  return warnings;
}

export function appPage(view: AppPageView): string {
  const { app } = view;
  const e = view.errors ?? {};
  const entered = view.entered ?? {};
  const path = `/dashboard/apps/${app.id}`;
  const retiring = app.keys.slice(1);
  const warnings = protectionWarnings(app);
  const chart = renderUsageChart(view.usage, { title: `${app.name}: the last ${view.usage.length} days`, signIns: 'Sign-ins', tokens: 'Tokens issued' });
  return page(app.name, html`${header(true, view.csrf)}
<h1>${app.name}</h1>
${notice(view.notice)}
${alert(e.form)}
${copyable('app-id', 'App ID', app.id)}
<details><summary>Secret Key</summary>${copyable('secret-key', 'Secret Key', app.secretKey)}
<p class="fine">${SECRET_KEY_NOTE}</p></details>

${connectSection(app, view.publicUrl)}

<section aria-labelledby="usage-h"><h2 id="usage-h">Usage</h2>
<figure class="chart">${new SafeHtml(chart)}</figure>
</section>

<section aria-labelledby="protections-h"><h2 id="protections-h">Protections</h2>
${warnings.length > 0 ? html`<ul class="warnings">${warnings.map((w) => html`<li>${w}</li>`)}</ul>` : html`<p class="notice">Every protection is on.</p>`}
<form method="post" action="${path}/protections" novalidate>
${csrfField(view.csrf)}
<fieldset><legend>Domain protection</legend>
${checkbox({ id: 'domain', name: 'domain', label: 'Only listed origins', checked: app.protections.domain,
    hint: 'Browsers get CORS answers only for these origins. Server calls must send a listed X-Origin, but a server chooses its own X-Origin: for server calls it is a fence, not a lock.' })}
${textarea({ id: 'origins', name: 'origins', label: 'Origins', value: entered.origins ?? app.origins, hint: 'One per line: scheme://host[:port].', error: e.origins })}
</fieldset>
<fieldset><legend>Return URL protection</legend>
${checkbox({ id: 'returnUrl', name: 'returnUrl', label: 'Only listed return URLs', checked: app.protections.returnUrl,
    hint: 'A return URL must have the scheme, host and port of a listed one, and its path must start with the listed path.' })}
${textarea({ id: 'returnUrls', name: 'returnUrls', label: 'Return URLs', value: entered.returnUrls ?? app.returnUrls, hint: 'One per line, at least one.', error: e.returnUrls })}
</fieldset>
<fieldset><legend>Server-only protection</legend>
${checkbox({ id: 'serverOnly', name: 'serverOnly', label: 'Accept only signed server-to-server calls', checked: app.protections.serverOnly,
    hint: 'Unsigned (browser) calls are refused and get no CORS headers. Browser SDKs stop working. This stops browsers, not a determined user: anyone sent back to the app can compute the Secret Key and sign calls. Only IP protection tells your server from them.' })}
</fieldset>
<fieldset><legend>IP protection</legend>
${checkbox({ id: 'ip', name: 'ip', label: 'Only listed addresses', checked: app.protections.ip,
    hint: 'API calls and gateway sign-ins for this app are accepted only from these IPv4/IPv6 addresses and subnets. Calls that change the app (its private list) need it on.' })}
${textarea({ id: 'ipEntries', name: 'ipEntries', label: 'Addresses and subnets', value: entered.ipEntries ?? app.ipEntries, hint: 'One per line, e.g. 203.0.113.7 or 2001:db8::/32.', error: e.ipEntries })}
</fieldset>
<div class="actions"><button type="submit" class="primary">Save protections</button></div>
</form>
</section>

<section aria-labelledby="fields-h"><h2 id="fields-h">Fields the app may ask for</h2>
<form method="post" action="${path}/fields" novalidate>
${csrfField(view.csrf)}
${errorText('fields', e.permissions ?? e.legalBases)}
<table class="fields"><thead><tr><th scope="col">Field</th><th scope="col">May ask</th><th scope="col">May require</th><th scope="col">Legal basis when required</th></tr></thead>
<tbody>${FIELD_CODES.map((field) => {
    const mayRequire = MANDATORY_BY_DEFAULT.includes(field) || app.mandatoryApproved.includes(field);
    return html`<tr><th scope="row">${FIELD_LABELS[field]}</th>
<td><input type="checkbox" name="ask" value="${field}" aria-label="May ask for ${FIELD_LABELS[field]}"${app.permissions.includes(field) ? html` checked` : html``}></td>
<td>${mayRequire
      ? html`<input type="checkbox" name="require" value="${field}" aria-label="May require ${FIELD_LABELS[field]}"${app.permissions.includes(`${field}!`) ? html` checked` : html``}>`
      : html`<span class="fine">needs the operator's approval</span>`}</td>
<td>${mayRequire ? html`<input type="text" name="basis_${field}" aria-label="Legal basis for requiring ${FIELD_LABELS[field]}" value="${app.legalBases[field] ?? ''}" maxlength="500">` : html``}</td></tr>`;
  })}</tbody></table>
<div class="actions"><button type="submit" class="primary">Save fields</button></div>
</form>
</section>

<section aria-labelledby="private-h"><h2 id="private-h">Private app</h2>
<form method="post" action="${path}/private" class="inline-form">
${csrfField(view.csrf)}
<p>${app.private ? 'Only the owners and the people listed below may sign in.' : 'Anyone with a Keygate account may sign in.'}</p>
<input type="hidden" name="private" value="${app.private ? 'off' : 'on'}">
<button type="submit" class="secondary">${app.private ? 'Make public' : 'Make private'}</button>
</form>
${app.private ? html`<h3>Allowed people</h3>
${view.members.length === 0 ? html`<p>Nobody is on the list yet.</p>` : html`<ul class="members">${view.members.map((m) => html`<li>${m.email}
<span class="fine">${m.mailedAt ? `invitation emailed ${day(m.mailedAt)}` : 'not emailed yet'}</span>
<form method="post" action="${path}/extranet/resend" class="inline">${csrfField(view.csrf)}<input type="hidden" name="reference" value="${m.referenceId}"><button type="submit" class="link">Resend invitation to ${m.email}</button></form>
<form method="post" action="${path}/extranet/remove" class="inline">${csrfField(view.csrf)}<input type="hidden" name="reference" value="${m.referenceId}"><button type="submit" class="link">Remove ${m.email}</button></form></li>`)}</ul>`}
<p class="fine">Each address is emailed once, when it is added; "Resend invitation" emails it again. The email links to Keygate's page about this app, which links on to the app's first origin. An address gets a few invitations a day at most, from all apps together.</p>
<form method="post" action="${path}/extranet" novalidate>
${csrfField(view.csrf)}
${input({ id: 'invite-email', name: 'email', label: 'Invite by email', type: 'email', autocomplete: 'off', error: e.invite })}
<div class="field"><label for="invite-locale">Language of the invitation</label>
<select id="invite-locale" name="locale"><option value="en_GB">English</option><option value="cs_CZ">Čeština</option></select></div>
<div class="actions"><button type="submit" class="primary">Send invitation</button></div>
</form>` : html``}
</section>

<section aria-labelledby="keys-h"><h2 id="keys-h">Secret Key rotation</h2>
${retiring.length > 0 ? html`<ul>${retiring.map((k) => html`<li>A previous Secret Key keeps working until ${k.retiresAt!.toISOString().replace('T', ' ').slice(0, 16)} UTC.</li>`)}</ul>` : html``}
<form method="post" action="${path}/rotate" novalidate>
${csrfField(view.csrf)}
<div class="field"><label for="grace">Keep the current Secret Key working for</label>
<select id="grace" name="graceDays"${e.graceDays ? html` aria-invalid="true" aria-describedby="grace-error"` : html``}>${[0, 1, 2, 3, 4, 5, 6, 7].map((d) => html`<option value="${d}"${d === 1 ? html` selected` : html``}>${d === 0 ? 'no time: it stops now' : `${d} day${d > 1 ? 's' : ''}`}</option>`)}</select>
${errorText('grace', e.graceDays)}</div>
<div class="actions"><button type="submit" class="primary">Issue a new Secret Key</button></div>
</form>
</section>

<section aria-labelledby="owners-h"><h2 id="owners-h">Owners</h2>
<ul class="owners">${view.owners.map((o) => html`<li>${o.email ?? 'an erased account'}${o.you ? ' (you)' : ''}${view.owners.length > 1 ? html`
<form method="post" action="${path}/owners/remove" class="inline">${csrfField(view.csrf)}<input type="hidden" name="person" value="${o.id}"><button type="submit" class="link">Remove</button></form>` : html``}</li>`)}</ul>
<form method="post" action="${path}/owners" novalidate>
${csrfField(view.csrf)}
${input({ id: 'owner-email', name: 'email', label: 'Invite an owner (their Keygate account email)', type: 'email', autocomplete: 'off', error: e.owners })}
<p class="fine">The account gets an invitation by email and becomes an owner once it accepts.</p>
<div class="actions"><button type="submit" class="secondary">Invite owner</button></div>
</form>
</section>

<section aria-labelledby="trail-h"><h2 id="trail-h">Audit trail</h2>
${view.trail.length === 0 ? html`<p>Nothing recorded yet.</p>` : html`<ol class="timeline">${view.trail.map((r) => html`<li><time datetime="${r.at.toISOString()}">${r.at.toISOString().replace('T', ' ').slice(0, 16)} UTC</time> <code>${r.action}</code>${r.detail ? html` <span class="fine">${r.detail}</span>` : html``} <span class="fine">(${r.actorKind})</span></li>`)}</ol>`}
</section>

<section aria-labelledby="consent-proofs-h"><h2 id="consent-proofs-h">Consent proofs</h2>
<p class="fine">The latest decisions people made about this app, each person known only by their id for this app. Where each decision was made from is kept for the person and the audit, not shown here.</p>
${view.consents.length === 0 ? html`<p>No decision yet.</p>` : html`<table class="fields"><thead><tr><th scope="col">When (UTC)</th><th scope="col">User id</th><th scope="col">Decision</th><th scope="col">Asked</th><th scope="col">Required (legal basis)</th><th scope="col">Granted</th></tr></thead>
<tbody>${view.consents.map((c) => html`<tr><td>${c.decidedAt.toISOString().replace('T', ' ').slice(0, 16)}</td><td><code>${c.userId}</code></td><td>${c.decision}</td><td>${c.requested.join(', ')}</td><td>${c.mandatory.join(', ')}${c.legalBasis ? html` <span class="fine">(${c.legalBasis})</span>` : html``}</td><td>${c.granted.join(', ')}</td></tr>`)}</tbody></table>`}
</section>

<section aria-labelledby="danger-h"><h2 id="danger-h">Rename or delete</h2>
<form method="post" action="${path}/rename" novalidate>
${csrfField(view.csrf)}
${input({ id: 'rename', name: 'name', label: 'Name', type: 'text', value: app.name, autocomplete: 'off', error: e.name })}
<div class="actions"><button type="submit" class="secondary">Rename</button></div>
</form>
<form method="post" action="${path}/delete" novalidate>
${csrfField(view.csrf)}
${input({ id: 'confirm', name: 'confirm', label: `Type the app's name to delete it`, type: 'text', autocomplete: 'off', error: e.confirm })}
<div class="actions"><button type="submit" class="danger">Delete app</button></div>
</form>
</section>`);
}

/** An invitation to own an app, as its invitee sees it behind the link. */
export function ownerInvitationPage(view: { csrf: string; appName: string; expiresAt: Date; action: string }): string {
  return page(`Invitation to own ${view.appName}`, html`${header(true, view.csrf)}
<h1>Become an owner of ${view.appName}?</h1>
<p>An owner of <strong>${view.appName}</strong> invited your Keygate account to become one of its owners. Owners manage the app here: its settings, its Secret Key, who may sign in, and its owners.</p>
<p class="fine">The invitation works until ${view.expiresAt.toISOString().replace('T', ' ').slice(0, 16)} UTC, once.</p>
<form method="post" action="${view.action}" class="inline-form">
${csrfField(view.csrf)}
<div class="actions"><button type="submit" class="primary" name="decision" value="accept">Accept</button>
<button type="submit" class="secondary" name="decision" value="decline">Decline</button></div>
</form>`);
}

/** The link of an invitation opened without a session: sign in first, as the invited account. */
export function signInToAnswerPage(): string {
  return page('Sign in to answer', html`${header(false, '')}
<h1>Sign in to answer this invitation</h1>
<p>This link is an invitation to become an owner of an app. Only the Keygate account it was sent to can answer it.</p>
<p><a href="/dashboard/sign-in">Sign in to the dashboard</a> with that account, then open the link from the email again.</p>`);
}
