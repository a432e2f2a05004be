import type { DetailsOf, ErrorCode, ErrorDetails, KeygateError } from '../../domain/errors.js';

/** Codes the API answers with that are not refusals of the domain: how the HTTP exchange itself went. */
export type EnvelopeCode = 'body_too_large' | 'unsupported_media_type' | 'not_found' | 'method_not_allowed' | 'store_unavailable' | 'internal_error';

/** Every `debug.code` the Ukey1 API can answer with. */
export type Ukey1ErrorCode = ErrorCode | EnvelopeCode;

interface Wording<C extends Ukey1ErrorCode> {
  readonly status: number;
  /** The `debug.message` when the refusal carries no details. */
  readonly message: string;
  /** The `debug.message` worded from the refusal's details. */
  readonly detailed?: C extends keyof ErrorDetails ? (details: NonNullable<ErrorDetails[C]>) => string : never;
}

/**
 * The Ukey1 v2 answer to each code (spec, "Response envelope"): the HTTP status, which is
 * also `result`, and a `debug.message` that is safe to show (no secrets, no hint whether
 * a person exists). These texts are part of the wire: clients and their logs see them.
 */
export const UKEY1_ERRORS: { readonly [C in Ukey1ErrorCode]: Wording<C> } = {
  invalid_json: {
    status: 400,
    message: 'The request body is not valid JSON.',
    detailed: () => 'The request body is not valid UTF-8.',
  },
  invalid_request: {
    status: 400,
    message: 'The request is malformed.',
    detailed: (problem) => {
      switch (problem.reason) {
        case 'schema': return `Invalid ${problem.field}: ${problem.issue}`;
        case 'not_an_email': return `Invalid ${problem.field}: not an email address.`;
        case 'unstorable_text': return 'Strings must be valid Unicode without the NUL character.';
      }
    },
  },
  body_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'Unsupported content type.' },
  missing_app_id: { status: 400, message: 'The X-Ukey1-App header is missing.' },
  invalid_app_id: { status: 400, message: 'The App ID is not a valid UUID.' },
  unknown_app: { status: 404, message: 'No app has this App ID.' },
  bad_signature: { status: 401, message: 'The request signature is invalid.' },
  origin_not_allowed: { status: 403, message: 'This origin is not allowed for this app.' },
  signature_required: { status: 403, message: 'This app accepts only signed server-to-server calls.' },
  ip_not_allowed: { status: 403, message: 'Calls from this address are not allowed for this app.' },
  ip_protection_required: { status: 403, message: "This call changes the app's state: it is accepted only with the app's IP protection on and from a listed address." },
  not_private_app: { status: 400, message: 'This app is not private: it has no list of allowed people.' },
  unknown_reference: { status: 404, message: 'No invitation has this reference id.' },
  mail_unavailable: { status: 503, message: 'The email could not be sent right now. Try again in a moment.' },
  invalid_scope: {
    status: 400,
    message: 'The scope contains an unknown field or a field this app may not request.',
    detailed: ({ field, reason }) => {
      switch (reason) {
        // The entry is the caller's own text: quoted, and cut short so it cannot flood the answer.
        case 'unknown_field': return `Unknown field code in scope: ${JSON.stringify(field.slice(0, 40))}.`;
        case 'mandatory_not_permitted': return `This app may not make "${field}" mandatory.`;
        case 'not_permitted': return `This app may not request "${field}".`;
      }
    },
  },
  return_url_not_allowed: { status: 403, message: 'The return URL is not registered for this app.' },
  unknown_connect: { status: 404, message: 'This sign-in request does not exist or has expired.' },
  connect_already_decided: { status: 409, message: 'This sign-in request has already been completed.' },
  invalid_code: { status: 400, message: 'The authorization code is invalid or has expired.' },
  code_already_used: { status: 400, message: 'The authorization code has already been used; the tokens issued for it are revoked.' },
  invalid_refresh_token: { status: 400, message: 'The refresh token is invalid, expired or revoked.' },
  refresh_token_reused: { status: 400, message: 'The refresh token has already been used; every token of its family is revoked.' },
  missing_token: { status: 401, message: 'An access token is required.' },
  invalid_token: {
    status: 401,
    message: 'The access token is invalid, expired or revoked.',
    detailed: () => 'The Authorization header must be "Bearer <access token>".',
  },
  not_found: { status: 404, message: 'Not found.' },
  method_not_allowed: { status: 405, message: 'Method not allowed.' },
  too_many_attempts: { status: 429, message: 'Too many attempts. Wait a moment and try again.' },
  too_many_requests: { status: 429, message: 'Too many calls for this app. Wait as long as Retry-After says, then try again.' },
  store_unavailable: { status: 503, message: 'A data store is temporarily unavailable. Try again in a moment.' },
  internal_error: { status: 500, message: 'Something went wrong on our side. The request id identifies it in our logs.' },
};

/** A refusal as the Ukey1 API answers it. */
export interface Ukey1Refusal {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
  /** For a 429: the seconds to send as `Retry-After`. */
  readonly retryAfterSeconds?: number;
}

/** Maps a domain refusal to its Ukey1 status and `debug` (spec, "Response envelope"). */
export function describeRefusal(error: KeygateError): Ukey1Refusal {
  const wording = UKEY1_ERRORS[error.code] as Wording<ErrorCode>;
  // The table is typed per code, and KeygateError's constructor types the details by the
  // same code, so the details always suit this code's wording.
  const detailed = wording.detailed as ((details: NonNullable<DetailsOf<ErrorCode>>) => string) | undefined;
  const message = detailed && error.details !== undefined ? detailed(error.details) : wording.message;
  const retryAfterSeconds = error.details !== undefined && 'retryAfterSeconds' in error.details ? error.details.retryAfterSeconds : undefined;
  return { status: wording.status, code: error.code, message, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) };
}
