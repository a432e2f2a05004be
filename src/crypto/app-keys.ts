import { constants, createPrivateKey, createPublicKey, generateKeyPair, privateDecrypt, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface AppKeyPair {
  /** base64 of the DER SubjectPublicKeyInfo, no armour: the "Secret Key" a developer receives. */
  readonly secretKey: string;
  /** PKCS#8 DER of the private half; only ever stored encrypted. */
  readonly privateKeyDer: Buffer;
}

export async function generateAppKeyPair(bits: number): Promise<AppKeyPair> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return { secretKey: publicKey.toString('base64'), privateKeyDer: privateKey };
}

export const privateKeyFromDer = (der: Uint8Array): KeyObject =>
  createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });

export const publicKeyFromSecretKey = (secretKey: string): KeyObject =>
  createPublicKey({ key: Buffer.from(secretKey, 'base64'), format: 'der', type: 'spki' });

/**
 * RSA-OAEP decryption with SHA-1 and MGF1-SHA-1 (OpenSSL's default OAEP, which clients
 * encrypt with). Null for anything that does not decrypt: callers treat it as a refusal.
 */
export function decryptOaepSha1(privateKey: KeyObject, ciphertext: Uint8Array): Buffer | null {
  try {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, ciphertext);
  } catch {
    return null;
  }
}

/** RSA PKCS#1 v1.5 signature with SHA-512 over `data`. */
export const signSha512 = (privateKey: KeyObject, data: Uint8Array): Buffer =>
  sign('sha512', data, { key: privateKey, padding: constants.RSA_PKCS1_PADDING });
