import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { signRedirect, type RedirectFields } from '../../src/protocols/ukey1/return-redirect.js';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { isValidRedirectSignature, secretKeyPem, Ukey1ServerClient } from '../support/ukey1-client.js';

/*
 * What the Secret Key is worth. It is the app's RSA *public* key, and every redirect back
 * to the app carries an RSA PKCS#1 v1.5 SHA-512 signature over values the person can
 * read (spec, "Gateway → return URL"). A signature s of an encoded message EM satisfies
 * s^e ≡ EM (mod n), so n divides s^e − EM, and two signatures give n as
 * gcd(s1^e − EM1, s2^e − EM2) up to small factors: anyone sent back twice, even `denied`,
 * holds the Secret Key. These tests pin that fact down, so that nothing in Keygate ever
 * treats a valid signature as proof that the caller is the app's server.
 */

const ORIGIN = 'https://portal.example.org';
const RETURN = 'https://portal.example.org/callback';

/** The DER prefix of a PKCS#1 v1.5 DigestInfo for SHA-512 (RFC 8017, section 9.2, note 1). */
const SHA512_DIGEST_INFO = Buffer.from('3051300d060960864801650304020305000440', 'hex');

const toBigInt = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);

/** EMSA-PKCS1-v1_5 of `message` for a modulus of `k` bytes: 00 01 FF…FF 00 DigestInfo H. */
function encodedMessage(message: string, k: number): bigint {
  const digestInfo = Buffer.concat([SHA512_DIGEST_INFO, createHash('sha512').update(message, 'utf8').digest()]);
  return toBigInt(Buffer.concat([Buffer.from([0x00, 0x01]), Buffer.alloc(k - digestInfo.length - 3, 0xff), Buffer.from([0x00]), digestInfo]));
}

const signatureBase = (f: RedirectFields) => f.appId + f.requestId + f.connectId + f.code + f.result;

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a < 0n ? -a : a;
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  base %= modulus;
  for (; exponent > 0n; exponent >>= 1n) {
    if (exponent & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
  }
  return result;
}

/** Divides out every prime factor below 2^16: what is left of the GCD is the modulus. */
function withoutSmallFactors(value: bigint): bigint {
  for (let p = 2n; p < 65536n && value > 1n; p += p === 2n ? 1n : 2n) {
    while (value % p === 0n) value /= p;
  }
  return value;
}

function publicNumbers(key: KeyObject): { n: bigint; e: bigint; k: number } {
  const jwk = key.export({ format: 'jwk' });
  const n = toBigInt(Buffer.from(jwk.n!, 'base64url'));
  return { n, e: toBigInt(Buffer.from(jwk.e!, 'base64url')), k: Buffer.from(jwk.n!, 'base64url').length };
}

describe('the Secret Key is derivable from the signatures Keygate publishes', () => {
  it('recovers the modulus from two redirect signatures by a GCD', () => {
    // e = 3 only to keep the test fast: s^e is then 3 × 1024 bits. The fact is the same
    // for Keygate's e = 65537 (s^e of 2048-bit s is about 134 Mbit; the GCD takes about
    // 40 s with GMP, far too long over BigInt for a test).
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024, publicExponent: 3 });
    const { n, e, k } = publicNumbers(publicKey);
    assert.equal(e, 3n);
    const redirects: RedirectFields[] = [
      { appId: '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f', requestId: 'r-1', connectId: 'c-1', code: '', result: 'denied' },
      { appId: '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f', requestId: 'r-2', connectId: 'c-2', code: '', result: 'denied' },
    ];
    const [d1, d2] = redirects.map((fields) => {
      const s = toBigInt(Buffer.from(signRedirect(privateKey, fields), 'base64'));
      return s ** e - encodedMessage(signatureBase(fields), k);
    });
    assert.equal(withoutSmallFactors(gcd(d1!, d2!)), n, 'the GCD is the modulus: the Secret Key, given e');
  });

  describe('for every app', () => {
    let keygate: TestKeygate;
    before(async () => {
      keygate = await startTestKeygate();
    });
    after(() => keygate.close());

    it("signs every redirect, a denied one too, with PKCS#1 v1.5 SHA-512 under the app's published Secret Key", async () => {
      const { appId, secretKey } = await keygate.services.apps.createApp({ name: 'Supplier portal', origins: [ORIGIN], returnUrls: [RETURN] });
      await keygate.services.apps.setPrivate(appId, true);
      const app = new Ukey1ServerClient(keygate.http, appId, secretKey, ORIGIN);
      const stranger = new GatewayVisitor(keygate.http);
      const { n, e, k } = publicNumbers(createPublicKey(secretKeyPem(secretKey)));

      // Someone not on the list, sent back twice.
      const redirects: URLSearchParams[] = [];
      for (const requestId of ['first', 'second']) {
        const opened = await app.connect({ request_id: requestId, scope: [], return_url: RETURN });
        const gateway = `/gateway/${connectIdOf(opened.body.gateway)}`;
        const entered = redirects.length === 0
          ? await stranger.signUp(gateway, { ...SIGN_UP_JANA, email: 'stranger@example.cz' }, keygate.outbox)
          : { location: gateway };
        const back = await stranger.get(entered.location!);
        assert.equal(back.status, 303, back.html);
        redirects.push(new URL(back.headers.location as string).searchParams);
      }

      for (const params of redirects) {
        assert.equal(params.get('_ukey1[result]'), 'denied');
        assert.ok(isValidRedirectSignature(secretKey, appId, params), 'it verifies under the Secret Key, as the SDKs check');
        const s = toBigInt(Buffer.from(params.get('_ukey1[signature]')!, 'base64'));
        const fields = { appId, requestId: params.get('_ukey1[request_id]')!, connectId: params.get('_ukey1[connect_id]')!, code: '', result: 'denied' };
        // n divides s^e − EM: the relation the GCD above feeds on.
        assert.equal(modPow(s, e, n), encodedMessage(signatureBase(fields), k));
      }
    });
  });
});
