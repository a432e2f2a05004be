import { html, type SafeHtml } from './html.js';

export function layout(title: string, body: SafeHtml, options: { wide?: boolean; script?: string } = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Keygate</title>
<link rel="stylesheet" href="/static/keygate.css">
${options.script ? html`<script src="${options.script}" defer></script>` : html``}
</head>
<body>
<main${options.wide ? html` class="wide"` : html``}>
<div class="brand">Keygate</div>
${body}
</main>
</body>
</html>`.value;
}

/** A page of its own (dashboard, account): the wide layout with the page script. */
export const widePage = (title: string, body: SafeHtml): string => layout(title, body, { wide: true, script: '/static/dashboard.js' });

/** Something went wrong with what the person did; read out by screen readers at once. */
export const alert = (message: string | undefined): SafeHtml => (message ? html`<p class="alert" role="alert">${message}</p>` : html``);

/** What the last action did. */
export const notice = (message: string | undefined): SafeHtml => (message ? html`<p class="notice" role="status">${message}</p>` : html``);

export function messagePage(title: string, message: string): string {
  return layout(title, html`<h1>${title}</h1><p>${message}</p>`);
}

/** The first visit: what Keygate is, and the ways on, for a person and for a developer. */
export function homePage(): string {
  return layout('Keygate', html`<h1>Keygate</h1>
<p>A self-hostable sign-in and data-protection gateway. Apps send you here to sign in; you decide, field by field, what each app may read, and see every time one reads it.</p>
<nav aria-label="Start here">
<h2>Your account</h2>
<p><a href="/account">Sign in to your account</a> or <a href="/account/sign-up">create an account</a>: your profile, the apps you connected, who read your data, your sessions and security.</p>
<h2>Developers</h2>
<p><a href="/dashboard">Open the developer dashboard</a> to register an app, set its protections and get its App ID and Secret Key.</p>
</nav>
<p class="fine">Apps speak the Ukey1 v2 API under <code>/auth/v2</code>, so the published Ukey1 SDKs work unchanged.</p>`);
}
