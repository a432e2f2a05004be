import type { App } from '../../domain/apps/app.js';
import type { ExtranetMember } from '../../domain/apps/extranet.js';
import type { UsageDay } from '../../domain/apps/usage.js';
import type { AppConsentProof } from '../../domain/consent/consent-store.js';
import { FIELD_CODES, MANDATORY_BY_DEFAULT, type FieldCode } from '../../domain/consent/fields.js';
import type { MessageKey } from '../../i18n/en.js';
import { csrfField, postForm, errorText, input, type FieldErrors } from '../kit/form-controls.js';
import { html, SafeHtml } from '../kit/html.js';
import { alert, notice, widePage as page } from '../kit/layout.js';
import type { Texts } from '../kit/texts.js';
import { renderUsageChart } from './usage-chart.js';
import { CATALOGUES } from '../../i18n/catalogues.js';
import { UI_LANGUAGES } from '../../i18n/languages.js';

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

/** A field's name in the page's language. */
const fieldLabel = (t: Texts, field: FieldCode): string => t.t(`field.${field}` as MessageKey);

/**
 * What the Secret Key guarantees, where it is shown (`dashboard.secretKeyNote`). It is the
 * app's RSA public key and every redirect and access token carries a signature made with
 * the private half, so anyone sent back to the app can compute it: saying "keep it secret"
 * would promise what the Ukey1 protocol cannot keep.
 */
const secretKeyNote = (t: Texts): string => t.t('dashboard.secretKeyNote');

/** A snippet the developer pastes into their app, with a copy button (dashboard.js). */
function copyableBlock(id: string, label: string, copy: string, value: string): SafeHtml {
  return html`<div class="field">
<span class="label" id="${id}-label">${label}</span>
<pre class="credential" id="${id}" aria-labelledby="${id}-label"><code>${value}</code></pre>
<button type="button" class="secondary copy" data-copy="${id}">${copy}</button>
</div>`;
}

/** How the published Ukey1 SDKs reach this app through this Keygate: the values to paste. */
function connectSection(t: Texts, app: App, publicUrl: string): SafeHtml {
  const returnUrl = app.returnUrls[0] ?? 'https://your-app.example/after-sign-in';
  const browserSnippet = `new Ukey1().connect({
  appId: '${app.id}',
  host: '${publicUrl}',
  returnUrl: '${returnUrl}',
  scope: ['firstname', 'email'],
});`;
  return html`<section aria-labelledby="connect-h"><h2 id="connect-h">${t.t('dashboard.connect.heading')}</h2>
<p>${t.t('dashboard.connect.lead')}</p>
${copyable('connect-host', t.t('dashboard.connect.host'), t.t('dashboard.connect.copyHost'), publicUrl)}
${copyableBlock('connect-browser', t.t('dashboard.connect.snippet'), t.t('dashboard.connect.copySnippet'), browserSnippet)}
<p class="fine">${t.rich('dashboard.connect.note', { code: (chunks) => html`<code>${chunks}</code>` })}</p>
</section>`;
}

