import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isValidRequestSignature, requestDigest } from '../../src/protocols/ukey1/request-signature.js';
import { signRedirect } from '../../src/protocols/ukey1/return-redirect.js';
import { isValidRedirectSignature, signRequest } from '../support/ukey1-client.js';

const vectors = JSON.parse(readFileSync(new URL('../fixtures/ukey1-v2-vectors.json', import.meta.url), 'utf8'));
const privateKey = createPrivateKey(vectors.privateKeyPkcs8Pem);

const digestOf = (v: { method: string; path: string; rawBody: string | null; accessToken: string | null }) => requestDigest({
  appId: vectors.appId,
  method: v.method,
  path: v.path,
  rawBody: v.rawBody === null ? undefined : Buffer.from(v.rawBody, 'utf8'),
  accessToken: v.accessToken ?? undefined,
});

describe('request signature (spec, "Request signature")', () => {
  for (const vector of vectors.requestSignatures) {
    it(`accepts the published SDK's signature of ${vector.method} ${vector.path}`, () => {
      assert.equal(digestOf(vector).toString('ascii'), vector.sha512Hex);
      assert.ok(isValidRequestSignature(privateKey, vector.xUkey1SignatureHeader, digestOf(vector)));
    });
  }

  const connect = vectors.requestSignatures[0];

  it('refuses a signature made with another key', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const forged = signRequest(other.publicKey.toString('base64'), { appId: vectors.appId, method: 'POST', path: connect.path, rawBody: connect.rawBody });
    assert.equal(isValidRequestSignature(privateKey, forged, digestOf(connect)), false);
  });

  it('refuses the signature when the body changed by one byte', () => {
    const changed = { ...connect, rawBody: connect.rawBody.replace('r-123', 'r-124') };
    assert.equal(isValidRequestSignature(privateKey, connect.xUkey1SignatureHeader, digestOf(changed)), false);
  });

  it('refuses the signature of one endpoint on another', () => {
    const elsewhere = { ...connect, path: '/auth/v2/token' };
    assert.equal(isValidRequestSignature(privateKey, connect.xUkey1SignatureHeader, digestOf(elsewhere)), false);
  });

  it('refuses garbage without throwing', () => {
    for (const junk of ['', '%', '%E0%A4%A', 'not base64!', 'AAAA', 'x'.repeat(5000)]) {
      assert.equal(isValidRequestSignature(privateKey, junk, digestOf(connect)), false);
    }
  });

  it('round-trips with the spec-written test client', () => {
    const header = signRequest(vectors.secretKey, { appId: vectors.appId, method: 'GET', path: '/auth/v2/me', accessToken: 'abc' });
    assert.ok(isValidRequestSignature(privateKey, header, requestDigest({ appId: vectors.appId, method: 'GET', path: '/auth/v2/me', accessToken: 'abc' })));
  });
});

describe('redirect signature (spec, "Gateway → return URL")', () => {
  for (const vector of vectors.redirectSignatures) {
    it(`reproduces the signature the SDK accepted for result=${vector.result}`, () => {
      const signature = signRedirect(privateKey, { appId: vectors.appId, requestId: vector.requestId, connectId: vector.connectId, code: vector.code, result: vector.result });
      assert.equal(signature, vector.signatureBase64);
      const params = new URLSearchParams({
        '_ukey1[request_id]': vector.requestId,
        '_ukey1[connect_id]': vector.connectId,
        '_ukey1[code]': vector.code,
        '_ukey1[result]': vector.result,
        '_ukey1[signature]': signature,
      });
      assert.ok(isValidRedirectSignature(vectors.secretKey, vectors.appId, params));
    });
  }
});
