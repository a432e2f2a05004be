import { html, type SafeHtml } from './html.js';
import type { Texts } from './texts.js';

/** The switch to the other languages, back to this page; each name in its own language. */
function languageSwitch(t: Texts): SafeHtml {
  const back = encodeURIComponent(t.here);
  return html`<footer><nav aria-label="${t.t('layout.languageSwitch')}" class="languages">${t.others.map(({ language, name }) =>
    html`<a href="/language/${language}?back=${back}" lang="${language}" hreflang="${language}">${name}</a> `)}</nav></footer>`;
}

export function layout(t: Texts, title: string, body: SafeHtml, options: { wide?: boolean; script?: string } = {}): string {
  return html`<!doctype html>
<html lang="${t.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${t.t('layout.title', { title })}</title>
<link rel="stylesheet" href="/static/keygate.css">
${options.script ? html`<script src="${options.script}" defer></script>` : html``}
</head>
<body>
<main${options.wide ? html` class="wide"` : html``}>
<div class="brand">Keygate</div>
${body}
${languageSwitch(t)}
</main>
</body>
</html>`.value;
}

/** A page of its own (dashboard, account): the wide layout with the page script. */
export const widePage = (t: Texts, title: string, body: SafeHtml): string => layout(t, title, body, { wide: true, script: '/static/dashboard.js' });

/** Something went wrong with what the person did; read out by screen readers at once. */
export const alert = (message: string | undefined): SafeHtml => (message ? html`<p class="alert" role="alert">${message}</p>` : html``);

/** What the last action did. */
export const notice = (message: string | undefined): SafeHtml => (message ? html`<p class="notice" role="status">${message}</p>` : html``);

export function messagePage(t: Texts, title: string, message: string): string {
  return layout(t, title, html`<h1>${title}</h1><p>${message}</p>`);
}

/** The first visit: what Keygate is, and the ways on, for a person and for a developer. */
export function homePage(t: Texts): string {
  const link = (href: string) => (chunks: SafeHtml) => html`<a href="${href}">${chunks}</a>`;
  return layout(t, 'Keygate', html`<h1>Keygate</h1>
<p>${t.t('home.lead')}</p>
<nav aria-label="${t.t('home.nav')}">
<h2>${t.t('home.account.heading')}</h2>
<p>${t.rich('home.account.body', { signIn: link('/account'), signUp: link('/account/sign-up') })}</p>
<h2>${t.t('home.developers.heading')}</h2>
<p>${t.rich('home.developers.body', { dashboard: link('/dashboard') })}</p>
</nav>
<p class="fine">${t.rich('home.api', { code: (chunks) => html`<code>${chunks}</code>`, doc: link('/openapi.json') })}</p>`);
}
