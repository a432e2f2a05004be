import { csrfField, errorText, input, type FieldErrors } from '../kit/form-controls.js';
import { html, SafeHtml } from '../kit/html.js';
import { alert, notice, widePage as page } from '../kit/layout.js';

const SECTIONS: ReadonlyArray<[string, string]> = [
  ['/account/profile', 'Profile'],
  ['/account/apps', 'Connected apps'],
  ['/account/activity', 'Who read my data'],
  ['/account/sessions', 'Sessions'],
  ['/account/security', 'Security'],
  ['/account/data', 'Export or delete'],
];

export function topbar(csrf: string): SafeHtml {
  return html`<nav class="topbar" aria-label="Account"><span class="sections">${SECTIONS.map(([href, label]) => html`<a href="${href}">${label}</a> `)}</span>
<form method="post" action="/account/sign-out" class="inline">${csrfField(csrf)}<button type="submit" class="link">Sign out</button></form></nav>`;
}

export interface SecurityView {
  readonly csrf: string;
  readonly nickname: string | null;
  readonly secondFactor: boolean;
  readonly recoveryCodesLeft: number;
  readonly notice?: string;
  readonly errors?: FieldErrors;
}

export function securityPage(view: SecurityView): string {
  const e = view.errors ?? {};
  return page('Account security', html`${topbar(view.csrf)}
<h1>Account security</h1>
${notice(view.notice)}

<section aria-labelledby="nickname-h"><h2 id="nickname-h">Nickname</h2>
<p class="fine">Sign in with a nickname instead of your email. Letters a–z, digits, dot, dash and underscore; 3 to 30 characters.</p>
<form method="post" action="/account/security/nickname" novalidate>
${csrfField(view.csrf)}
<div class="field"><label for="nickname">Nickname</label>
<input id="nickname" name="nickname" type="text" value="${view.nickname ?? ''}" autocomplete="username" aria-invalid="${e.nickname ? 'true' : 'false'}"${e.nickname ? html` aria-describedby="nickname-error"` : html``}>
${errorText('nickname', e.nickname)}</div>
<div class="actions"><button type="submit" class="secondary">Save nickname</button></div>
</form>
</section>

<section aria-labelledby="password-h"><h2 id="password-h">Password</h2>
<form method="post" action="/account/security/password" novalidate>
${csrfField(view.csrf)}
${input({ id: 'current', name: 'current', label: 'Current password', type: 'password', autocomplete: 'current-password', error: e.current })}
${input({ id: 'password', name: 'password', label: 'New password', type: 'password', autocomplete: 'new-password', error: e.password,
    hint: 'At least 10 characters, hard to guess, without your name or email. Changing it signs out every other device.' })}
<div class="actions"><button type="submit" class="primary">Change password</button></div>
</form>
</section>

<section aria-labelledby="totp-h"><h2 id="totp-h">Second factor</h2>
${view.secondFactor
    ? html`<p>An authenticator app is required at every sign-in. Recovery codes left: ${view.recoveryCodesLeft}.</p>
<form method="post" action="/account/security/totp/disable" novalidate>
${csrfField(view.csrf)}
${input({ id: 'disable-code', name: 'code', label: 'Current code from your app, to turn it off', type: 'text', autocomplete: 'one-time-code', error: e.disable })}
<div class="actions"><button type="submit" class="secondary">Turn off the second factor</button></div>
</form>
<h3>Replace the authenticator app</h3>
<form method="post" action="/account/security/totp/start" novalidate>
${csrfField(view.csrf)}
${alert(e.enrol)}
${input({ id: 'enrol-password', name: 'password', label: 'Your password', type: 'password', autocomplete: 'current-password' })}
${input({ id: 'enrol-code', name: 'code', label: 'Current code from your app, or a recovery code', type: 'text', autocomplete: 'one-time-code' })}
<div class="actions"><button type="submit" class="secondary">Set up a new authenticator app</button></div>
</form>`
    : html`<p>Protect your account with a code from an authenticator app at every sign-in.</p>
<form method="post" action="/account/security/totp/start" novalidate>
${csrfField(view.csrf)}
${alert(e.enrol)}
${input({ id: 'enrol-password', name: 'password', label: 'Your password, to set it up', type: 'password', autocomplete: 'current-password' })}
<div class="actions"><button type="submit" class="primary">Set up an authenticator app</button></div>
</form>`}
</section>`);
}

export function enrolmentPage(view: { csrf: string; qrSvg: string; secret: string; proof: string; error?: string }): string {
  return page('Set up an authenticator app', html`${topbar(view.csrf)}
<h1>Set up an authenticator app</h1>
<p>Scan this code with your authenticator app, or type the key by hand.</p>
<figure class="qr">${new SafeHtml(view.qrSvg)}</figure>
<p>Key: <code class="credential" id="totp-secret">${view.secret.replace(/(.{4})/g, '$1 ').trim()}</code></p>
${alert(view.error)}
<form method="post" action="/account/security/totp/confirm" novalidate>
${csrfField(view.csrf)}
<input type="hidden" name="secret" value="${view.secret}">
<input type="hidden" name="proof" value="${view.proof}">
${input({ id: 'code', name: 'code', label: 'Code from the app', type: 'text', autocomplete: 'one-time-code' })}
<div class="actions"><button type="submit" class="primary">Turn on</button></div>
</form>`);
}

export function recoveryCodesPage(view: { csrf: string; codes: readonly string[] }): string {
  return page('Recovery codes', html`${topbar(view.csrf)}
<h1>Save your recovery codes</h1>
<p class="notice" role="status">The second factor is on. Each code below signs you in once if you lose your authenticator app. They are shown only now: store them somewhere safe.</p>
<ul class="recovery-codes" id="recovery-codes">${view.codes.map((code) => html`<li><code>${code}</code></li>`)}</ul>
<p><a href="/account/security">Back to account security</a></p>`);
}
