import { csrfField, postForm, errorSummary, input, select, type FieldErrors } from '../kit/form-controls.js';
import { html, SafeHtml } from '../kit/html.js';
import { alert, layout, widePage } from '../kit/layout.js';
import type { Texts } from '../kit/texts.js';

/**
 * Where a sign-in happens: on the gateway for an app's request, or for the dashboard.
 * The same steps (password, email code, confirmation, second factor, reset) serve both.
 */
export interface SignInPlace {
  /** The path the step forms post under, e.g. `/gateway/<connect id>` or `/dashboard`. */
  readonly base: string;
  /** Shown under the heading, e.g. the app the person signs in to. */
  readonly lead?: SafeHtml;
  /** The gateway offers to cancel the app's request. */
  readonly cancellable: boolean;
  /** Pages of their own (dashboard, account): wide layout, the page script, /sign-in and /sign-up routes. */
  readonly standalone: boolean;
  readonly csrf: string;
  /** The words of this request's page. */
  readonly t: Texts;
}

const page = (place: SignInPlace, title: string, body: SafeHtml) => (place.standalone ? widePage(place.t, title, body) : layout(place.t, title, body));
const link = (href: string) => (chunks: SafeHtml) => html`<a href="${href}">${chunks}</a>`;

function cancelForm(place: SignInPlace): SafeHtml {
  if (!place.cancellable) return html``;
  return html`<form method="post" action="${place.base}/cancel" class="actions">
${csrfField(place.csrf)}
<button type="submit" class="secondary">${place.t.t('signIn.cancel')}</button>
</form>`;
}

const signUpHref = (place: SignInPlace) => (place.standalone ? `${place.base}/sign-up` : `${place.base}?signup=1`);
const signInHref = (place: SignInPlace) => (place.standalone ? `${place.base}/sign-in` : place.base);

/** A step's heading, with the request's lead under it. */
const heading = (place: SignInPlace, title: string) => html`<h1>${title}</h1>
${place.lead ? html`<p class="lead">${place.lead}</p>` : html``}`;

/** A step's form: it posts `fields` to `action` under the place's base. */
const stepForm = (place: SignInPlace, action: string, fields: SafeHtml, submit: string) =>
  postForm({ action: `${place.base}/${action}`, csrf: place.csrf, submit }, fields);

export function signInPage(place: SignInPlace, view: { identifier?: string; error?: string } = {}): string {
  const { t } = place;
  return page(place, t.t('signIn.title'), html`${heading(place, t.t('signIn.title'))}
${alert(view.error)}
${stepForm(place, 'sign-in', html`${input({ id: 'email', name: 'email', label: t.t('signIn.identifier'), type: 'text', value: view.identifier, autocomplete: 'username' })}
${input({ id: 'password', name: 'password', label: t.t('signIn.password'), type: 'password', autocomplete: 'current-password' })}`, t.t('signIn.submit'))}
<p class="switch"><a href="${place.base}/email-code">${t.t('signIn.emailCodeInstead')}</a> · <a href="${place.base}/forgot">${t.t('signIn.forgot')}</a></p>
${cancelForm(place)}
<p class="switch">${t.rich('signIn.newHere', { link: link(signUpHref(place)) })}</p>`);
}

export interface SignUpValues {
  readonly email?: string;
  readonly firstname?: string;
  readonly surname?: string;
  readonly country?: string;
  readonly language?: string;
}

/** `browserLanguage`: the language the browser prefers among all a profile may have, chosen until the person picks one. */
export function signUpPage(place: SignInPlace, view: { values?: SignUpValues; errors?: FieldErrors; browserLanguage?: string } = {}): string {
  const { t } = place;
  const v = view.values ?? {};
  const e = view.errors ?? {};
  return page(place, t.t('signUp.title'), html`${heading(place, t.t('signUp.title'))}
${alert(e.form)}
${errorSummary(t.t('form.problem'), e, ['email', 'password', 'firstname', 'surname', 'country', 'language'])}
${stepForm(place, 'sign-up', html`${input({ id: 'email', name: 'email', label: t.t('signUp.email'), type: 'email', value: v.email, autocomplete: 'email', error: e.email })}
${input({ id: 'password', name: 'password', label: t.t('signUp.password'), type: 'password', autocomplete: 'new-password', error: e.password, hint: t.t('signUp.passwordHint') })}
${input({ id: 'firstname', name: 'firstname', label: t.t('signUp.firstname'), type: 'text', value: v.firstname, autocomplete: 'given-name', error: e.firstname })}
${input({ id: 'surname', name: 'surname', label: t.t('signUp.surname'), type: 'text', value: v.surname, autocomplete: 'family-name', error: e.surname })}
${select({ id: 'country', name: 'country', label: t.t('signUp.country'), options: t.countries(), value: v.country, error: e.country, choose: t.t('form.choose') })}
${select({ id: 'language', name: 'language', label: t.t('signUp.language'), options: t.languages(), value: v.language ?? view.browserLanguage, error: e.language, choose: t.t('form.choose') })}
<p class="fine">${t.t('signUp.zoneNote')}</p>`, t.t('signUp.submit'))}
${cancelForm(place)}
<p class="switch">${t.rich('signUp.haveAccount', { link: link(signInHref(place)) })}</p>`);
}

