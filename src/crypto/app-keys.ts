import {
  constants, createHash, createPrivateKey, createPublicKey, generateKeyPair, privateDecrypt, sign, timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
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
 * Ukey1 v2 request signature (spec, "Request signature"): the client RSA-OAEP-encrypts
 * (SHA-1/MGF1-SHA-1, OpenSSL's default) the hex SHA-512 digest of
 * `appId + METHOD + path + rawBody + accessToken` with the Secret Key. We decrypt it
 * and compare with our own digest of the bytes we received, in constant time.
 */
export function requestDigest(parts: { appId: string; method: string; path: string; rawBody?: Uint8Array; accessToken?: string }): Buffer {
  const hash = createHash('sha512')
    .update(parts.appId, 'utf8')
    .update(parts.method.toUpperCase(), 'utf8')
    .update(parts.path, 'utf8');
  if (parts.rawBody) hash.update(parts.rawBody);
  if (parts.accessToken) hash.update(parts.accessToken, 'utf8');
  return Buffer.from(hash.digest('hex'), 'ascii');
}

/** `header` is the X-Ukey1-Signature value as sent: URL-encoded base64. */
export function isValidRequestSignature(privateKey: KeyObject, header: string, expectedDigest: Buffer): boolean {
  let ciphertext: Buffer;
  try {
    ciphertext = Buffer.from(decodeURIComponent(header), 'base64');
  } catch {
    return false;
  }
  if (ciphertext.length === 0) return false;
  let decrypted: Buffer;
  try {
    decrypted = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, ciphertext);
  } catch {
    return false;
  }
  return decrypted.length === expectedDigest.length && timingSafeEqual(decrypted, expectedDigest);
}

/**
 * Ukey1 v2 redirect signature: base64 of RSA PKCS#1 v1.5 SHA-512 over
 * `appId + request_id + connect_id + code + result`.
 */
export function signRedirect(privateKey: KeyObject, fields: { appId: string; requestId: string; connectId: string; code: string; result: string }): string {
  const data = Buffer.from(fields.appId + fields.requestId + fields.connectId + fields.code + fields.result, 'utf8');
  return sign('sha512', data, { key: privateKey, padding: constants.RSA_PKCS1_PADDING }).toString('base64');
}
