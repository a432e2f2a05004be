import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { accessTokenHash, acrOf, ID_TOKEN_SECONDS, parseAccessToken, signIdToken } from '../../src/protocols/oidc/tokens.js';
import { accessTokenId } from '../../src/domain/tokens/token-service.js';
import { oidcCode, parseOidcCode } from '../../src/protocols/oidc/authorization-response.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signer = { kid: 'k1', alg: 'RS256' as const, privateKey };

describe('OpenID Connect tokens', () => {
  it('states in the ID token how and when the person signed in, and binds it to its access token', async () => {
    const issuedAt = new Date('2031-05-06T07:08:09.500Z');
    const jwt = await signIdToken(signer, {
      issuer: 'https://keygate.example', clientId: 'client-1', subject: 'user-1', nonce: 'n-1', authTime: new Date('2031-05-06T07:00:00Z'),
      amr: ['pwd', 'otp', 'mfa'], sid: 'sid-1', accessToken: 'eu.token', issuedAt,
    });
    assert.deepEqual(decodeProtectedHeader(jwt), { alg: 'RS256', typ: 'JWT', kid: 'k1' });
    const { payload } = await jwtVerify(jwt, publicKey, { issuer: 'https://keygate.example', audience: 'client-1', currentDate: issuedAt });
    assert.equal(payload.sub, 'user-1');
    assert.equal(payload.nonce, 'n-1');
    assert.equal(payload.auth_time, Date.parse('2031-05-06T07:00:00Z') / 1000);
    assert.deepEqual(payload.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(payload.acr, '2', 'two factors of different kinds');
    assert.equal(payload.sid, 'sid-1');
    assert.equal(payload.exp! - payload.iat!, ID_TOKEN_SECONDS);
    // OpenID Connect Core §3.1.3.6: base64url of the left half of the SHA-256 of the token's ASCII.
    assert.equal(payload.at_hash, createHash('sha256').update('eu.token').digest().subarray(0, 16).toString('base64url'));
    assert.equal(accessTokenHash('eu.token'), payload.at_hash);
  });

  it('leaves out what is not known rather than guessing', async () => {
    const jwt = await signIdToken(signer, {
      issuer: 'https://keygate.example', clientId: 'c', subject: 's', nonce: null, authTime: null, amr: [], sid: null, accessToken: 't', issuedAt: new Date(),
    });
    const { payload } = await jwtVerify(jwt, publicKey);
    for (const claim of ['nonce', 'auth_time', 'amr', 'acr', 'sid']) assert.equal(payload[claim], undefined, claim);
    assert.equal(acrOf(['pwd']), '1');
    assert.equal(acrOf(['otp']), '1');
  });

  it('names an access token record by its secret, and reads back only well-formed tokens and codes', () => {
    const secret = 'A'.repeat(43);
    const clientId = '11111111-2222-4333-8444-555555555555';
    assert.deepEqual(parseAccessToken(`eu.${clientId}.${secret}`), { ref: { zone: 'eu', jti: accessTokenId(secret) }, clientId });
    assert.match(accessTokenId(secret), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    for (const bad of [`xx.${clientId}.${secret}`, `eu.${clientId}.${secret}x`, `eu.not-a-uuid.${secret}`, `eu.${secret}`, '']) assert.equal(parseAccessToken(bad), null, bad);
    const code = oidcCode(clientId, 'B'.repeat(43));
    assert.deepEqual(parseOidcCode(code), { connectId: clientId, code: 'B'.repeat(43) });
    assert.equal(parseOidcCode(`${clientId}.short`), null);
  });
});
