import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * OpenID Connect client secrets: 256 random bits, shown once and kept only as their
 * SHA-256 (a secret this long needs no slow hash: it cannot be guessed from its digest).
 */
export function generateClientSecret(): { secret: string; hash: Buffer } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, hash: hashClientSecret(secret) };
}

export const hashClientSecret = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

/** Whether `presented` is the secret behind `hash`, compared in constant time. */
export function isClientSecret(presented: string, hash: Uint8Array | null): boolean {
  if (hash === null || presented.length === 0 || presented.length > 512) return false;
  return timingSafeEqual(hashClientSecret(presented), hash);
}
