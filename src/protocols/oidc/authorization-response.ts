import type { ConnectDecision } from '../../domain/consent/consent-service.js';
import type { OAuthError } from './errors.js';

/**
 * The answer sent back to the redirect URI (RFC 6749 §4.1.2, RFC 9207): the parameters
 * added to its query, which it may already have, with `iss` naming Keygate so that a
 * client talking to several providers cannot be fooled by a mix-up.
 */
export function authorizationResponse(redirectUri: string, answer: Readonly<Record<string, string | null | undefined>>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(answer)) if (value !== null && value !== undefined) url.searchParams.append(name, value);
  return url.href;
}

/** The OpenID Connect code: the request it was issued for, then the secret code itself. */
export const oidcCode = (connectId: string, code: string): string => `${connectId}.${code}`;

/** The parts of an OpenID Connect code, or null when it cannot be one. */
export function parseOidcCode(value: string): { connectId: string; code: string } | null {
  const match = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/.exec(value);
  return match ? { connectId: match[1]!, code: match[2]! } : null;
}

/** How a decided request answers its client: the code, or `access_denied` when the person refused or may not use the app. */
export function decisionResponse(issuer: string, redirectUri: string, connectId: string, state: string | null, decision: ConnectDecision): string {
  if (decision.result === 'authorized') return authorizationResponse(redirectUri, { code: oidcCode(connectId, decision.code), state, iss: issuer });
  const description = decision.result === 'denied' ? 'This person may not use this app.' : 'The person did not allow the request.';
  return authorizationResponse(redirectUri, { error: 'access_denied', error_description: description, state, iss: issuer });
}

/** A refused request, answered to its validated redirect URI. */
export const errorResponse = (issuer: string, redirectUri: string, state: string | null, error: OAuthError): string =>
  authorizationResponse(redirectUri, { error: error.error, error_description: error.description, state, iss: issuer });
