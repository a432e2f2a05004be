import type { ErrorCode } from '../../domain/errors.js';

/**
 * OAuth 2.0 error codes (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; OpenID Connect Core
 * §3.1.2.6) as Keygate answers them.
 */
export type OAuthErrorCode =
  | 'invalid_request' | 'unauthorized_client' | 'access_denied' | 'unsupported_response_type' | 'invalid_scope'
  | 'server_error' | 'temporarily_unavailable' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type'
  | 'invalid_token' | 'login_required' | 'consent_required' | 'interaction_required'
  | 'request_not_supported' | 'request_uri_not_supported' | 'unsupported_token_type';

/** An OAuth refusal: the code, a sentence for the developer, and the HTTP status where it is answered directly. */
export class OAuthError extends Error {
  override name = 'OAuthError';
  constructor(readonly error: OAuthErrorCode, readonly description: string, readonly status = 400) {
    super(`${error}: ${description}`);
  }
}

/** A form parameter of a client's request: absent (null) or one string; sent twice is `invalid_request` (RFC 6749 §3.2). */
export function formParam(form: Readonly<Record<string, unknown>>, name: string): string | null {
  const value = form[name];
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string') throw new OAuthError('invalid_request', `${name} was sent more than once.`);
  return value;
}

/** How the domain's refusals read at the token, userinfo, revocation and introspection endpoints. */
const FROM_DOMAIN: Partial<Record<ErrorCode, readonly [OAuthErrorCode, string, number]>> = {
  invalid_code: ['invalid_grant', 'The code is unknown, expired, or was issued for another client, redirect URI or code verifier.', 400],
  code_already_used: ['invalid_grant', 'The code was used already; the tokens it gave were revoked.', 400],
  invalid_refresh_token: ['invalid_grant', 'The refresh token is unknown, expired or revoked.', 400],
  refresh_token_reused: ['invalid_grant', 'The refresh token was used already; its whole family was revoked.', 400],
  invalid_token: ['invalid_token', 'The access token is unknown, expired or revoked.', 401],
  missing_token: ['invalid_token', 'An access token is required.', 401],
  ip_not_allowed: ['unauthorized_client', 'Calls from this network are not allowed for this client.', 403],
  origin_not_allowed: ['unauthorized_client', 'Calls from this origin are not allowed for this client.', 403],
  too_many_requests: ['temporarily_unavailable', 'Too many requests for this client; try again shortly.', 429],
  invalid_request: ['invalid_request', 'The request is malformed.', 400],
};

/** The OAuth form of a domain refusal, or null for one that has no place at these endpoints. */
export function oauthErrorOf(code: ErrorCode): OAuthError | null {
  const mapped = FROM_DOMAIN[code];
  return mapped ? new OAuthError(mapped[0], mapped[1], mapped[2]) : null;
}
