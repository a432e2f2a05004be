import { legalBasisFor, type App } from '../../domain/apps/apps-service.js';
import type { ConnectRequest } from '../../domain/connect/connect-service.js';
import { FIELD_LABELS, type FieldCode } from '../../domain/consent/fields.js';
import { csrfField } from '../kit/form-controls.js';
import { html } from '../kit/html.js';
import { alert, layout } from '../kit/layout.js';

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
${alert(view.error)}
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

/**
 * Keygate's page about a private app, where its invitation mail links to: it says which
 * app invited the person and links on only to the site its owners registered, so that the
 * mail carries no link an app's caller chose.
 */
export function invitationPage(view: { appName: string; appHome: string }): string {
  return layout(`Invitation to ${view.appName}`, html`<h1>Invitation to ${view.appName}</h1>
<p><strong>${view.appName}</strong> is a private app that uses Keygate to sign people in. Its owners added your email address to the people who may sign in to it.</p>
<p>Keygate does not run ${view.appName}. Its owners registered this address for it:</p>
<p><a href="${view.appHome}" rel="noopener noreferrer">${view.appHome}</a></p>
<p class="fine">There, choose to sign in with Keygate, using this email address. If you were not expecting this invitation, you can ignore it: nothing is shared until you sign in and agree.</p>`);
}
