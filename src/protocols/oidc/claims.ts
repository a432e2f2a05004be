import { FIELD_CODES, type FieldCode } from '../../domain/consent/fields.js';
import type { Profile } from '../../domain/people/person-profiles.js';

/**
 * The OpenID Connect face of Keygate's fields (OpenID Connect Core §5.1, §5.4): which
 * scope asks for which fields, and which claim carries each. What the person granted —
 * never the scope string — decides which claims an answer holds.
 */

/** Scope values that ask for personal fields. */
export const SCOPE_FIELDS: Readonly<Record<string, readonly FieldCode[]>> = {
  profile: ['firstname', 'surname', 'image', 'language'],
  email: ['email'],
  address: ['country'],
};

export const SUPPORTED_SCOPES = ['openid', ...Object.keys(SCOPE_FIELDS), 'offline_access'] as const;

/** The claim of each field; `email_verified` comes with `email`. */
export const CLAIM_OF_FIELD: Readonly<Record<FieldCode, string>> = {
  firstname: 'given_name',
  surname: 'family_name',
  email: 'email',
  image: 'picture',
  country: 'address',
  language: 'locale',
};

/** The field a claim of the `claims` request parameter asks for (undefined: not a personal claim Keygate keeps). */
export function fieldOfClaim(claim: string): FieldCode | undefined {
  if (claim === 'email_verified') return 'email';
  return FIELD_CODES.find((field) => CLAIM_OF_FIELD[field] === claim);
}

/** Claims that describe the sign-in, not the person. */
const TOKEN_CLAIMS = ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'at_hash', 'sid'];

export const SUPPORTED_CLAIMS: readonly string[] = [...TOKEN_CLAIMS, ...FIELD_CODES.map((f) => CLAIM_OF_FIELD[f]), 'email_verified'];

/**
 * The claims of `fields` read from `profile`: a field granted but empty is left out (a
 * claim is never sent as null), and `email_verified` goes with the address.
 */
export function claimsOf(profile: Profile, fields: readonly FieldCode[], emailVerified: boolean): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const field of fields) {
    const value = profile[field];
    if (value === null || value === undefined || value === '') continue;
    if (field === 'country') claims.address = { country: value };
    else claims[CLAIM_OF_FIELD[field]] = value;
    if (field === 'email') claims.email_verified = emailVerified;
  }
  return claims;
}
