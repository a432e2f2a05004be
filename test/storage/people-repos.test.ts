import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AlreadyTaken } from '../../src/domain/people/person-store.js';
import { ActivityRepo } from '../../src/storage/zone/activity.js';
import { ChallengesRepo, PeopleRepo } from '../../src/storage/zone/people.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

/*
 * The people and challenge repositories' contract, on the store the tests run on:
 * in-memory PGlite by default, PostgreSQL with KEYGATE_TEST_DATABASE_URL (CI runs both).
 */

const hash = (value: string) => createHash('sha256').update(value).digest();
const bytes = (text: string) => Buffer.from(text);
const minutesFrom = (date: Date, minutes: number) => new Date(date.getTime() + minutes * 60_000);

describe('people and challenge repositories (the storage contract, on this run\'s store)', () => {
  let keygate: TestKeygate;
  let people: PeopleRepo;
  let challenges: ChallengesRepo;
  before(async () => {
    keygate = await startTestKeygate();
    people = new PeopleRepo(keygate.stores.zones.eu.db);
    challenges = new ChallengesRepo(keygate.stores.zones.eu.db);
  });
  after(() => keygate.close());

  const now = () => keygate.clock.now();
  const sealedFields = { email_ct: bytes('e'), firstname_ct: bytes('f'), surname_ct: bytes('s'), country_ct: bytes('c'), language_ct: bytes('l') };
  async function newPerson(emailIndex = hash(randomUUID())) {
    const id = randomUUID();
    await people.transaction((writes) => writes.insertPerson(
      { id, emailIndex, sealed: sealedFields, passwordHash: 'argon2-hash', emailVerifiedAt: null },
      { masterKeyId: 'mk-1', wrappedKey: bytes('wrapped') },
    ));
    return { id, emailIndex };
  }

  it('keeps a person sealed, with their data key, found by the blind index of their email', async () => {
    const { id, emailIndex } = await newPerson();
    assert.deepEqual(await people.credentialsByIndex('email_index', emailIndex), { personId: id, passwordHash: 'argon2-hash' });
    assert.equal(await people.credentialsByIndex('email_index', hash('nobody')), undefined);
    assert.equal(await people.passwordHash(id), 'argon2-hash');
    assert.deepEqual(await people.accountState(id), { emailVerified: false, secondFactor: false });
    const key = await people.wrappedDataKey(id);
    assert.deepEqual([key?.masterKeyId, Buffer.from(key!.wrappedKey).toString()], ['mk-1', 'wrapped'], 'Bytes: a Buffer from pg, a Uint8Array from PGlite');
    const sealed = await people.transaction((writes) => writes.sealedPerson(id));
    assert.deepEqual([sealed?.id, Buffer.from(sealed!.firstname_ct!).toString(), sealed?.image_ct, sealed?.master_key_id], [id, 'f', null, 'mk-1']);
    assert.equal(await people.transaction((writes) => writes.sealedColumn(id, 'nickname_ct')), undefined, 'no nickname yet');
  });

  it('refuses an email or nickname index another person holds, and rolls the whole change back', async () => {
    const first = await newPerson();
    await assert.rejects(newPerson(first.emailIndex), AlreadyTaken);
    const second = await newPerson();
    await people.transaction((writes) => writes.setNickname(first.id, { index: hash('nick'), sealed: bytes('nick') }));
    assert.equal((await people.credentialsByIndex('nickname_index', hash('nick')))?.personId, first.id);
    await assert.rejects(people.transaction(async (writes) => {
      await writes.markEmailVerified(second.id, now());
      await writes.setNickname(second.id, { index: hash('nick'), sealed: bytes('nick') });
    }), AlreadyTaken);
    assert.deepEqual(await people.accountState(second.id), { emailVerified: false, secondFactor: false }, 'nothing of it stays');
    await people.transaction((writes) => writes.setNickname(first.id, null));
    assert.equal(await people.credentialsByIndex('nickname_index', hash('nick')), undefined);
  });

  it('changes the password and signs out everywhere; marks an address confirmed once', async () => {
    const { id } = await newPerson();
    const sessions = keygate.stores.zones.eu.db;
    await sessions.insertInto('sessions').values({ id_hash: hash(randomUUID()), person_id: id, last_seen_at: now(), expires_at: minutesFrom(now(), 60) }).execute();
    await people.transaction(async (writes) => {
      await writes.setPassword(id, 'new-hash', now());
      await writes.endSessions(id);
      await writes.markEmailVerified(id, now());
    });
    assert.equal(await people.passwordHash(id), 'new-hash');
    assert.equal((await sessions.selectFrom('sessions').select('person_id').where('person_id', '=', id).execute()).length, 0);
    assert.deepEqual(await people.accountState(id), { emailVerified: true, secondFactor: false });
  });

  it('remembers each browser of a person once', async () => {
    const { id } = await newPerson();
    assert.equal(await people.rememberDevice(id, hash('browser-1')), true);
    assert.equal(await people.rememberDevice(id, hash('browser-1')), false);
    assert.equal(await people.rememberDevice(id, hash('browser-2')), true);
    assert.equal(await people.knownDevices(id, 2), 2);
    assert.equal(await people.usesApp(id, randomUUID()), false);
  });

  it('keeps one challenge per purpose, used once, burnt at its limit of wrong attempts', async () => {
    const { id } = await newPerson();
    const challenge = (token: string) => ({ tokenHash: hash(token), personId: id, purpose: 'sign_in_code' as const, codeHash: hash(`code-${token}`), detail: null, expiresAt: minutesFrom(now(), 10) });
    await people.transaction((writes) => writes.replaceChallenge(challenge('first')));
    await people.transaction((writes) => writes.replaceChallenge(challenge('second')));
    assert.equal(await challenges.find(hash('first'), 'sign_in_code', now()), undefined, 'replaced');
    assert.equal((await challenges.find(hash('second'), 'sign_in_code', now()))?.attempts, 0);
    assert.equal(await challenges.find(hash('second'), 'reset', now()), undefined, 'only for its purpose');
    assert.equal(await challenges.find(hash('second'), 'sign_in_code', minutesFrom(now(), 11)), undefined, 'only until it expires');
    await challenges.countFailure(hash('second'), 2);
    assert.equal((await challenges.find(hash('second'), 'sign_in_code', now()))?.attempts, 1);
    await challenges.countFailure(hash('second'), 2);
    assert.equal(await challenges.find(hash('second'), 'sign_in_code', now()), undefined, 'burnt');

    await people.transaction((writes) => writes.replaceChallenge(challenge('third')));
    assert.equal(await challenges.use(hash('third')), true);
    assert.equal(await challenges.use(hash('third')), false, 'used once');
    await people.transaction((writes) => writes.replaceChallenge({ ...challenge('fourth'), purpose: 'reset' }));
    await people.transaction((writes) => writes.dropChallenges(id, ['reset', 'sign_in_code']));
    assert.equal(await challenges.find(hash('fourth'), 'reset', now()), undefined);
  });

  it('keeps a second factor with its last step and recovery codes, and removes them together', async () => {
    const { id } = await newPerson();
    assert.equal(await people.transaction((writes) => writes.lockSecondFactor(id)), undefined, 'none yet');
    await people.transaction(async (writes) => {
      await writes.setSecondFactor(id, { sealedSecret: bytes('secret'), lastStep: 7 });
      await writes.replaceRecoveryCodes(id, [hash('r1'), hash('r2'), hash('r3')]);
    });
    assert.deepEqual(await people.accountState(id), { emailVerified: false, secondFactor: true });
    await people.transaction(async (writes) => {
      const factor = await writes.lockSecondFactor(id);
      assert.deepEqual([Buffer.from(factor!.sealedSecret).toString(), factor?.lastStep, factor?.key.masterKeyId], ['secret', 7, 'mk-1']);
      await writes.setSecondFactorStep(id, 8);
      await writes.useRecoveryCode(id, hash('r2'));
      assert.deepEqual((await writes.recoveryCodes(id)).map((r) => [Buffer.from(r.hash).toString('hex'), r.keyZone]).sort(),
        [[hash('r1').toString('hex'), null], [hash('r3').toString('hex'), null]].sort());
    });
    assert.equal((await people.transaction((writes) => writes.lockSecondFactor(id)))?.lastStep, 8);
    assert.equal(await people.recoveryCodeCount(id), 2);
    await people.transaction(async (writes) => {
      await writes.setSecondFactor(id, null);
      await writes.replaceRecoveryCodes(id, []);
    });
    assert.deepEqual(await people.accountState(id), { emailVerified: false, secondFactor: false });
    assert.equal(await people.recoveryCodeCount(id), 0);
  });

  it('hands a picture only to an app whose grant includes it', async () => {
    const { id } = await newPerson();
    const appId = randomUUID();
    const db = keygate.stores.zones.eu.db;
    await people.transaction((writes) => writes.setImage(id, bytes('picture')));
    assert.equal(await people.transaction((writes) => writes.imageGrantedTo(id, appId)), undefined, 'no grant');
    await db.insertInto('grants').values({ person_id: id, app_id: appId, fields: ['firstname'], granted_at: now() }).execute();
    assert.equal(await people.transaction((writes) => writes.imageGrantedTo(id, appId)), undefined, 'a grant without the picture');
    await db.updateTable('grants').set({ fields: ['firstname', 'image'] }).where('person_id', '=', id).execute();
    const granted = await people.transaction((writes) => writes.imageGrantedTo(id, appId));
    assert.equal(Buffer.from(granted!.sealed).toString(), 'picture');
    assert.equal(Buffer.from((await people.transaction((writes) => writes.sealedColumn(id, 'image_ct')))!.sealed).toString(), 'picture');
    await people.transaction((writes) => writes.setImage(id, null));
    assert.equal(await people.transaction((writes) => writes.imageGrantedTo(id, appId)), undefined);
  });

  it('withdraws a grant with its tokens, narrows one, and lists and ends the person\'s own sessions', async () => {
    const { id } = await newPerson();
    const appId = randomUUID();
    const db = keygate.stores.zones.eu.db;
    await db.insertInto('grants').values({ person_id: id, app_id: appId, fields: ['firstname', 'email'], granted_at: now() }).execute();
    await db.insertInto('access_tokens').values({
      jti: randomUUID(), code_hash: hash('code'), connect_id: randomUUID(), family_id: randomUUID(), person_id: id, app_id: appId,
      scope: ['email'], issued_at: now(), expires_at: minutesFrom(now(), 10), revoked_at: null,
    }).execute();
    await people.transaction(async (writes) => {
      assert.deepEqual(await writes.lockGrant(id, appId), ['firstname', 'email']);
      await writes.setGrantFields(id, appId, ['email']);
    });
    assert.deepEqual((await people.grants(id)).map((g) => [g.appId, g.fields]), [[appId, ['email']]]);
    assert.equal(await people.transaction((writes) => writes.withdrawGrant(id, appId, now())), true);
    assert.equal(await people.transaction((writes) => writes.withdrawGrant(id, appId, now())), false, 'once');
    const revoked = await db.selectFrom('access_tokens').select('revoked_at').where('person_id', '=', id).execute();
    assert.ok(revoked.every((t) => t.revoked_at !== null), 'its tokens are revoked with it');

    const session = (token: string, minutes: number) => ({ id_hash: hash(token), person_id: id, last_seen_at: now(), expires_at: minutesFrom(now(), minutes) });
    await db.insertInto('sessions').values([session('a', 60), session('b', 60), session('c', 60), session('old', -1)]).execute();
    assert.equal((await people.transaction((writes) => writes.liveSessions(id, now()))).length, 3, 'live ones only');
    assert.equal(await people.transaction((writes) => writes.endSessionsWhere(id, { idHash: hash('a') })), 1);
    assert.equal(await people.transaction((writes) => writes.endSessionsWhere(id, { allBut: hash('b') })), 2, 'c and the expired one');
    assert.deepEqual((await people.transaction((writes) => writes.liveSessions(id, now()))).map((r) => Buffer.from(r.idHash).toString('hex')), [hash('b').toString('hex')]);
  });

  it('erases every row about a person and records the erasure, whose record outlives them', async () => {
    const { id } = await newPerson();
    await people.transaction(async (writes) => {
      await writes.replaceChallenge({ tokenHash: hash(randomUUID()), personId: id, purpose: 'reset', codeHash: null, detail: null, expiresAt: minutesFrom(now(), 10) });
      await writes.audit({ kind: 'person', id }, [{ action: 'contract.before_erasure', personId: id }]);
    });
    await people.erase(id, { kind: 'operator', id: null }, [{ action: 'person.erased', personId: id }]);
    assert.equal(await people.accountState(id), undefined);
    assert.equal(await people.wrappedDataKey(id), null);
    const db = keygate.stores.zones.eu.db;
    assert.equal((await db.selectFrom('challenges').select('person_id').where('person_id', '=', id).execute()).length, 0);
    const activity = new ActivityRepo(db);
    assert.deepEqual((await activity.aboutPerson(id, { limit: 10 })).map((r) => r.action), ['person.erased', 'contract.before_erasure']);
    assert.deepEqual((await activity.exportFor(id)).map((r) => r.action), ['contract.before_erasure', 'person.erased']);
  });
});
