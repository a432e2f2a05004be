/**
 * The error catalogue: every refusal the product can give, with a stable code, an HTTP
 * status and a message that is safe to show (no secrets, no hint whether a person exists).
 * Anything not in here is unexpected and becomes a 500 whose detail goes to the log only.
 */
export const ERRORS = {
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  invalid_request: { status: 400, message: 'The request is malformed.' },
  body_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'Unsupported content type.' },
  missing_app_id: { status: 400, message: 'The X-Ukey1-App header is missing.' },
  invalid_app_id: { status: 400, message: 'The App ID is not a valid UUID.' },
  unknown_app: { status: 404, message: 'No app has this App ID.' },
  bad_signature: { status: 401, message: 'The request signature is invalid.' },
  origin_not_allowed: { status: 403, message: 'This origin is not allowed for this app.' },
  signature_required: { status: 403, message: 'This app accepts only signed server-to-server calls.' },
  ip_not_allowed: { status: 403, message: 'Calls from this address are not allowed for this app.' },
  not_private_app: { status: 400, message: 'This app is not private: it has no list of allowed people.' },
  unknown_reference: { status: 404, message: 'No invitation has this reference id.' },
  mail_unavailable: { status: 503, message: 'The email could not be sent right now. Try again in a moment.' },
  invalid_scope: { status: 400, message: 'The scope contains an unknown field or a field this app may not request.' },
  return_url_not_allowed: { status: 403, message: 'The return URL is not registered for this app.' },
  unknown_connect: { status: 404, message: 'This sign-in request does not exist or has expired.' },
  connect_already_decided: { status: 409, message: 'This sign-in request has already been completed.' },
  invalid_code: { status: 400, message: 'The authorization code is invalid or has expired.' },
  code_already_used: { status: 400, message: 'The authorization code has already been used; the tokens issued for it are revoked.' },
  invalid_refresh_token: { status: 400, message: 'The refresh token is invalid, expired or revoked.' },
  refresh_token_reused: { status: 400, message: 'The refresh token has already been used; every token of its family is revoked.' },
  missing_token: { status: 401, message: 'An access token is required.' },
  invalid_token: { status: 401, message: 'The access token is invalid, expired or revoked.' },
  not_found: { status: 404, message: 'Not found.' },
  method_not_allowed: { status: 405, message: 'Method not allowed.' },
  too_many_attempts: { status: 429, message: 'Too many attempts. Wait a moment and try again.' },
  too_many_requests: { status: 429, message: 'Too many calls for this app. Wait as long as Retry-After says, then try again.' },
  store_unavailable: { status: 503, message: 'A data store is temporarily unavailable. Try again in a moment.' },
  internal_error: { status: 500, message: 'Something went wrong on our side. The request id identifies it in our logs.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class KeygateError extends Error {
  override name = 'KeygateError';
  readonly status: number;

  /** `retryAfterSeconds`: for a 429, how long the caller should wait (sent as `Retry-After`). */
  constructor(readonly code: ErrorCode, message?: string, readonly retryAfterSeconds?: number) {
    super(message ?? ERRORS[code].message);
    this.status = ERRORS[code].status;
  }
}
