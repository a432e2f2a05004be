import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NewSigningKey } from '../../src/domain/signing/signing-key-store.js';
import { SigningKeysRepo } from '../../src/storage/control/signing-keys.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

/* The signing keys repository's contract, on this run's store (PGlite, or PostgreSQL in CI). */

const OPERATOR_ACTOR = { kind: 'operator', id: null } as const;
const key = (kid: string, signsFrom: Date): NewSigningKey => ({
  kid, alg: 'RS256', publicJwk: { kty: 'RSA', kid, n: 'AQAB', e: 'AQAB' }, privateKey: { masterKeyId: 'mk-1', sealed: Buffer.from(kid) }, signsFrom,
});

describe('signing keys repository (the storage contract, on this run\'s store)', () => {
  let keygate: TestKeygate;
  let repo: SigningKeysRepo;
  before(async () => {
    keygate = await startTestKeygate();
    repo = new SigningKeysRepo(keygate.stores.control.db);
  });
  after(() => keygate.close());
  const at = (seconds: number) => new Date(keygate.clock.now().getTime() + seconds * 1000);

  it('adds the first key once: a second first key, from another node, changes nothing', async () => {
    assert.equal(await repo.addFirst(key('first', at(0)), at(0), OPERATOR_ACTOR, [{ action: 'contract.first', appId: null }]), true);
    assert.equal(await repo.addFirst(key('second', at(0)), at(0), OPERATOR_ACTOR, [{ action: 'contract.first', appId: null }]), false);
    const keys = await repo.unretired(at(0));
    assert.deepEqual(keys.map((k) => k.kid), ['first']);
    assert.deepEqual(keys[0]!.publicJwk, { kty: 'RSA', kid: 'first', n: 'AQAB', e: 'AQAB' });
    assert.deepEqual(Buffer.from(keys[0]!.privateKey.sealed).toString(), 'first');
  });

  it('rotates in one step: the next key is added, the keys without a retirement get one, newest first', async () => {
    const retired = await repo.rotate(key('next', at(100)), at(200), OPERATOR_ACTOR, [{ action: 'contract.rotated', appId: null, detail: 'kid=next' }]);
    assert.deepEqual(retired, ['first']);
    assert.deepEqual((await repo.unretired(at(0))).map((k) => [k.kid, k.retiresAt?.getTime() ?? null]), [['next', null], ['first', at(200).getTime()]]);
    assert.deepEqual((await repo.unretired(at(201))).map((k) => k.kid), ['next']);
    const audit = await keygate.stores.control.db.selectFrom('audit_events').select('action').where('action', 'like', 'contract.%').orderBy('id').execute();
    assert.deepEqual(audit.map((r) => r.action), ['contract.first', 'contract.rotated']);
  });
});
