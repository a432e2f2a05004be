import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, type JWK } from 'jose';

const generateKeyPairAsync = promisify(generateKeyPair);

/** An RS256 key pair of Keygate's own: its public JWK (with `kid`) and its private half as PKCS#8 DER. */
export interface SigningKeyPair {
  readonly kid: string;
  readonly publicJwk: JWK;
  readonly privateKeyDer: Buffer;
}

/** RSA 2048 for RS256, which every OpenID Connect relying party must accept. Its `kid` is its RFC 7638 thumbprint. */
export async function generateSigningKeyPair(): Promise<SigningKeyPair> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const { kty, n, e } = publicKey.export({ format: 'jwk' });
  const kid = await calculateJwkThumbprint({ kty: kty!, n: n!, e: e! }, 'sha256');
  return {
    kid,
    publicJwk: { kty, n, e, kid, alg: 'RS256', use: 'sig' },
    privateKeyDer: privateKey.export({ format: 'der', type: 'pkcs8' }),
  };
}

export const signingKeyFromDer = (der: Uint8Array): KeyObject =>
  createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
