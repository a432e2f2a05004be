import { legalBasisFor, type App } from '../../domain/apps/apps-service.js';
import type { ConnectRequest } from '../../domain/connect/connect-service.js';
import { FIELD_LABELS, type FieldCode } from '../../domain/consent/fields.js';
import { html, type SafeHtml } from '../html.js';

export type FieldErrors = Partial<Record<string, string>>;

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

export function errorText(id: string, message: string | undefined): SafeHtml {
  return message ? html`<p class="error" id="${id}-error">${message}</p>` : html``;
}

export function input(props: { id: string; name: string; label: string; type: string; value?: string; autocomplete: string; error?: string; extra?: SafeHtml }): SafeHtml {
  const invalid = props.error ? 'true' : 'false';
  return html`<div class="field">
<label for="${props.id}">${props.label}</label>
<input id="${props.id}" name="${props.name}" type="${props.type}" value="${props.value ?? ''}" autocomplete="${props.autocomplete}" required aria-invalid="${invalid}"${props.error ? html` aria-describedby="${props.id}-error"` : html``}>
${props.extra ?? html``}${errorText(props.id, props.error)}
</div>`;
}

export function select(props: { id: string; name: string; label: string; options: ReadonlyArray<{ code: string; name: string }>; value?: string; error?: string }): SafeHtml {
  const invalid = props.error ? 'true' : 'false';
  return html`<div class="field">
<label for="${props.id}">${props.label}</label>
<select id="${props.id}" name="${props.name}" required aria-invalid="${invalid}"${props.error ? html` aria-describedby="${props.id}-error"` : html``}>
<option value="">Choose…</option>
${props.options.map((o) => html`<option value="${o.code}"${o.code === props.value ? html` selected` : html``}>${o.name}</option>`)}
</select>
${errorText(props.id, props.error)}
</div>`;
}

/** Every state-changing form carries the CSRF token of the page. */
export const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`;

/** What every gateway page for a sign-in request knows. */
export interface GatewayPage {
  readonly app: App;
  readonly connect: ConnectRequest;
  readonly csrf: string;
}

export interface ConsentView extends GatewayPage {
  readonly checked?: readonly FieldCode[];
  readonly error?: string;
}

export function consentPage(view: ConsentView): string {
  const { app, connect } = view;
  const checked = new Set(view.checked ?? []);
  const choices = connect.scope.fields.map((field) => {
    const mandatory = connect.scope.mandatory.includes(field);
    const id = `field-${field}`;
    return html`<div class="choice">
<input type="checkbox" id="${id}" name="fields" value="${field}"${checked.has(field) ? html` checked` : html``}${mandatory ? html` required aria-describedby="${id}-why"` : html``}>
<label for="${id}">${FIELD_LABELS[field]}${mandatory ? html` <span class="required">(required)</span>` : html``}</label>
${mandatory ? html`<span class="why" id="${id}-why">Required by ${app.name}: ${legalBasisFor(app, field)}</span>` : html``}
</div>`;
  });
  return layout(`Allow ${app.name}`, html`<h1>Allow ${app.name} to sign you in?</h1>
<p class="lead">Choose what <strong>${app.name}</strong> may read. Nothing is shared unless you tick it${connect.scope.mandatory.length > 0 ? ', and the app cannot work without the fields marked required' : ''}.</p>
${view.error ? html`<p class="alert" role="alert">${view.error}</p>` : html``}
<form method="post" action="/gateway/${connect.id}/consent">
${csrfField(view.csrf)}
${connect.scope.fields.length > 0
    ? html`<fieldset><legend>Share with ${app.name}</legend>${choices}</fieldset>`
    : html`<p>${app.name} asks only to know that you are signed in; it receives an identifier of your account and no personal data.</p>`}
<div class="actions">
<button type="submit" name="decision" value="allow" class="primary">Allow</button>
<button type="submit" name="decision" value="cancel" class="secondary" formnovalidate>Cancel</button>
</div>
</form>
<form method="post" action="/gateway/${connect.id}/sign-out" class="switch">
${csrfField(view.csrf)}
<button type="submit" class="secondary">Not you? Sign out</button>
</form>`);
}

export function messagePage(title: string, message: string): string {
  return layout(title, html`<h1>${title}</h1><p>${message}</p>`);
}

export function homePage(): string {
  return layout('Keygate', html`<h1>Keygate</h1>
<p>A self-hostable sign-in and data-protection gateway. Apps send you here to sign in; you decide, field by field, what each app may read.</p>
<p class="fine">Apps speak the Ukey1 v2 API under <code>/auth/v2</code>.</p>`);
}