/** How a standard OpenID Connect client reaches this app: the values to configure, its redirect URIs, its secret. */
function oidcSection(t: Texts, view: {
  app: App; publicUrl: string; csrf: string; entered?: readonly string[]; error?: string;
  enteredLogout?: readonly string[]; enteredBackchannel?: string; enteredJwks?: readonly string[]; errors?: FieldErrors;
}): SafeHtml {
  const { app } = view;
  const path = `/dashboard/apps/${app.id}`;
  return html`<section aria-labelledby="oidc-h"><h2 id="oidc-h">${t.t('dashboard.oidc.heading')}</h2>
<p>${t.t('dashboard.oidc.lead')}</p>
${copyable('oidc-issuer', t.t('dashboard.oidc.issuer'), t.t('dashboard.oidc.copyIssuer'), view.publicUrl)}
${copyable('oidc-discovery', t.t('dashboard.oidc.discovery'), t.t('dashboard.oidc.copyDiscovery'), `${view.publicUrl}/.well-known/openid-configuration`)}
${copyable('oidc-client-id', t.t('dashboard.oidc.clientId'), t.t('dashboard.oidc.copyClientId'), app.id)}
<p>${app.publicClient ? t.t('dashboard.oidc.public') : t.t('dashboard.oidc.confidential')}</p>
${postForm({ action: `${path}/redirect-uris`, csrf: view.csrf, submit: t.t('dashboard.oidc.saveRedirectUris') },
    textarea({ id: 'redirectUris', name: 'redirectUris', label: t.t('dashboard.oidc.redirectUris'), value: view.entered ?? app.redirectUris, hint: t.t('dashboard.list.create.redirectUrisHint'), error: view.error }))}
${postForm({ action: `${path}/logout`, csrf: view.csrf, submit: t.t('dashboard.oidc.saveLogout') },
    html`${textarea({ id: 'postLogoutRedirectUris', name: 'postLogoutRedirectUris', label: t.t('dashboard.oidc.postLogoutRedirectUris'), value: view.enteredLogout ?? app.postLogoutRedirectUris, hint: t.t('dashboard.oidc.postLogoutHint'), error: view.errors?.postLogoutRedirectUris })}
${input({ id: 'backchannelLogoutUri', name: 'backchannelLogoutUri', label: t.t('dashboard.oidc.backchannelLogoutUri'), type: 'url', value: view.enteredBackchannel ?? app.backchannelLogoutUri ?? '', autocomplete: 'off', hint: t.t('dashboard.oidc.backchannelHint'), error: view.errors?.backchannelLogoutUri, optional: true })}`)}
${app.publicClient ? html`` : postForm({ action: `${path}/client-keys`, csrf: view.csrf, submit: t.t('dashboard.oidc.saveClientJwks'), kind: 'secondary' },
    textarea({ id: 'clientJwks', name: 'clientJwks', label: t.t('dashboard.oidc.clientJwks'), value: view.enteredJwks ?? (app.clientJwks ? JSON.stringify(app.clientJwks, null, 2).split('\n') : []), hint: t.t('dashboard.oidc.clientJwksHint'), error: view.errors?.clientJwks }))}
${app.publicClient ? html`` : postForm({ action: `${path}/client-secret`, csrf: view.csrf, submit: t.t('dashboard.oidc.regenerate'), kind: 'secondary' },
    html`<p class="fine">${t.t('dashboard.oidc.regenerateNote')}</p>`)}
</section>`;
}

/** A value the developer copies into their configuration, with a copy button (dashboard.js). */
function copyable(id: string, label: string, copy: string, value: string): SafeHtml {
  return html`<div class="field">
<span class="label" id="${id}-label">${label}</span>
<code class="credential" id="${id}" aria-labelledby="${id}-label">${value}</code>
<button type="button" class="secondary copy" data-copy="${id}">${copy}</button>
</div>`;
}

/** The App ID and the Secret Key keep their names in every language. */
const copyableAppId = (t: Texts, appId: string): SafeHtml => copyable('app-id', 'App ID', t.t('dashboard.copyAppId'), appId);
const copyableSecretKey = (t: Texts, secretKey: string): SafeHtml => copyable('secret-key', 'Secret Key', t.t('dashboard.copySecretKey'), secretKey);

function header(t: Texts, signedIn: boolean, csrf: string): SafeHtml {
  return html`<nav class="topbar"><a href="/dashboard">${t.t('dashboard.nav.apps')}</a>${signedIn ? html`
<form method="post" action="/dashboard/sign-out" class="inline">${csrfField(csrf)}<button type="submit" class="link">${t.t('dashboard.nav.signOut')}</button></form>` : html``}</nav>`;
}

export interface NewAppForm {
  readonly name?: string;
  readonly origins?: readonly string[];
  readonly returnUrls?: readonly string[];
  readonly redirectUris?: readonly string[];
  readonly publicClient?: boolean;
}

