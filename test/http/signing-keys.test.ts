import assert from 'node:assert/strict';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify, SignJWT, type JSONWebKeySet } from 'jose';
import { KeyRing } from '../../src/crypto/key-ring.js';
import { SigningKeys } from '../../src/domain/signing/signing-keys.js';
import { SigningKeysRepo } from '../../src/storage/control/signing-keys.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

describe("Keygate's signing keys", () => {
  let keygate: TestKeygate;

  before(async () => {
    keygate = await startTestKeygate();
  });
  after(() => keygate.close());

  const keySet = async () => {
    const response = await keygate.http.inject({ method: 'GET', url: '/oidc/jwks' });
    assert.equal(response.statusCode, 200);
    return { response, body: response.json() as JSONWebKeySet };
  };
  const signed = async () => {
    const signer = await keygate.services.signingKeys.signer();
    const token = await new SignJWT({ probe: true }).setProtectedHeader({ alg: signer.alg, kid: signer.kid })
      .setIssuedAt().setExpirationTime('2h').sign(signer.privateKey);
    return { kid: signer.kid, token };
  };

  it('publishes one RS256 public key, named by its thumbprint, that a cache may keep for ten minutes', async () => {
    const { response, body } = await keySet();
    assert.equal(response.headers['cache-control'], 'public, max-age=600');
    assert.match(String(response.headers['content-type']), /^application\/jwk-set\+json/);
    assert.equal(body.keys.length, 1);
    const [key] = body.keys;
    assert.equal(key!.kty, 'RSA');
    assert.equal(key!.alg, 'RS256');
    assert.equal(key!.use, 'sig');
    assert.equal(key!.kid, await calculateJwkThumbprint(key!, 'sha256'));
    for (const member of PRIVATE_MEMBERS) assert.equal(member in key!, false, `the key set leaks ${member}`);
  });

  it('signs with the published key: a token verifies against the key set', async () => {
    const { kid, token } = await signed();
    const { body } = await keySet();
    const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(body));
    assert.equal(protectedHeader.kid, kid);
  });

  it('keeps the private half sealed under the control master key, bound to its row', async () => {
    const rows = await keygate.stores.control.db.selectFrom('signing_keys').selectAll().execute();
    assert.equal(rows.length, 1);
    assert.throws(() => createPrivateKey({ key: Buffer.from(rows[0]!.private_key_ct), format: 'der', type: 'pkcs8' }));
  });

  it('publishes the next key before it signs, and the old one until its last token has expired', async () => {
    const first = await signed();
    const rotation = await keygate.services.signingKeys.rotate();
    assert.deepEqual(rotation.retiring.map((k) => k.kid), [first.kid]);
    assert.notEqual(rotation.next.kid, first.kid);

    // Published at once; the old key still signs.
    assert.deepEqual((await keySet()).body.keys.map((k) => k.kid).sort(), [first.kid, rotation.next.kid].sort());
    assert.equal((await signed()).kid, first.kid);

    // Once every cached key set can hold it, the new key signs; a token of the old one still verifies.
    keygate.clock.advance((rotation.next.signsFrom.getTime() - keygate.clock.now().getTime()) / 1000 + 1);
    assert.equal((await signed()).kid, rotation.next.kid);
    await jwtVerify(first.token, createLocalJWKSet((await keySet()).body));

    // After the longest-lived token of the old key has expired, it leaves the key set.
    keygate.clock.advance((rotation.retiring[0]!.retiresAt.getTime() - keygate.clock.now().getTime()) / 1000 + 61);
    assert.deepEqual((await keySet()).body.keys.map((k) => k.kid), [rotation.next.kid]);
    const audit = await keygate.stores.control.db.selectFrom('audit_events').select(['action', 'detail'])
      .where('action', 'like', 'signing_key.%').orderBy('id').execute();
    assert.deepEqual(audit.map((r) => r.action), ['signing_key.created', 'signing_key.rotated']);
    assert.equal(audit[1]!.detail, `kid=${rotation.next.kid}`);
  });

  it('makes one first key when several nodes need one at once, and opens it only from its own row', async () => {
    const fresh = await startTestKeygate();
    try {
      const ring = new KeyRing({ id: 'test', key: randomBytes(32) });
      const node = () => new SigningKeys({ store: new SigningKeysRepo(fresh.stores.control.db), ring, clock: fresh.clock, longestTokenSeconds: 3600 });
      const signers = await Promise.all([node(), node(), node()].map((n) => n.signer()));
      assert.equal(new Set(signers.map((s) => s.kid)).size, 1);
      // Nodes whose clocks differ (or that asked at different moments) sign with the same first key.
      const store = new SigningKeysRepo(fresh.stores.control.db);
      const behind = new SigningKeys({ store, ring, clock: { now: () => new Date(fresh.clock.now().getTime() - 2_000) }, longestTokenSeconds: 3600 });
      assert.equal((await behind.signer()).kid, signers[0]!.kid, 'a node two seconds behind the key it did not make');
      const rows = await fresh.stores.control.db.selectFrom('signing_keys').selectAll().execute();
      assert.equal(rows.length, 1);

      // The sealed private half copied to another row does not open there.
      const [row] = rows;
      await fresh.stores.control.db.updateTable('signing_keys').set({ retires_at: new Date(1) }).where('kid', '=', row!.kid).execute();
      await fresh.stores.control.db.insertInto('signing_keys').values({
        kid: 'copied', alg: 'RS256', public_jwk: JSON.stringify({ ...row!.public_jwk, kid: 'copied' }), private_key_ct: row!.private_key_ct,
        private_key_master_key_id: row!.private_key_master_key_id, signs_from: new Date(0),
      }).execute();
      await assert.rejects(() => node().signer());
    } finally {
      await fresh.close();
    }
  });
});
