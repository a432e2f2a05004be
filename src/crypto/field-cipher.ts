import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Where a ciphertext belongs. It is bound into the AES-GCM associated data, so a
 * ciphertext copied into another table, column or row no longer decrypts.
 */
export interface FieldLocation {
  readonly table: string;
  readonly column: string;
  readonly rowId: string;
}

const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;

export class DecryptionError extends Error {
  override name = 'DecryptionError';
}

function associatedData(at: FieldLocation): Buffer {
  // Length-prefix each part so that no two locations serialise to the same bytes.
  const parts = [at.table, at.column, at.rowId].map((p) => `${Buffer.byteLength(p)}:${p}`);
  return Buffer.from(`keygate/v${FORMAT_VERSION}|${parts.join('|')}`);
}

/** AES-256-GCM with a fresh random IV: `version ‖ iv ‖ tag ‖ ciphertext`. */
export function encryptField(key: Uint8Array, at: FieldLocation, plaintext: Uint8Array | string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(associatedData(at));
  const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(FORMAT_VERSION), iv, cipher.getAuthTag(), body]);
}

export function decryptField(key: Uint8Array, at: FieldLocation, sealed: Uint8Array): Buffer {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes.length < HEADER_BYTES || bytes[0] !== FORMAT_VERSION) {
    throw new DecryptionError(`malformed ciphertext for ${at.table}.${at.column}`);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(1, 1 + IV_BYTES));
  decipher.setAAD(associatedData(at));
  decipher.setAuthTag(bytes.subarray(1 + IV_BYTES, HEADER_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(HEADER_BYTES)), decipher.final()]);
  } catch {
    throw new DecryptionError(`ciphertext of ${at.table}.${at.column} does not authenticate at this location or with this key`);
  }
}

export const decryptFieldText = (key: Uint8Array, at: FieldLocation, sealed: Uint8Array): string =>
  decryptField(key, at, sealed).toString('utf8');
