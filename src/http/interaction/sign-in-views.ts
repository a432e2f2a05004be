import { COUNTRY_OPTIONS, LANGUAGE_OPTIONS } from '../../domain/zones/countries.js';
import { csrfField, input, select, type FieldErrors } from '../kit/form-controls.js';
import { html, SafeHtml } from '../kit/html.js';
import { alert, layout, widePage } from '../kit/layout.js';

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
}

const page = (place: SignInPlace, title: string, body: SafeHtml) => (place.standalone ? widePage(title, body) : layout(title, body));

function cancelForm(place: SignInPlace): SafeHtml {
  if (!place.cancellable) return html``;
  return html`<form method="post" action="${place.base}/cancel" class="actions">
${csrfField(place.csrf)}
<button type="submit" class="secondary">Cancel</button>
</form>`;
}

const signUpHref = (place: SignInPlace) => (place.standalone ? `${place.base}/sign-up` : `${place.base}?signup=1`);
const signInHref = (place: SignInPlace) => (place.standalone ? `${place.base}/sign-in` : place.base);

export function signInPage(place: SignInPlace, view: { identifier?: string; error?: string } = {}): string {
  return page(place, 'Sign in', html`<h1>Sign in</h1>
${place.lead ? html`<p class="lead">${place.lead}</p>` : html``}
${alert(view.error)}
<form method="post" action="${place.base}/sign-in" novalidate>
${csrfField(place.csrf)}
${input({ id: 'email', name: 'email', label: 'Email or nickname', type: 'text', value: view.identifier, autocomplete: 'username' })}
${input({ id: 'password', name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password' })}
<div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form>
<p class="switch"><a href="${place.base}/email-code">Email me a sign-in code instead</a> · <a href="${place.base}/forgot">Forgot your password?</a></p>
${cancelForm(place)}
<p class="switch">New here? <a href="${signUpHref(place)}">Create an account</a></p>`);
}

export interface SignUpValues {
  readonly email?: string;
  readonly firstname?: string;
  readonly surname?: string;
  readonly country?: string;
  readonly language?: string;
}

export function signUpPage(place: SignInPlace, view: { values?: SignUpValues; errors?: FieldErrors } = {}): string {
  const v = view.values ?? {};
  const e = view.errors ?? {};
  return page(place, 'Create your account', html`<h1>Create your account</h1>
${place.lead ? html`<p class="lead">${place.lead}</p>` : html``}
${alert(e.form)}
<form method="post" action="${place.base}/sign-up" novalidate>
${csrfField(place.csrf)}
${input({ id: 'email', name: 'email', label: 'Email', type: 'email', value: v.email, autocomplete: 'email', error: e.email })}
${input({ id: 'password', name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', error: e.password,
    hint: 'At least 10 characters, hard to guess, without your name or email. A few unrelated words work well.' })}
${input({ id: 'firstname', name: 'firstname', label: 'First name', type: 'text', value: v.firstname, autocomplete: 'given-name', error: e.firstname })}
${input({ id: 'surname', name: 'surname', label: 'Surname', type: 'text', value: v.surname, autocomplete: 'family-name', error: e.surname })}
${select({ id: 'country', name: 'country', label: 'Country', options: COUNTRY_OPTIONS, value: v.country, error: e.country })}
${select({ id: 'language', name: 'language', label: 'Language', options: LANGUAGE_OPTIONS, value: v.language, error: e.language })}
<p class="fine">Your country decides where your data is stored: in the EU for the EU, the EEA, the United Kingdom and Switzerland.</p>
<div class="actions"><button type="submit" class="primary">Create account</button></div>
</form>
${cancelForm(place)}
<p class="switch">Already have an account? <a href="${signInHref(place)}">Sign in</a></p>`);
}

/** "Enter the code we emailed": after sign-up, or for a passwordless sign-in. */
export function emailCodePage(place: SignInPlace, view: { action: string; title: string; message: string; error?: string }): string {
  return page(place, view.title, html`<h1>${view.title}</h1>
${place.lead ? html`<p class="lead">${place.lead}</p>` : html``}
<p>${view.message}</p>
${alert(view.error)}
<form method="post" action="${place.base}/${view.action}" novalidate>
${csrfField(place.csrf)}
${input({ id: 'code', name: 'code', label: 'Code from the email', type: 'text', autocomplete: 'one-time-code', hint: 'Six digits. The code works once and expires.' })}
<div class="actions"><button type="submit" class="primary">Continue</button></div>
</form>
${cancelForm(place)}
<p class="switch"><a href="${signInHref(place)}">Back to sign in</a></p>`);
}

