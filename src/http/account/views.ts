import type { MessageKey } from '../../i18n/en.js';
import { csrfField, postForm, input, type FieldErrors } from '../kit/form-controls.js';
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
${postForm({ action: '/account/security/nickname', csrf: view.csrf, submit: t.t('account.security.nickname.submit'), kind: 'secondary' }, html`${input({ id: 'nickname', name: 'nickname', label: t.t('account.security.nickname.label'), type: 'text', value: view.nickname ?? '', autocomplete: 'username', error: e.nickname, optional: true })}`)}
</section>

<section aria-labelledby="password-h"><h2 id="password-h">${t.t('account.security.password.heading')}</h2>
${postForm({ action: '/account/security/password', csrf: view.csrf, submit: t.t('account.security.password.submit') }, html`${input({ id: 'current', name: 'current', label: t.t('account.security.password.current'), type: 'password', autocomplete: 'current-password', error: e.current })}
${input({ id: 'password', name: 'password', label: t.t('account.security.password.new'), type: 'password', autocomplete: 'new-password', error: e.password,
    hint: t.t('account.security.password.hint') })}`)}
</section>

<section aria-labelledby="totp-h"><h2 id="totp-h">${t.t('account.security.totp.heading')}</h2>
${view.secondFactor
    ? html`<p>${t.t('account.security.totp.on', { left: view.recoveryCodesLeft })}</p>
${postForm({ action: '/account/security/totp/disable', csrf: view.csrf, submit: t.t('account.security.totp.disable'), kind: 'secondary' }, html`${input({ id: 'disable-code', name: 'code', label: t.t('account.security.totp.disableCode'), type: 'text', autocomplete: 'one-time-code', error: e.disable })}`)}
<h3>${t.t('account.security.totp.replaceHeading')}</h3>
${postForm({ action: '/account/security/totp/start', csrf: view.csrf, submit: t.t('account.security.totp.replace'), kind: 'secondary' }, html`${alert(e.enrol)}
${input({ id: 'enrol-password', name: 'password', label: t.t('account.security.totp.password'), type: 'password', autocomplete: 'current-password', error: e.enrolPassword })}
${input({ id: 'enrol-code', name: 'code', label: t.t('account.security.totp.replaceCode'), type: 'text', autocomplete: 'one-time-code', error: e.enrolCode })}`)}`
    : html`<p>${t.t('account.security.totp.offLead')}</p>
${postForm({ action: '/account/security/totp/start', csrf: view.csrf, submit: t.t('account.security.totp.setUp') }, html`${alert(e.enrol)}
${input({ id: 'enrol-password', name: 'password', label: t.t('account.security.totp.setUpPassword'), type: 'password', autocomplete: 'current-password', error: e.enrolPassword })}`)}`}
</section>`);
}

export function enrolmentPage(t: Texts, view: { csrf: string; qrSvg: string; secret: string; proof: string; error?: string }): string {
  return page(t, t.t('account.enrol.title'), html`${topbar(t, view.csrf)}
<h1>${t.t('account.enrol.title')}</h1>
<p>${t.t('account.enrol.lead')}</p>
<figure class="qr">${new SafeHtml(view.qrSvg)}</figure>
<p>${t.rich('account.enrol.key', { key: (chunks) => html`<code class="credential" id="totp-secret">${chunks}</code>`, secret: view.secret.replace(/(.{4})/g, '$1 ').trim() })}</p>
${alert(view.error)}
${postForm({ action: '/account/security/totp/confirm', csrf: view.csrf, submit: t.t('account.enrol.submit') }, html`<input type="hidden" name="secret" value="${view.secret}">
<input type="hidden" name="proof" value="${view.proof}">
${input({ id: 'code', name: 'code', label: t.t('account.enrol.code'), type: 'text', autocomplete: 'one-time-code' })}`)}`);
}

export function recoveryCodesPage(t: Texts, view: { csrf: string; codes: readonly string[] }): string {
  return page(t, t.t('account.recovery.title'), html`${topbar(t, view.csrf)}
<h1>${t.t('account.recovery.heading')}</h1>
<p class="notice" role="status">${t.t('account.recovery.lead')}</p>
<ul class="recovery-codes" id="recovery-codes">${view.codes.map((code) => html`<li><code>${code}</code></li>`)}</ul>
<p><a href="/account/security">${t.t('account.recovery.back')}</a></p>`);
}
