import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { appKeyId, type App } from '../../src/domain/apps/app.js';
import { KeygateError } from '../../src/domain/errors.js';
import type { IssuedTokens } from '../../src/domain/tokens/token-service.js';
import { formatExpiration, Ukey1AccessTokens } from '../../src/protocols/ukey1/access-token.js';

const vectors = JSON.parse(readFileSync(new URL('../fixtures/ukey1-v2-vectors.json', import.meta.url), 'utf8'));
const privateKey = createPrivateKey(vectors.privateKeyPkcs8Pem);
const publicKey = createPublicKey(privateKey);
const key = { id: appKeyId(vectors.secretKey), secretKey: vectors.secretKey, privateKey, publicKey, retiresAt: null };
// Only what the token format reads of an app.
const app = { id: vectors.appId, keys: [key], secretKey: key.secretKey, privateKey, publicKey } as unknown as App;

const issuedAt = new Date('2030-01-02T03:04:05.678Z');
const issued: IssuedTokens = {
  jti: '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b', zone: 'eu', userId: '11111111-2222-4333-8444-555555555555',
  scope: ['firstname', 'email'], issuedAt, expiresAt: new Date(issuedAt.getTime() + 10 * 60_000), refreshToken: 'eu.unused',
  accessSecret: 'unused', authentication: { authTime: null, amr: [], sid: null },
};
const tokens = (now: Date) => new Ukey1AccessTokens({ issuer: 'https://keygate.example', clock: { now: () => now } });

describe('Ukey1 access token (spec, "POST /auth/v2/token")', () => {
  it('is an RS512 JWT the Secret Key verifies, with user.id, scope and zone', async () => {
    const jwt = await tokens(issuedAt).sign(app, issued);
    assert.deepEqual(decodeProtectedHeader(jwt), { alg: 'RS512', typ: 'JWT', kid: key.id });
    const { payload } = await jwtVerify(jwt, publicKey, { algorithms: ['RS512'], audience: vectors.appId, issuer: 'https://keygate.example', currentDate: issuedAt });
    assert.deepEqual(payload, {
      user: { id: issued.userId }, scope: ['firstname', 'email'], zone: 'eu',
      iss: 'https://keygate.example', aud: vectors.appId, sub: issued.userId, jti: issued.jti,
      iat: 1893553445, nbf: 1893553445, exp: 1893553445 + 600,
    });
  });

  it('names the record it was issued for', async () => {
    const jwt = await tokens(issuedAt).sign(app, issued);
    assert.deepEqual(await tokens(new Date(issuedAt.getTime() + 60_000)).verify(app, jwt), { zone: 'eu', jti: issued.jti });
  });

  it('refuses an expired token, or one for another app, as invalid_token', async () => {
    const jwt = await tokens(issuedAt).sign(app, issued);
    const refused = (error: unknown) => error instanceof KeygateError && error.code === 'invalid_token';
    await assert.rejects(tokens(new Date(issuedAt.getTime() + 11 * 60_000)).verify(app, jwt), refused);
    await assert.rejects(tokens(issuedAt).verify({ ...app, id: '00000000-0000-4000-8000-000000000000' } as App, jwt), refused);
    await assert.rejects(tokens(issuedAt).verify(app, `${jwt}x`), refused);
  });

  it('gives the expiration in RFC 3339 UTC, to the second', () => {
    assert.equal(formatExpiration(issued.expiresAt), '2030-01-02T03:14:05Z');
  });
});
