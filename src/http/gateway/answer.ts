import type { App } from '../../domain/apps/app.js';
import type { ConnectRequest } from '../../domain/connect/connect-service.js';
import type { ConnectDecision } from '../../domain/consent/consent-service.js';
import { isRegisteredRedirectUri } from '../../domain/protection/redirect-uri.js';
import { isReturnUrlAllowed } from '../../domain/protection/return-url.js';
import { decisionResponse } from '../../protocols/oidc/authorization-response.js';
import { oidcRequestParams } from '../../protocols/oidc/request-params.js';
import { buildReturnRedirect } from '../../protocols/ukey1/return-redirect.js';

/**
 * How the gateway answers an app, by the protocol its request came in by: the signed
 * `_ukey1[…]` parameters on the return URL, or the OpenID Connect authorization response
 * on the redirect URI.
 */
export function answerRedirect(issuer: string, app: App, connect: ConnectRequest, decision: ConnectDecision): string {
  if (connect.protocol === 'oidc') {
    return decisionResponse(issuer, connect.returnUrl, connect.id, oidcRequestParams(connect.protocolParams).state, decision);
  }
  return buildReturnRedirect(app, connect, decision);
}

/** The people (ids for the app) a request may be answered for; null: anyone (every Ukey1 request). */
export function expectedUserIds(connect: ConnectRequest): readonly string[] | null {
  return connect.protocol === 'oidc' ? oidcRequestParams(connect.protocolParams).expectedUserIds : null;
}

/**
 * Whether the request's answer may still go where it was asked to, by the app's settings
 * as they are now: a Ukey1 return URL under return-URL protection, an OpenID Connect
 * redirect URI always, exactly as registered (one removed since is not used).
 */
export function isAnswerTargetAllowed(app: App, connect: ConnectRequest): boolean {
  if (connect.protocol === 'oidc') return isRegisteredRedirectUri(connect.returnUrl, app.redirectUris);
  return !app.protections.returnUrl || isReturnUrlAllowed(connect.returnUrl, app.returnUrls);
}
