import { DEFAULT_LEGAL_BASIS, legalBasisFor, type App } from '../../domain/apps/app.js';
import type { ConnectRequest } from '../../domain/connect/connect-service.js';
import type { FieldCode } from '../../domain/consent/fields.js';
import { csrfField } from '../kit/form-controls.js';
import { html, type SafeHtml } from '../kit/html.js';
import { alert, layout } from '../kit/layout.js';
import type { Texts } from '../kit/texts.js';

/** What every gateway page for a sign-in request knows. */
export interface GatewayPage {
  readonly app: App;
  readonly connect: ConnectRequest;
  readonly csrf: string;
  readonly t: Texts;
}

export interface ConsentView extends GatewayPage {
  readonly checked?: readonly FieldCode[];
  readonly error?: string;
}

/** The app's own words for why it needs a field; Keygate's default, in the page's language. */
function basisOf(t: Texts, app: App, field: FieldCode): string {
  const basis = legalBasisFor(app, field);
  return basis === DEFAULT_LEGAL_BASIS ? t.t('consent.defaultLegalBasis') : basis;
}

export function consentPage(view: ConsentView): string {
  const { app, connect, t } = view;
  const strong = (chunks: SafeHtml) => html`<strong>${chunks}</strong>`;
  const checked = new Set(view.checked ?? []);
  const choices = connect.scope.fields.map((field) => {
    const mandatory = connect.scope.mandatory.includes(field);
    const id = `field-${field}`;
    return html`<div class="choice">
<input type="checkbox" id="${id}" name="fields" value="${field}"${checked.has(field) ? html` checked` : html``}${mandatory ? html` required aria-describedby="${id}-why"` : html``}>
<label for="${id}">${t.t(`field.${field}`)}${mandatory ? html` <span class="required">${t.t('consent.required')}</span>` : html``}</label>
${mandatory ? html`<span class="why" id="${id}-why">${t.t('consent.requiredBy', { app: app.name, basis: basisOf(t, app, field) })}</span>` : html``}
</div>`;
  });
  return layout(t, t.t('consent.title', { app: app.name }), html`<h1>${t.t('consent.heading', { app: app.name })}</h1>
<p class="lead">${t.rich(connect.scope.mandatory.length > 0 ? 'consent.leadRequired' : 'consent.lead', { app: app.name, strong })}</p>
${alert(view.error)}
<form method="post" action="/gateway/${connect.id}/consent">
${csrfField(view.csrf)}
${connect.scope.fields.length > 0
    ? html`<fieldset><legend>${t.t('consent.share', { app: app.name })}</legend>${choices}</fieldset>`
    : html`<p>${t.t('consent.nothingAsked', { app: app.name })}</p>`}
<div class="actions">
<button type="submit" name="decision" value="allow" class="primary">${t.t('consent.allow')}</button>
<button type="submit" name="decision" value="cancel" class="secondary" formnovalidate>${t.t('consent.cancel')}</button>
</div>
</form>
<form method="post" action="/gateway/${connect.id}/sign-out" class="switch">
${csrfField(view.csrf)}
<button type="submit" class="secondary">${t.t('consent.notYou')}</button>
</form>`);
}

/**
 * Keygate's page about a private app, where its invitation mail links to: it says which
 * app invited the person and links on only to the site its owners registered, so that the
 * mail carries no link an app's caller chose.
 */
export function invitationPage(t: Texts, view: { appName: string; appHome: string }): string {
  const app = view.appName;
  return layout(t, t.t('invitation.title', { app }), html`<h1>${t.t('invitation.title', { app })}</h1>
<p>${t.rich('invitation.lead', { app, strong: (chunks) => html`<strong>${chunks}</strong>` })}</p>
<p>${t.t('invitation.notRun', { app })}</p>
<p><a href="${view.appHome}" rel="noopener noreferrer">${view.appHome}</a></p>
<p class="fine">${t.t('invitation.next')}</p>`);
}