export function appListPage(t: Texts, view: { csrf: string; apps: ReadonlyArray<{ id: string; name: string }>; form?: NewAppForm; errors?: FieldErrors; notice?: string }): string {
  const f = view.form ?? {};
  const e = view.errors ?? {};
  return page(t, t.t('dashboard.list.title'), html`${header(t, true, view.csrf)}
<h1>${t.t('dashboard.list.title')}</h1>
${notice(view.notice)}
${view.apps.length === 0
    ? html`<p>${t.t('dashboard.list.none')}</p>`
    : html`<ul class="apps">${view.apps.map((app) => html`<li><a href="/dashboard/apps/${app.id}">${app.name}</a> <code class="fine">${app.id}</code></li>`)}</ul>`}
<h2>${t.t('dashboard.list.create.heading')}</h2>
<p class="fine">${t.t('dashboard.list.create.lead')}</p>
${postForm({ action: '/dashboard/apps', csrf: view.csrf, submit: t.t('dashboard.list.create.submit') }, html`${input({ id: 'name', name: 'name', label: t.t('dashboard.list.create.name'), type: 'text', value: f.name, autocomplete: 'off', error: e.name })}
${textarea({ id: 'origins', name: 'origins', label: t.t('dashboard.origins'), value: f.origins ?? [], hint: t.t('dashboard.list.create.originsHint'), error: e.origins })}
${textarea({ id: 'returnUrls', name: 'returnUrls', label: t.t('dashboard.returnUrls'), value: f.returnUrls ?? [], hint: t.t('dashboard.list.create.returnUrlsHint'), error: e.returnUrls })}
${textarea({ id: 'redirectUris', name: 'redirectUris', label: t.t('dashboard.list.create.redirectUris'), value: f.redirectUris ?? [], hint: t.t('dashboard.list.create.redirectUrisHint'), error: e.redirectUris })}
${checkbox({ id: 'publicClient', name: 'publicClient', label: t.t('dashboard.list.create.publicClient'), checked: f.publicClient ?? false, hint: t.t('dashboard.list.create.publicClientHint') })}`)}`);
}

/**
 * Credentials shown once: after the app is created (its Secret Key, and its client secret
 * when it is a confidential OpenID Connect client), after a key rotation, or after a new
 * client secret was made (`secretKey` absent).
 */
export function credentialsPage(t: Texts, view: { csrf: string; app: { id: string; name: string }; secretKey?: string; clientSecret?: string; rotated?: boolean }): string {
  const app = view.app.name;
  const heading = view.secretKey === undefined ? t.t('dashboard.credentials.clientSecretRegenerated', { app })
    : view.rotated ? t.t('dashboard.credentials.rotated', { app }) : t.t('dashboard.credentials.created', { app });
  return page(t, t.t('dashboard.credentials.title', { app }), html`${header(t, true, view.csrf)}
<h1>${heading}</h1>
<p class="notice" role="status">${t.t('dashboard.credentials.copyNow')}</p>
${copyableAppId(t, view.app.id)}
${view.secretKey === undefined ? html`` : html`${copyableSecretKey(t, view.secretKey)}
<p class="fine">${secretKeyNote(t)}</p>`}
${view.clientSecret === undefined ? html`` : html`${copyable('client-secret', 'client_secret', t.t('dashboard.credentials.copyClientSecret'), view.clientSecret)}
<p class="fine">${t.t('dashboard.credentials.clientSecretNote')}</p>`}
<p><a href="/dashboard/apps/${view.app.id}">${t.t('dashboard.credentials.continue')}</a></p>`);
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
  readonly entered?: Partial<Record<'origins' | 'returnUrls' | 'ipEntries' | 'redirectUris' | 'postLogoutRedirectUris' | 'backchannelLogoutUri' | 'clientJwks', readonly string[]>>;
}

