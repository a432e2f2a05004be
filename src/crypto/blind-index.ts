import { createHmac } from 'node:crypto';

/**
 * Keyed blind index: lets a store find a row by an exact value (an email) without
 * holding the value. HMAC-SHA256 under a key the database never sees; the `purpose`
 * keeps indexes of different columns unlinkable.
 */
export function blindIndex(key: Uint8Array, purpose: string, normalisedValue: string): Buffer {
  return createHmac('sha256', key).update(purpose).update('\0').update(normalisedValue, 'utf8').digest();
}
