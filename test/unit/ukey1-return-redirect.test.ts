import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { App } from '../../src/domain/apps/app.js';
import type { ConnectRequest } from '../../src/domain/connect/connect-service.js';
import { buildReturnRedirect } from '../../src/protocols/ukey1/return-redirect.js';
import { isValidRedirectSignature } from '../support/ukey1-client.js';

const vectors = JSON.parse(readFileSync(new URL('../fixtures/ukey1-v2-vectors.json', import.meta.url), 'utf8'));
const privateKey = createPrivateKey(vectors.privateKeyPkcs8Pem);
const key = { id: 'fixed', secretKey: vectors.secretKey, privateKey, publicKey: createPublicKey(privateKey), retiresAt: null };
// Only what the redirect reads of an app and of its request.
const app = { id: vectors.appId, keys: [key] } as unknown as App;
const connect = (returnUrl: string) => ({
  id: '0b6e1f1c-2f7a-4d39-8f3e-1d2c3b4a5e6f', appId: vectors.appId, requestId: 'r-123', returnUrl, keyId: null,
}) as unknown as ConnectRequest;

describe('return redirect (spec, "Gateway → return URL")', () => {
  it('signs an authorized decision so that the Secret Key verifies it', () => {
    const url = new URL(buildReturnRedirect(app, connect('https://app.example/back'), { result: 'authorized', code: 'Qm9ndXMtY29kZS0xMjM0NTY3ODkw' }));
    assert.equal(url.searchParams.get('_ukey1[result]'), 'authorized');
    assert.equal(url.searchParams.get('_ukey1[code]'), 'Qm9ndXMtY29kZS0xMjM0NTY3ODkw');
    assert.equal(url.searchParams.get('_ukey1[signature]'), vectors.redirectSignatures[0].signatureBase64);
    assert.ok(isValidRedirectSignature(vectors.secretKey, vectors.appId, url.searchParams));
  });

  for (const result of ['canceled', 'denied'] as const) {
    it(`sends ${result} without a code, signed`, () => {
      const url = new URL(buildReturnRedirect(app, connect('https://app.example/back'), { result }));
      assert.equal(url.searchParams.get('_ukey1[code]'), '');
      assert.equal(url.searchParams.get('_ukey1[result]'), result);
      assert.ok(isValidRedirectSignature(vectors.secretKey, vectors.appId, url.searchParams));
    });
  }

  it("keeps the return URL's own query and fragment, adding the parameters before the fragment", () => {
    const location = buildReturnRedirect(app, connect('https://app.example/back?tab=2#done'), { result: 'canceled' });
    assert.match(location, /^https:\/\/app\.example\/back\?tab=2&_ukey1%5Brequest_id%5D=r-123&.*#done$/);
    assert.doesNotMatch(location.split('_ukey1%5Bsignature%5D=')[1]!, /[+/=]/);
  });
});
