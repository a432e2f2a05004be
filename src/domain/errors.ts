/**
 * The refusals the product can give: a closed set of stable codes, some with typed
 * details. There is no HTTP status and no wording here: each front-end maps a code and
 * its details to its own answer (`protocols/ukey1/errors.ts` for the API's `debug`,
 * `http/error-pages.ts` for pages), so a new protocol adds a mapping, not a copy of this.
 * Anything thrown that is not a KeygateError is unexpected and becomes a 500 whose
 * detail goes to the log only.
 */
export const ERROR_CODES = [
  'invalid_json',
  'invalid_request',
  'missing_app_id',
  'invalid_app_id',
  'unknown_app',
  'bad_signature',
  'origin_not_allowed',
  'signature_required',
  'ip_not_allowed',
  'ip_protection_required',
  'not_private_app',
  'unknown_reference',
  'mail_unavailable',
  'invalid_scope',
  'return_url_not_allowed',
  'unknown_connect',
  'connect_already_decided',
  'invalid_code',
  'code_already_used',
  'invalid_refresh_token',
  'refresh_token_reused',
  'missing_token',
  'invalid_token',
  'too_many_attempts',
  'too_many_requests',
] as const;

/** A stable, machine-readable refusal code. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * What an input was refused for. `schema` carries the schema validator's own account of
 * the problem in `issue`; the others are ours.
 */
export type InputProblem =
  | { readonly field: string; readonly reason: 'schema'; readonly issue: string }
  | { readonly field: string; readonly reason: 'not_an_email' }
  | { readonly field: 'body'; readonly reason: 'unstorable_text' };

/**
 * The details a refusal carries, by code; a code not listed carries none. An optional
 * entry may be thrown with or without its details.
 */
export interface ErrorDetails {
  /**
   * A scope entry the app may not ask for: `field` is the entry as sent when it names no
   * known field (`unknown_field`), otherwise the field code.
   */
  readonly invalid_scope: { readonly field: string; readonly reason: 'unknown_field' | 'not_permitted' | 'mandatory_not_permitted' };
  readonly invalid_request?: InputProblem;
  /** `not_utf8`: the bytes are not text at all, let alone JSON. */
  readonly invalid_json?: { readonly reason: 'not_utf8' };
  /** `malformed_authorization`: the Authorization header is not a bearer token. */
  readonly invalid_token?: { readonly reason: 'malformed_authorization' };
  /** How long the caller should wait before trying again. */
  readonly too_many_attempts: { readonly retryAfterSeconds: number };
  readonly too_many_requests: { readonly retryAfterSeconds: number };
}

/** The details of refusals with code `C` (undefined for a code that carries none). */
export type DetailsOf<C extends ErrorCode> = C extends keyof ErrorDetails ? ErrorDetails[C] : undefined;

type DetailsArgs<C extends ErrorCode> = C extends keyof ErrorDetails
  ? undefined extends ErrorDetails[C] ? [details?: ErrorDetails[C]] : [details: ErrorDetails[C]]
  : [];

/** A refusal: the code says which, the details say what a front-end needs to word it. */
export class KeygateError<C extends ErrorCode = ErrorCode> extends Error {
  override name = 'KeygateError';
  readonly details: DetailsOf<C>;

  constructor(readonly code: C, ...[details]: DetailsArgs<C>) {
    // The code is what a log or a stack trace shows; the wording belongs to the front-ends.
    super(code);
    this.details = details as DetailsOf<C>;
  }
}
