import { html, type SafeHtml } from './html.js';

/** A message per form field (or `form` for the whole form), shown next to it. */
export type FieldErrors = Partial<Record<string, string>>;

export function errorText(id: string, message: string | undefined): SafeHtml {
  return message ? html`<p class="error" id="${id}-error">${message}</p>` : html``;
}

/**
 * A labelled field. Its hint and, after a refused submit, its error are tied to it with
 * `aria-describedby`, so a screen reader reads them when the field gets focus.
 */
/** A labelled text input; `optional` leaves out `required` (a field one may clear). */
export function input(props: { id: string; name: string; label: string; type: string; value?: string; autocomplete: string; error?: string; hint?: string; optional?: boolean }): SafeHtml {
  const invalid = props.error ? 'true' : 'false';
  const described = [props.hint ? `${props.id}-hint` : '', props.error ? `${props.id}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="field">
<label for="${props.id}">${props.label}</label>
<input id="${props.id}" name="${props.name}" type="${props.type}" value="${props.value ?? ''}" autocomplete="${props.autocomplete}"${props.optional ? html`` : html` required`} aria-invalid="${invalid}"${described ? html` aria-describedby="${described}"` : html``}>
${props.hint ? html`<p class="fine" id="${props.id}-hint">${props.hint}</p>` : html``}${errorText(props.id, props.error)}
</div>`;
}

export function select(props: { id: string; name: string; label: string; options: ReadonlyArray<{ code: string; name: string }>; value?: string; error?: string; choose: string }): SafeHtml {
  const invalid = props.error ? 'true' : 'false';
  return html`<div class="field">
<label for="${props.id}">${props.label}</label>
<select id="${props.id}" name="${props.name}" required aria-invalid="${invalid}"${props.error ? html` aria-describedby="${props.id}-error"` : html``}>
<option value="">${props.choose}</option>
${props.options.map((o) => html`<option value="${o.code}"${o.code === props.value ? html` selected` : html``}>${o.name}</option>`)}
</select>
${errorText(props.id, props.error)}
</div>`;
}

/**
 * After a refused submit with several fields wrong: a list at the top of the form, read out
 * at once, each entry linking to its field (which carries the same message).
 */
export function errorSummary(heading: string, errors: FieldErrors, fields: readonly string[]): SafeHtml {
  const wrong = fields.filter((field) => errors[field]);
  if (wrong.length === 0) return html``;
  return html`<div class="error-summary" role="alert" aria-labelledby="error-summary-h"><h2 id="error-summary-h">${heading}</h2>
<ul>${wrong.map((field) => html`<li><a href="#${field}">${errors[field]}</a></li>`)}</ul></div>`;
}

/** Every state-changing form carries the CSRF token of the page. */
export const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`;

/** A form that posts `body` to `action` with the page's CSRF token, closed by its one submit button. */
export const postForm = (form: { action: string; csrf: string; submit: string; kind?: 'primary' | 'secondary' | 'danger' }, body: SafeHtml) => html`<form method="post" action="${form.action}" novalidate>
${csrfField(form.csrf)}
${body}
<div class="actions"><button type="submit" class="${form.kind ?? 'primary'}">${form.submit}</button></div>
</form>`;
