import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { PersonRef } from '../../src/domain/zones/zone-registry.js';
import { SignInFlowsRepo } from '../../src/storage/control/sign-in-flows.js';
import { SessionsRepo } from '../../src/storage/zone/sessions.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

/*
 * The sign-in flow and session repositories' contract, on the store the tests run on:
 * in-memory PGlite by default, PostgreSQL with KEYGATE_TEST_DATABASE_URL (CI runs both).
 */

const hash = (value: string) => createHash('sha256').update(value).digest();
const minutesFrom = (date: Date, minutes: number) => new Date(date.getTime() + minutes * 60_000);

describe('sign-in flow and session repositories (the storage contract, on this run\'s store)', () => {
  let keygate: TestKeygate;
  let person: PersonRef;
  let flows: SignInFlowsRepo;
  let sessions: SessionsRepo;
  before(async () => {
    keygate = await startTestKeygate();
    const signedUp = await keygate.services.people.signUp({
      email: 'sessions.contract@example.cz', password: 'long enough password', firstname: 'Petr', surname: 'Svoboda', country: 'CZ', language: 'cs',
    }, {});
    assert.ok(signedUp.ok);
    person = signedUp.person;
    flows = new SignInFlowsRepo(keygate.stores.control.db);
    sessions = new SessionsRepo(keygate.stores.zones[person.zone].db);
  });
  after(() => keygate.close());

  const now = () => keygate.clock.now();

  it('keeps a flow until it expires, records its progress, and forgets it when deleted', async () => {
    const idHash = hash(randomUUID());
    await flows.insert({ idHash, returnTo: '/gateway/x', person: null, methods: [], step: 'identify', expiresAt: minutesFrom(now(), 10) });
    assert.deepEqual({ ...(await flows.find(idHash, now()))!, idHash: undefined, expiresAt: undefined }, {
      idHash: undefined, returnTo: '/gateway/x', person: null, methods: [], step: 'identify', expiresAt: undefined,
    });
    await flows.update(idHash, { person, methods: ['password'], step: 'second_factor' });
    const progressed = await flows.find(idHash, now());
    assert.deepEqual([progressed?.person, progressed?.methods, progressed?.step], [person, ['password'], 'second_factor']);
    assert.equal(await flows.find(idHash, minutesFrom(now(), 11)), undefined, 'expired');
    assert.equal(await flows.find(hash(randomUUID()), now()), undefined);
    await flows.delete(idHash);
    assert.equal(await flows.find(idHash, now()), undefined);
  });

  it('resolves a live session, forgets an idle or expired one, and ends it with the records its caller gives', async () => {
    const idHash = hash(randomUUID());
    const authTime = now();
    await sessions.insert({
      idHash, personId: person.id, lastSeenAt: now(), expiresAt: minutesFrom(now(), 60), sealedDevice: Buffer.from('device'), sealedNetwork: null,
      authTime, amr: ['pwd', 'otp', 'mfa'],
    });
    assert.deepEqual(await sessions.authentication(idHash, now()), { authTime, amr: ['pwd', 'otp', 'mfa'] });
    assert.equal(await sessions.authentication(idHash, minutesFrom(now(), 61)), undefined);
    assert.equal(await sessions.touch(idHash, now(), minutesFrom(now(), -30)), person.id);
    assert.equal(await sessions.touch(idHash, minutesFrom(now(), 1), minutesFrom(now(), 0.5)), undefined, 'idle since before the bound');
    assert.equal(await sessions.touch(idHash, minutesFrom(now(), 61), minutesFrom(now(), -30)), undefined, 'expired');

    const records = () => keygate.stores.zones[person.zone].db.selectFrom('audit_events').select('action')
      .where('person_id', '=', person.id).where('action', '=', 'contract.session_ended').execute();
    assert.equal(await sessions.end(idHash, (personId) => ({ actor: { kind: 'person', id: personId }, events: [{ action: 'contract.session_ended', personId }] })), true);
    assert.equal((await records()).length, 1);
    assert.equal(await sessions.end(idHash, () => { throw new Error('no session, no records'); }), false);
    assert.equal(await sessions.authentication(idHash, now()), undefined);
  });
});