export function emailCodeRequestPage(place: SignInPlace, view: { error?: string } = {}): string {
  return page(place, 'Sign in with an email code', html`<h1>Sign in with an email code</h1>
${place.lead ? html`<p class="lead">${place.lead}</p>` : html``}
${alert(view.error)}
<form method="post" action="${place.base}/email-code" novalidate>
${csrfField(place.csrf)}
${input({ id: 'email', name: 'email', label: 'Email or nickname', type: 'text', autocomplete: 'username' })}
<div class="actions"><button type="submit" class="primary">Email me a code</button></div>
</form>
${cancelForm(place)}
<p class="switch"><a href="${signInHref(place)}">Sign in with your password</a></p>`);
}

export function forgotPasswordPage(place: SignInPlace, view: { sent?: boolean } = {}): string {
  if (view.sent) {
    return page(place, 'Check your email', html`<h1>Check your email</h1>
<p role="status">If an account uses this address, we have sent it a link to choose a new password. The link works once, for 30 minutes.</p>
<p class="switch"><a href="${signInHref(place)}">Back to sign in</a></p>`);
  }
  return page(place, 'Forgot your password?', html`<h1>Forgot your password?</h1>
<p>We will email you a link to choose a new one.</p>
<form method="post" action="${place.base}/forgot" novalidate>
${csrfField(place.csrf)}
${input({ id: 'email', name: 'email', label: 'Email or nickname', type: 'text', autocomplete: 'username' })}
<div class="actions"><button type="submit" class="primary">Send the link</button></div>
</form>
<p class="switch"><a href="${signInHref(place)}">Back to sign in</a></p>`);
}

export function secondFactorPage(place: SignInPlace, view: { error?: string } = {}): string {
  return page(place, 'Second step', html`<h1>Second step</h1>
${place.lead ? html`<p class="lead">${place.lead}</p>` : html``}
${alert(view.error)}
<form method="post" action="${place.base}/second-factor" novalidate>
${csrfField(place.csrf)}
${input({ id: 'code', name: 'code', label: 'Code from your authenticator app', type: 'text', autocomplete: 'one-time-code',
    hint: 'Six digits, or one of your recovery codes (xxxxx-xxxxx).' })}
<div class="actions"><button type="submit" class="primary">Verify</button></div>
</form>
${cancelForm(place)}`);
}

export function resetPasswordPage(view: { csrf: string; token: string; error?: string; done?: boolean; expired?: boolean }): string {
  if (view.expired) return layout('Link expired', html`<h1>This link has expired</h1><p>Reset links work once, for 30 minutes. Ask for a new one from the sign-in page.</p>`);
  if (view.done) return layout('Password changed', html`<h1>Password changed</h1><p role="status">Your new password is set and every device was signed out. Go back to the app and sign in.</p>`);
  return layout('Choose a new password', html`<h1>Choose a new password</h1>
<form method="post" action="/reset/${view.token}" novalidate>
${csrfField(view.csrf)}
${input({ id: 'password', name: 'password', label: 'New password', type: 'password', autocomplete: 'new-password', error: view.error,
    hint: 'At least 10 characters, hard to guess, without your name or email.' })}
<div class="actions"><button type="submit" class="primary">Set the new password</button></div>
</form>`);
}


/** The page the link mailed at a second factor's set-up opens: it asks before it removes anything. */
export function undoSecondFactorPage(view: { csrf: string; token: string; state: 'ask' | 'done' | 'expired' }): string {
  if (view.state === 'expired') {
    return layout('Link expired', html`<h1>This link no longer works</h1><p>It works once, for seven days after the second factor was set up. If someone else controls your account, reset your password from the sign-in page.</p>`);
  }
  if (view.state === 'done') {
    return layout('Second factor removed', html`<h1>Second factor removed</h1><p role="status">The authenticator app is no longer needed to sign in, and every device was signed out. Reset your password now from the sign-in page: whoever set it up knew it.</p>`);
  }
  return layout('Remove the second factor', html`<h1>Remove the second factor?</h1>
<p>An authenticator app was set up as the second factor of your Keygate account. If that was not you, remove it: every device is signed out too.</p>
<form method="post" action="/second-factor/undo/${view.token}" novalidate>
${csrfField(view.csrf)}
<div class="actions"><button type="submit" class="primary">Remove it and sign out everywhere</button></div>
</form>`);
}
