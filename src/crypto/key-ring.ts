import { randomBytes } from 'node:crypto';
import { decryptField, encryptField, type FieldLocation } from './field-cipher.js';
import type { IdentifiedKey } from './master-keys.js';

/**
 * A store's master keys: the current one seals, any known one opens. Sealed values
 * carry the id of their key so that a new master key can be introduced without
 * rewriting everything at once.
 */
export class KeyRing {
  readonly #keys: Map<string, Buffer>;

  constructor(readonly current: IdentifiedKey, older: readonly IdentifiedKey[] = []) {
    this.#keys = new Map([...older, current].map((k) => [k.id, k.key]));
  }

  seal(at: FieldLocation, plaintext: Uint8Array): { keyId: string; sealed: Buffer } {
    return { keyId: this.current.id, sealed: encryptField(this.current.key, at, plaintext) };
  }

  open(keyId: string, at: FieldLocation, sealed: Uint8Array): Buffer {
    const key = this.#keys.get(keyId);
    if (!key) throw new Error(`master key ${keyId} is not configured`);
    return decryptField(key, at, sealed);
  }
}

/** The per-person data key, wrapped by the zone's master key and bound to its person. */
export interface WrappedDataKey {
  readonly masterKeyId: string;
  readonly wrappedKey: Uint8Array;
}

const dataKeyLocation = (personId: string): FieldLocation => ({ table: 'person_keys', column: 'wrapped_key', rowId: personId });

export function createDataKey(ring: KeyRing, personId: string): { dataKey: Buffer; wrapped: WrappedDataKey } {
  const dataKey = randomBytes(32);
  const { keyId, sealed } = ring.seal(dataKeyLocation(personId), dataKey);
  return { dataKey, wrapped: { masterKeyId: keyId, wrappedKey: sealed } };
}

/** Wraps an existing data key (a person moving to another zone keeps theirs). */
export function wrapDataKey(ring: KeyRing, personId: string, dataKey: Uint8Array): WrappedDataKey {
  const { keyId, sealed } = ring.seal(dataKeyLocation(personId), dataKey);
  return { masterKeyId: keyId, wrappedKey: sealed };
}

export const unwrapDataKey = (ring: KeyRing, personId: string, wrapped: WrappedDataKey): Buffer =>
  ring.open(wrapped.masterKeyId, dataKeyLocation(personId), wrapped.wrappedKey);