/** "Enter the code we emailed": after sign-up, or for a passwordless sign-in. */
export function emailCodePage(place: SignInPlace, view: { action: string; title: string; message: string; error?: string }): string {
  return page(place, view.title, html`${heading(place, view.title)}
<p>${view.message}</p>
${alert(view.error)}
${stepForm(place, view.action, html`${input({ id: 'code', name: 'code', label: place.t.t('emailCode.label'), type: 'text', autocomplete: 'one-time-code', hint: place.t.t('emailCode.hint') })}`, place.t.t('emailCode.submit'))}
${cancelForm(place)}
<p class="switch"><a href="${signInHref(place)}">${place.t.t('emailCode.backToSignIn')}</a></p>`);
}

export function emailCodeRequestPage(place: SignInPlace, view: { error?: string } = {}): string {
  const { t } = place;
  return page(place, t.t('emailCodeRequest.title'), html`${heading(place, t.t('emailCodeRequest.title'))}
${alert(view.error)}
${stepForm(place, 'email-code', html`${input({ id: 'email', name: 'email', label: t.t('signIn.identifier'), type: 'text', autocomplete: 'username' })}`, t.t('emailCodeRequest.submit'))}
${cancelForm(place)}
<p class="switch"><a href="${signInHref(place)}">${t.t('emailCodeRequest.withPassword')}</a></p>`);
}

export function forgotPasswordPage(place: SignInPlace, view: { sent?: boolean } = {}): string {
  const { t } = place;
  if (view.sent) {
    return page(place, t.t('forgot.sentTitle'), html`<h1>${t.t('forgot.sentTitle')}</h1>
<p role="status">${t.t('forgot.sent')}</p>
<p class="switch"><a href="${signInHref(place)}">${t.t('emailCode.backToSignIn')}</a></p>`);
  }
  return page(place, t.t('forgot.title'), html`<h1>${t.t('forgot.title')}</h1>
<p>${t.t('forgot.lead')}</p>
${stepForm(place, 'forgot', html`${input({ id: 'email', name: 'email', label: t.t('signIn.identifier'), type: 'text', autocomplete: 'username' })}`, t.t('forgot.submit'))}
<p class="switch"><a href="${signInHref(place)}">${t.t('emailCode.backToSignIn')}</a></p>`);
}

export function secondFactorPage(place: SignInPlace, view: { error?: string } = {}): string {
  const { t } = place;
  return page(place, t.t('secondFactor.title'), html`${heading(place, t.t('secondFactor.title'))}
${alert(view.error)}
${stepForm(place, 'second-factor', html`${input({ id: 'code', name: 'code', label: t.t('secondFactor.label'), type: 'text', autocomplete: 'one-time-code', hint: t.t('secondFactor.hint') })}`, t.t('secondFactor.submit'))}
${cancelForm(place)}`);
}

export function resetPasswordPage(t: Texts, view: { csrf: string; token: string; error?: string; done?: boolean; expired?: boolean }): string {
  if (view.expired) return layout(t, t.t('reset.expiredTitle'), html`<h1>${t.t('reset.expiredHeading')}</h1><p>${t.t('reset.expired')}</p>`);
  if (view.done) return layout(t, t.t('reset.doneTitle'), html`<h1>${t.t('reset.doneTitle')}</h1><p role="status">${t.t('reset.done')}</p>`);
  return layout(t, t.t('reset.title'), html`<h1>${t.t('reset.title')}</h1>
${postForm({ action: `/reset/${view.token}`, csrf: view.csrf, submit: t.t('reset.submit') }, html`${input({ id: 'password', name: 'password', label: t.t('reset.password'), type: 'password', autocomplete: 'new-password', error: view.error, hint: t.t('reset.hint') })}`)}`);
}

/** The page the link mailed at a second factor's set-up opens: it asks before it removes anything. */
export function undoSecondFactorPage(t: Texts, view: { csrf: string; token: string; state: 'ask' | 'done' | 'expired' }): string {
  if (view.state === 'expired') return layout(t, t.t('undo.expiredTitle'), html`<h1>${t.t('undo.expiredHeading')}</h1><p>${t.t('undo.expired')}</p>`);
  if (view.state === 'done') return layout(t, t.t('undo.doneTitle'), html`<h1>${t.t('undo.doneTitle')}</h1><p role="status">${t.t('undo.done')}</p>`);
  return layout(t, t.t('undo.title'), html`<h1>${t.t('undo.heading')}</h1>
<p>${t.t('undo.lead')}</p>
${postForm({ action: `/second-factor/undo/${view.token}`, csrf: view.csrf, submit: t.t('undo.submit') }, html``)}`);
}