/** One protection of an app: its switch, and the list it checks against where it has one. */
function protectionFieldset(t: Texts, props: {
  protection: 'domain' | 'returnUrl' | 'serverOnly' | 'ip';
  on: boolean;
  list?: { id: 'origins' | 'returnUrls' | 'ipEntries'; label: string; value: readonly string[]; error?: string };
}): SafeHtml {
  const { protection, list } = props;
  return html`<fieldset><legend>${t.t(`dashboard.app.protections.${protection}`)}</legend>
${checkbox({ id: protection, name: protection, label: t.t(`dashboard.app.protections.${protection}Label`), checked: props.on,
    hint: t.t(`dashboard.app.protections.${protection}Hint`) })}
${list ? textarea({ id: list.id, name: list.id, label: list.label, value: list.value, hint: t.t(`dashboard.app.protections.${list.id}Hint`), error: list.error }) : html``}
</fieldset>`;
}

/** What each protection being off allows, shown next to it. */
export function protectionWarnings(t: Texts, app: App): string[] {
  const warnings: string[] = [];
  if (!app.protections.domain) warnings.push(t.t('dashboard.app.protections.domainOff'));
  if (!app.protections.returnUrl) warnings.push(t.t('dashboard.app.protections.returnUrlOff'));
  if (!app.protections.serverOnly) warnings.push(t.t('dashboard.app.protections.serverOnlyOff'));
  if (!app.protections.ip) warnings.push(t.t('dashboard.app.protections.ipOff'));
  return warnings;
}

const ACTOR_KINDS: Readonly<Record<string, MessageKey>> = {
  person: 'dashboard.app.trail.actor.person',
  app: 'dashboard.app.trail.actor.app',
  operator: 'dashboard.app.trail.actor.operator',
  system: 'dashboard.app.trail.actor.system',
};

/** Who acted, in the page's language; a kind this page does not know is shown as recorded. */
const actorKind = (t: Texts, kind: string): string => (Object.hasOwn(ACTOR_KINDS, kind) ? t.t(ACTOR_KINDS[kind]!) : kind);

const DECISIONS: Readonly<Record<string, MessageKey>> = {
  allowed: 'dashboard.app.consents.allowed',
  canceled: 'dashboard.app.consents.canceled',
};

const decision = (t: Texts, value: string): string => (Object.hasOwn(DECISIONS, value) ? t.t(DECISIONS[value]!) : value);

