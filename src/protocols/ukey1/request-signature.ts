import { createHash, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { App, AppKey } from '../../domain/apps/app.js';
import { decryptOaepSha1 } from '../../crypto/app-keys.js';

/** What a request signature covers (spec, "Request signature", step 1). */
export interface SignedParts {
  readonly appId: string;
  readonly method: string;
  /** The endpoint path as the spec writes it: no host, no query. */
  readonly path: string;
  /** The bytes received, never a re-serialisation; absent when there is no body. */
  readonly rawBody?: Uint8Array;
  readonly accessToken?: string;
}

/**
 * Ukey1 v2 request signature (spec, "Request signature"): the client RSA-OAEP-encrypts
 * (SHA-1/MGF1-SHA-1, OpenSSL's default) the hex SHA-512 digest of
 * `appId + METHOD + path + rawBody + accessToken` with the Secret Key. This is our own
 * digest of the request, as ASCII hex, to compare the decrypted one with.
 */
export function requestDigest(parts: SignedParts): Buffer {
  const hash = createHash('sha512')
    .update(parts.appId, 'utf8')
    .update(parts.method.toUpperCase(), 'utf8')
    .update(parts.path, 'utf8');
  if (parts.rawBody) hash.update(parts.rawBody);
  if (parts.accessToken) hash.update(parts.accessToken, 'utf8');
  return Buffer.from(hash.digest('hex'), 'ascii');
}

/**
 * `header` is the X-Ukey1-Signature value as sent: URL-encoded base64. Compared in
 * constant time, so the answer's timing says nothing about how much of it matched.
 */
export function isValidRequestSignature(privateKey: KeyObject, header: string, expectedDigest: Buffer): boolean {
  let ciphertext: Buffer;
  try {
    ciphertext = Buffer.from(decodeURIComponent(header), 'base64');
  } catch {
    return false;
  }
  if (ciphertext.length === 0) return false;
  const decrypted = decryptOaepSha1(privateKey, ciphertext);
  if (!decrypted) return false;
  return decrypted.length === expectedDigest.length && timingSafeEqual(decrypted, expectedDigest);
}

/**
 * The key pair of `app` that made `header` over `parts`: the current one or one still in
 * its grace period after a rotation. Null when none did.
 */
export function findSigningKey(app: App, header: string, parts: Omit<SignedParts, 'appId'>): AppKey | null {
  const digest = requestDigest({ ...parts, appId: app.id });
  return app.keys.find((candidate) => isValidRequestSignature(candidate.privateKey, header, digest)) ?? null;
}
