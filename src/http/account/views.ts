import type { MessageKey } from '../../i18n/en.js';
import { csrfField, input, type FieldErrors } from '../kit/form-controls.js';
import { html, SafeHtml } from '../kit/html.js';
import { alert, notice, widePage as page } from '../kit/layout.js';
import type { Texts } from '../kit/texts.js';

const SECTIONS: ReadonlyArray<[string, MessageKey]> = [
  ['/account/profile', 'account.nav.profile'],
  ['/account/apps', 'account.nav.apps'],
  ['/account/activity', 'account.nav.activity'],
  ['/account/sessions', 'account.nav.sessions'],
  ['/account/security', 'account.nav.security'],
  ['/account/data', 'account.nav.data'],
];

export function topbar(t: Texts, csrf: string): SafeHtml {
  return html`<nav class="topbar" aria-label="${t.t('account.nav.label')}"><span class="sections">${SECTIONS.map(([href, label]) => html`<a href="${href}">${t.t(label)}</a> `)}</span>
<form method="post" action="/account/sign-out" class="inline">${csrfField(csrf)}<button type="submit" class="link">${t.t('account.nav.signOut')}</button></form></nav>`;
}

export interface SecurityView {
  readonly csrf: string;
  readonly nickname: string | null;
  readonly secondFactor: boolean;
  readonly recoveryCodesLeft: number;
  readonly notice?: string;
  readonly errors?: FieldErrors;
}

export function securityPage(t: Texts, view: SecurityView): string {
  const e = view.errors ?? {};
  return page(t, t.t('account.security.title'), html`${topbar(t, view.csrf)}
<h1>${t.t('account.security.title')}</h1>
${notice(view.notice)}

<section aria-labelledby="nickname-h"><h2 id="nickname-h">${t.t('account.security.nickname.heading')}</h2>
<p class="fine">${t.t('account.security.nickname.lead')}</p>
<form method="post" action="/account/security/nickname" novalidate>
${csrfField(view.csrf)}
${input({ id: 'nickname', name: 'nickname', label: t.t('account.security.nickname.label'), type: 'text', value: view.nickname ?? '', autocomplete: 'username', error: e.nickname, optional: true })}
<div class="actions"><button type="submit" class="secondary">${t.t('account.security.nickname.submit')}</button></div>
</form>
</section>

<section aria-labelledby="password-h"><h2 id="password-h">${t.t('account.security.password.heading')}</h2>
<form method="post" action="/account/security/password" novalidate>
${csrfField(view.csrf)}
${input({ id: 'current', name: 'current', label: t.t('account.security.password.current'), type: 'password', autocomplete: 'current-password', error: e.current })}
${input({ id: 'password', name: 'password', label: t.t('account.security.password.new'), type: 'password', autocomplete: 'new-password', error: e.password,
    hint: t.t('account.security.password.hint') })}
<div class="actions"><button type="submit" class="primary">${t.t('account.security.password.submit')}</button></div>
</form>
</section>

<section aria-labelledby="totp-h"><h2 id="totp-h">${t.t('account.security.totp.heading')}</h2>
${view.secondFactor
    ? html`<p>${t.t('account.security.totp.on', { left: view.recoveryCodesLeft })}</p>
<form method="post" action="/account/security/totp/disable" novalidate>
${csrfField(view.csrf)}
${input({ id: 'disable-code', name: 'code', label: t.t('account.security.totp.disableCode'), type: 'text', autocomplete: 'one-time-code', error: e.disable })}
<div class="actions"><button type="submit" class="secondary">${t.t('account.security.totp.disable')}</button></div>
</form>
<h3>${t.t('account.security.totp.replaceHeading')}</h3>
<form method="post" action="/account/security/totp/start" novalidate>
${csrfField(view.csrf)}
${alert(e.enrol)}
${input({ id: 'enrol-password', name: 'password', label: t.t('account.security.totp.password'), type: 'password', autocomplete: 'current-password', error: e.enrolPassword })}
${input({ id: 'enrol-code', name: 'code', label: t.t('account.security.totp.replaceCode'), type: 'text', autocomplete: 'one-time-code', error: e.enrolCode })}
<div class="actions"><button type="submit" class="secondary">${t.t('account.security.totp.replace')}</button></div>
</form>`
    : html`<p>${t.t('account.security.totp.offLead')}</p>
<form method="post" action="/account/security/totp/start" novalidate>
${csrfField(view.csrf)}
${alert(e.enrol)}
${input({ id: 'enrol-password', name: 'password', label: t.t('account.security.totp.setUpPassword'), type: 'password', autocomplete: 'current-password', error: e.enrolPassword })}
<div class="actions"><button type="submit" class="primary">${t.t('account.security.totp.setUp')}</button></div>
</form>`}
</section>`);
}

export function enrolmentPage(t: Texts, view: { csrf: string; qrSvg: string; secret: string; proof: string; error?: string }): string {
  return page(t, t.t('account.enrol.title'), html`${topbar(t, view.csrf)}
<h1>${t.t('account.enrol.title')}</h1>
<p>${t.t('account.enrol.lead')}</p>
<figure class="qr">${new SafeHtml(view.qrSvg)}</figure>
<p>${t.rich('account.enrol.key', { key: (chunks) => html`<code class="credential" id="totp-secret">${chunks}</code>`, secret: view.secret.replace(/(.{4})/g, '$1 ').trim() })}</p>
${alert(view.error)}
<form method="post" action="/account/security/totp/confirm" novalidate>
${csrfField(view.csrf)}
<input type="hidden" name="secret" value="${view.secret}">
<input type="hidden" name="proof" value="${view.proof}">
${input({ id: 'code', name: 'code', label: t.t('account.enrol.code'), type: 'text', autocomplete: 'one-time-code' })}
<div class="actions"><button type="submit" class="primary">${t.t('account.enrol.submit')}</button></div>
</form>`);
}

export function recoveryCodesPage(t: Texts, view: { csrf: string; codes: readonly string[] }): string {
  return page(t, t.t('account.recovery.title'), html`${topbar(t, view.csrf)}
<h1>${t.t('account.recovery.heading')}</h1>
<p class="notice" role="status">${t.t('account.recovery.lead')}</p>
<ul class="recovery-codes" id="recovery-codes">${view.codes.map((code) => html`<li><code>${code}</code></li>`)}</ul>
<p><a href="/account/security">${t.t('account.recovery.back')}</a></p>`);
}
