import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { MOVED_OUT_ACTION, movedOutPurpose } from '../../src/domain/audit/chain.js';
import { ZoneMoveError } from '../../src/domain/zones/zone-move-store.js';
import { ZoneMoveJournalRepo } from '../../src/storage/control/zone-move-journal.js';
import { ZoneMovesRepo } from '../../src/storage/zone/zone-moves.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

/*
 * The zone move's repositories, on the store the tests run on: in-memory PGlite by
 * default, PostgreSQL with KEYGATE_TEST_DATABASE_URL (CI runs both).
 */

describe('zone move repositories (the storage contract, on this run\'s store)', () => {
  let keygate: TestKeygate;
  before(async () => {
    keygate = await startTestKeygate();
  });
  after(() => keygate.close());

  it('carries every row and record of a person to another zone, checks them, and leaves nothing behind but redacted records', async () => {
    const signedUp = await keygate.services.people.signUp({
      email: 'mover.contract@example.cz', password: 'long enough password', firstname: 'Jan', surname: 'Novák', country: 'CZ', language: 'cs',
    }, {});
    assert.ok(signedUp.ok);
    const personId = signedUp.person.id;
    const eu = new ZoneMovesRepo(keygate.stores.zones.eu.db);
    const us = new ZoneMovesRepo(keygate.stores.zones.us.db);
    assert.deepEqual([await eu.holds(personId), await us.holds(personId)], [true, false]);

    await eu.asSource(async (source) => {
      const snapshot = await source.readPerson(personId);
      assert.ok(snapshot);
      assert.deepEqual(snapshot.audit.map((r) => r.action), ['person.signed_up']);
      assert.ok(snapshot.indexedValues.email_ct, 'with the sealed values its blind indexes come from');
      assert.equal(snapshot.indexedValues.nickname_ct, null);
      await us.asDestination(async (destination) => {
        await destination.arrive(snapshot, { from: 'eu', indexes: { email_index: Buffer.alloc(32, 1), nickname_index: null }, sealedCountry: Buffer.from('US'), key: snapshot.key });
        await destination.copyAudit('eu', snapshot.audit);
        await destination.verifyArrival(snapshot, 'eu');
        assert.deepEqual([...await destination.copiedFrom('eu', personId)], snapshot.audit.map((r) => r.id));
      });
      // The record of a move names the records it redacts by their digest, as the chain's verifier requires.
      await source.leave(personId, { actor: { kind: 'system', id: null }, events: [{ action: MOVED_OUT_ACTION, personId: null, purpose: movedOutPurpose('us', snapshot.audit) }] }, snapshot.audit);
    });
    assert.deepEqual([await eu.holds(personId), await us.holds(personId)], [false, true]);
    const left = await keygate.stores.zones.eu.db.selectFrom('audit_events').select(['action', 'person_id']).where('action', 'in', ['redacted', MOVED_OUT_ACTION]).execute();
    assert.deepEqual(left.map((r) => [r.action, r.person_id]).sort(), [[MOVED_OUT_ACTION, null], ['redacted', null]].sort());
    assert.equal((await keygate.audit.verify('eu')).ok, true, 'the old zone\'s chain still verifies');
    assert.equal((await keygate.audit.verify('us')).ok, true);
  });

  it('refuses an arrival whose copy differs from what was read', async () => {
    const signedUp = await keygate.services.people.signUp({
      email: 'mover.partial@example.cz', password: 'long enough password', firstname: 'Eva', surname: 'Malá', country: 'CZ', language: 'cs',
    }, {});
    assert.ok(signedUp.ok);
    const eu = new ZoneMovesRepo(keygate.stores.zones.eu.db);
    const us = new ZoneMovesRepo(keygate.stores.zones.us.db);
    await eu.asSource(async (source) => {
      const snapshot = (await source.readPerson(signedUp.person.id))!;
      await assert.rejects(us.asDestination(async (destination) => {
        await destination.arrive(snapshot, { from: 'eu', indexes: { email_index: Buffer.alloc(32, 2), nickname_index: null }, sealedCountry: Buffer.from('US'), key: snapshot.key });
        await destination.verifyArrival(snapshot, 'eu');
      }), ZoneMoveError, 'its audit records were not copied');
    });
    assert.equal(await us.holds(signedUp.person.id), false, 'nothing of it committed');
  });

  it('journals a move until it is closed', async () => {
    const journal = new ZoneMoveJournalRepo(keygate.stores.control.db);
    const id = randomUUID();
    const startedAt = new Date(keygate.clock.now().getTime() - 120_000);
    await journal.open({ id, personId: randomUUID(), from: 'eu', to: 'us', startedAt });
    assert.ok((await journal.openBefore(keygate.clock.now())).some((m) => m.id === id));
    assert.ok(!(await journal.openBefore(startedAt)).some((m) => m.id === id), 'only moves started before the bound');
    await journal.close(id, 'abandoned', keygate.clock.now());
    assert.ok(!(await journal.openBefore(keygate.clock.now())).some((m) => m.id === id));
  });
});