export function appPage(t: Texts, view: AppPageView): string {
  const { app } = view;
  const e = view.errors ?? {};
  const entered = view.entered ?? {};
  const path = `/dashboard/apps/${app.id}`;
  const retiring = app.keys.slice(1);
  const warnings = protectionWarnings(t, app);
  const chart = renderUsageChart(view.usage, {
    title: t.t('dashboard.app.usage.chartTitle', { app: app.name, days: view.usage.length }),
    signIns: t.t('dashboard.app.usage.signIns'),
    tokens: t.t('dashboard.app.usage.tokens'),
    noActivity: t.t('dashboard.app.usage.noActivity'),
  });
  return page(t, app.name, html`${header(t, true, view.csrf)}
<h1>${app.name}</h1>
${notice(view.notice)}
${alert(e.form)}
${copyableAppId(t, app.id)}
<details><summary>Secret Key</summary>${copyableSecretKey(t, app.secretKey)}
<p class="fine">${secretKeyNote(t)}</p></details>

${connectSection(t, app, view.publicUrl)}

${oidcSection(t, {
    app, publicUrl: view.publicUrl, csrf: view.csrf, entered: entered.redirectUris, error: e.redirectUris,
    enteredLogout: entered.postLogoutRedirectUris, enteredBackchannel: entered.backchannelLogoutUri?.[0], enteredJwks: entered.clientJwks, errors: e,
  })}

<section aria-labelledby="usage-h"><h2 id="usage-h">${t.t('dashboard.app.usage.heading')}</h2>
<figure class="chart">${new SafeHtml(chart)}</figure>
</section>

<section aria-labelledby="protections-h"><h2 id="protections-h">${t.t('dashboard.app.protections.heading')}</h2>
${warnings.length > 0 ? html`<ul class="warnings">${warnings.map((w) => html`<li>${w}</li>`)}</ul>` : html`<p class="notice">${t.t('dashboard.app.protections.allOn')}</p>`}
${postForm({ action: `${path}/protections`, csrf: view.csrf, submit: t.t('dashboard.app.protections.submit') }, html`${protectionFieldset(t, { protection: 'domain', on: app.protections.domain,
    list: { id: 'origins', label: t.t('dashboard.origins'), value: entered.origins ?? app.origins, error: e.origins } })}
${protectionFieldset(t, { protection: 'returnUrl', on: app.protections.returnUrl,
    list: { id: 'returnUrls', label: t.t('dashboard.returnUrls'), value: entered.returnUrls ?? app.returnUrls, error: e.returnUrls } })}
${protectionFieldset(t, { protection: 'serverOnly', on: app.protections.serverOnly })}
${protectionFieldset(t, { protection: 'ip', on: app.protections.ip,
    list: { id: 'ipEntries', label: t.t('dashboard.app.protections.ipEntries'), value: entered.ipEntries ?? app.ipEntries, error: e.ipEntries } })}`)}
</section>

<section aria-labelledby="fields-h"><h2 id="fields-h">${t.t('dashboard.app.fields.heading')}</h2>
${postForm({ action: `${path}/fields`, csrf: view.csrf, submit: t.t('dashboard.app.fields.submit') }, html`${alert(e.permissions ?? e.legalBases)}
<table class="fields"><thead><tr><th scope="col">${t.t('dashboard.app.fields.field')}</th><th scope="col">${t.t('dashboard.app.fields.mayAsk')}</th><th scope="col">${t.t('dashboard.app.fields.mayRequire')}</th><th scope="col">${t.t('dashboard.app.fields.legalBasis')}</th></tr></thead>
<tbody>${FIELD_CODES.map((field) => {
    const mayRequire = MANDATORY_BY_DEFAULT.includes(field) || app.mandatoryApproved.includes(field);
    const label = fieldLabel(t, field);
    return html`<tr><th scope="row">${label}</th>
<td><input type="checkbox" name="ask" value="${field}" aria-label="${t.t('dashboard.app.fields.mayAskFor', { field: label })}"${app.permissions.includes(field) ? html` checked` : html``}></td>
<td>${mayRequire
      ? html`<input type="checkbox" name="require" value="${field}" aria-label="${t.t('dashboard.app.fields.mayRequireField', { field: label })}"${app.permissions.includes(`${field}!`) ? html` checked` : html``}>`
      : html`<span class="fine">${t.t('dashboard.app.fields.needsApproval')}</span>`}</td>
<td>${mayRequire ? html`<input type="text" name="basis_${field}" aria-label="${t.t('dashboard.app.fields.legalBasisFor', { field: label })}" value="${app.legalBases[field] ?? ''}" maxlength="500">` : html``}</td></tr>`;
  })}</tbody></table>`)}
</section>

<section aria-labelledby="private-h"><h2 id="private-h">${t.t('dashboard.app.private.heading')}</h2>
<form method="post" action="${path}/private" class="inline-form">
${csrfField(view.csrf)}
<p>${app.private ? t.t('dashboard.app.private.isPrivate') : t.t('dashboard.app.private.isPublic')}</p>
<input type="hidden" name="private" value="${app.private ? 'off' : 'on'}">
<button type="submit" class="secondary">${app.private ? t.t('dashboard.app.private.makePublic') : t.t('dashboard.app.private.makePrivate')}</button>
</form>
${app.private ? html`<h3>${t.t('dashboard.app.private.allowed')}</h3>
${view.members.length === 0 ? html`<p>${t.t('dashboard.app.private.nobody')}</p>` : html`<ul class="members">${view.members.map((m) => html`<li>${m.email}
<span class="fine">${m.mailedAt ? t.t('dashboard.app.private.emailed', { when: t.when(m.mailedAt) }) : t.t('dashboard.app.private.notEmailed')}</span>
<form method="post" action="${path}/extranet/resend" class="inline">${csrfField(view.csrf)}<input type="hidden" name="reference" value="${m.referenceId}"><button type="submit" class="link">${t.t('dashboard.app.private.resend', { email: m.email })}</button></form>
<form method="post" action="${path}/extranet/remove" class="inline">${csrfField(view.csrf)}<input type="hidden" name="reference" value="${m.referenceId}"><button type="submit" class="link">${t.t('dashboard.app.private.remove', { email: m.email })}</button></form></li>`)}</ul>`}
<p class="fine">${t.t('dashboard.app.private.howMailed')}</p>
${postForm({ action: `${path}/extranet`, csrf: view.csrf, submit: t.t('dashboard.app.private.inviteSubmit') }, html`${input({ id: 'invite-email', name: 'email', label: t.t('dashboard.app.private.inviteEmail'), type: 'email', autocomplete: 'off', error: e.invite })}
<div class="field"><label for="invite-locale">${t.t('dashboard.app.private.inviteLanguage')}</label>
<select id="invite-locale" name="locale">${UI_LANGUAGES.map((language) => html`<option value="${CATALOGUES[language].mailLocale}" lang="${language}">${CATALOGUES[language].name}</option>`)}</select></div>`)}` : html``}
</section>

<section aria-labelledby="keys-h"><h2 id="keys-h">${t.t('dashboard.app.keys.heading')}</h2>
${retiring.length > 0 ? html`<ul>${retiring.map((k) => html`<li>${t.t('dashboard.app.keys.retiring', { when: t.when(k.retiresAt!) })}</li>`)}</ul>` : html``}
${postForm({ action: `${path}/rotate`, csrf: view.csrf, submit: t.t('dashboard.app.keys.submit') }, html`<div class="field"><label for="grace">${t.t('dashboard.app.keys.grace')}</label>
<select id="grace" name="graceDays"${e.graceDays ? html` aria-invalid="true" aria-describedby="grace-error"` : html``}>${[0, 1, 2, 3, 4, 5, 6, 7].map((d) => html`<option value="${d}"${d === 1 ? html` selected` : html``}>${d === 0 ? t.t('dashboard.app.keys.graceNone') : t.t('dashboard.app.keys.graceDays', { days: d })}</option>`)}</select>
${errorText('grace', e.graceDays)}</div>`)}
</section>

<section aria-labelledby="owners-h"><h2 id="owners-h">${t.t('dashboard.app.owners.heading')}</h2>
<ul class="owners">${view.owners.map((o) => html`<li>${o.email ?? t.t('dashboard.app.owners.erased')}${o.you ? ` ${t.t('dashboard.app.owners.you')}` : ''}${view.owners.length > 1 ? html`
<form method="post" action="${path}/owners/remove" class="inline">${csrfField(view.csrf)}<input type="hidden" name="person" value="${o.id}"><button type="submit" class="link">${t.t('dashboard.app.owners.remove')}</button></form>` : html``}</li>`)}</ul>
${postForm({ action: `${path}/owners`, csrf: view.csrf, submit: t.t('dashboard.app.owners.inviteSubmit'), kind: 'secondary' }, html`${input({ id: 'owner-email', name: 'email', label: t.t('dashboard.app.owners.inviteEmail'), type: 'email', autocomplete: 'off', error: e.owners })}
<p class="fine">${t.t('dashboard.app.owners.inviteHint')}</p>`)}
</section>

<section aria-labelledby="trail-h"><h2 id="trail-h">${t.t('dashboard.app.trail.heading')}</h2>
${view.trail.length === 0 ? html`<p>${t.t('dashboard.app.trail.none')}</p>` : html`<ol class="timeline">${view.trail.map((r) => html`<li><time datetime="${r.at.toISOString()}">${t.when(r.at)}</time> <code>${r.action}</code>${r.detail ? html` <span class="fine">${r.detail}</span>` : html``} <span class="fine">(${actorKind(t, r.actorKind)})</span></li>`)}</ol>`}
</section>

<section aria-labelledby="consent-proofs-h"><h2 id="consent-proofs-h">${t.t('dashboard.app.consents.heading')}</h2>
<p class="fine">${t.t('dashboard.app.consents.lead')}</p>
${view.consents.length === 0 ? html`<p>${t.t('dashboard.app.consents.none')}</p>` : html`<table class="fields"><thead><tr><th scope="col">${t.t('dashboard.app.consents.when')}</th><th scope="col">${t.t('dashboard.app.consents.userId')}</th><th scope="col">${t.t('dashboard.app.consents.decision')}</th><th scope="col">${t.t('dashboard.app.consents.asked')}</th><th scope="col">${t.t('dashboard.app.consents.required')}</th><th scope="col">${t.t('dashboard.app.consents.granted')}</th></tr></thead>
<tbody>${view.consents.map((c) => html`<tr><td><time datetime="${c.decidedAt.toISOString()}">${t.when(c.decidedAt)}</time></td><td><code>${c.userId}</code></td><td>${decision(t, c.decision)}</td><td>${c.requested.join(', ')}</td><td>${c.mandatory.join(', ')}${c.legalBasis ? html` <span class="fine">(${c.legalBasis})</span>` : html``}</td><td>${c.granted.join(', ')}</td></tr>`)}</tbody></table>`}
</section>

<section aria-labelledby="danger-h"><h2 id="danger-h">${t.t('dashboard.app.danger.heading')}</h2>
${postForm({ action: `${path}/rename`, csrf: view.csrf, submit: t.t('dashboard.app.danger.rename'), kind: 'secondary' }, html`${input({ id: 'rename', name: 'name', label: t.t('dashboard.app.danger.name'), type: 'text', value: app.name, autocomplete: 'off', error: e.name })}`)}
${postForm({ action: `${path}/delete`, csrf: view.csrf, submit: t.t('dashboard.app.danger.delete'), kind: 'danger' }, html`${input({ id: 'confirm', name: 'confirm', label: t.t('dashboard.app.danger.confirm'), type: 'text', autocomplete: 'off', error: e.confirm })}`)}
</section>`);
}

