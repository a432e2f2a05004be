import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import { accessTokenId, type AccessTokenRef, type IssuedTokens } from '../../domain/tokens/token-service.js';
import type { Signer } from '../../domain/signing/signing-keys.js';
import { LONGEST_SIGNED_TOKEN_SECONDS } from '../../domain/signing/signing-keys.js';
import { isZoneName } from '../../domain/zones/zones.js';
import { isUuid } from '../../domain/apps/app.js';

/**
 * OpenID Connect tokens. The access token is opaque: `<zone>.<client id>.<secret>`, where
 * the zone and the client only route the lookup and the secret's hash names the record
 * (so nothing can be forged without the secret, and the store holds no usable token).
 * The ID token is a JWT signed with Keygate's own key (RS256).
 */

/** Read with an OpenID Connect access token, a claim release is audited under this purpose. */
export const USERINFO_PURPOSE = 'oidc.userinfo';
export const ID_TOKEN_PURPOSE = 'oidc.id_token';
export const INTROSPECTION_PURPOSE = 'oidc.introspection';

/** How long an ID token is good for: never longer than a signing key outlives its last signature. */
export const ID_TOKEN_SECONDS = LONGEST_SIGNED_TOKEN_SECONDS;

export const formatAccessToken = (issued: IssuedTokens, clientId: string): string => `${issued.zone}.${clientId}.${issued.accessSecret}`;

/** The record an opaque access token names and the client it was issued to; null when it cannot be one. */
export function parseAccessToken(token: string): { ref: AccessTokenRef; clientId: string } | null {
  const match = /^([a-z]+)\.([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match || !isZoneName(match[1]) || !isUuid(match[2]!)) return null;
  return { ref: { zone: match[1], jti: accessTokenId(match[3]!) }, clientId: match[2]! };
}

/** `at_hash` (OpenID Connect Core §3.1.3.6): the left half of the access token's SHA-256, for RS256. */
export const accessTokenHash = (accessToken: string): string =>
  createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');

export interface IdTokenInput {
  readonly issuer: string;
  readonly clientId: string;
  /** The pairwise subject: the person's id for this client. */
  readonly subject: string;
  readonly nonce: string | null;
  readonly authTime: Date | null;
  readonly amr: readonly string[];
  /** The browser session the person signed in with, for logout (`sid`). */
  readonly sid: string | null;
  readonly accessToken: string;
  readonly issuedAt: Date;
  /** Personal claims the request asked to have in the ID token, already read (and audited). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * The authentication context class of a sign-in (`acr`): "2" when it took two factors of
 * different kinds (RFC 8176 `mfa`), "1" for one. Asked-for values (`acr_values`) are
 * voluntary: the ID token states what the sign-in achieved.
 */
export const ACR_VALUES = ['1', '2'] as const;
export const acrOf = (amr: readonly string[]): (typeof ACR_VALUES)[number] => (amr.includes('mfa') ? '2' : '1');

export function signIdToken(signer: Signer, input: IdTokenInput): Promise<string> {
  const payload: Record<string, unknown> = { ...input.claims, at_hash: accessTokenHash(input.accessToken) };
  if (input.nonce !== null) payload.nonce = input.nonce;
  if (input.authTime !== null) payload.auth_time = seconds(input.authTime);
  if (input.amr.length > 0) {
    payload.amr = [...input.amr];
    payload.acr = acrOf(input.amr);
  }
  if (input.sid !== null) payload.sid = input.sid;
  const issuedAt = seconds(input.issuedAt);
  return new SignJWT(payload)
    .setProtectedHeader({ alg: signer.alg, typ: 'JWT', kid: signer.kid })
    .setIssuer(input.issuer)
    .setSubject(input.subject)
    .setAudience(input.clientId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ID_TOKEN_SECONDS)
    .sign(signer.privateKey);
}