/** An invitation to own an app, as its invitee sees it behind the link. */
export function ownerInvitationPage(t: Texts, view: { csrf: string; appName: string; expiresAt: Date; action: string }): string {
  const app = view.appName;
  return page(t, t.t('dashboard.ownerInvitation.title', { app }), html`${header(t, true, view.csrf)}
<h1>${t.t('dashboard.ownerInvitation.heading', { app })}</h1>
<p>${t.rich('dashboard.ownerInvitation.lead', { app, strong: (chunks) => html`<strong>${chunks}</strong>` })}</p>
<p class="fine">${t.t('dashboard.ownerInvitation.expires', { when: t.when(view.expiresAt) })}</p>
<form method="post" action="${view.action}" class="inline-form">
${csrfField(view.csrf)}
<div class="actions"><button type="submit" class="primary" name="decision" value="accept">${t.t('dashboard.ownerInvitation.accept')}</button>
<button type="submit" class="secondary" name="decision" value="decline">${t.t('dashboard.ownerInvitation.decline')}</button></div>
</form>`);
}

/** The link of an invitation opened without a session: sign in first, as the invited account. */
export function signInToAnswerPage(t: Texts, invitationPath: string): string {
  const signIn = `/dashboard/sign-in?next=${encodeURIComponent(invitationPath)}`;
  return page(t, t.t('dashboard.signInToAnswer.title'), html`${header(t, false, '')}
<h1>${t.t('dashboard.signInToAnswer.heading')}</h1>
<p>${t.t('dashboard.signInToAnswer.lead')}</p>
<p>${t.rich('dashboard.signInToAnswer.next', { link: (chunks) => html`<a href="${signIn}">${chunks}</a>` })}</p>`);
}
