import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AlreadyDecided } from '../../src/domain/consent/consent-store.js';
import type { FieldCode } from '../../src/domain/consent/fields.js';
import type { PersonRef } from '../../src/domain/zones/zone-registry.js';
import { ConnectRequestsRepo } from '../../src/storage/control/connect-requests.js';
import { ConsentRepo } from '../../src/storage/zone/consent.js';
import { TokenLineageRepo } from '../../src/storage/zone/token-lineage.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

/*
 * The authorization repositories' contract, run on the store the tests run on: in-memory
 * PGlite by default, PostgreSQL with KEYGATE_TEST_DATABASE_URL (CI runs both).
 */

const SYSTEM_ACTOR = { kind: 'system', id: null } as const;
const hash = (value: string) => createHash('sha256').update(value).digest();
const minutesFrom = (date: Date, minutes: number) => new Date(date.getTime() + minutes * 60_000);

describe('authorization repositories (the storage contract, on this run\'s store)', () => {
  let keygate: TestKeygate;
  let appId: string;
  let person: PersonRef;
  let requests: ConnectRequestsRepo;
  let consent: ConsentRepo;
  let lineage: TokenLineageRepo;

  before(async () => {
    keygate = await startTestKeygate();
    appId = (await keygate.services.apps.createApp({ name: 'Contract Shop', origins: ['https://contract.example.org'], returnUrls: ['https://contract.example.org/back'] })).appId;
    const signedUp = await keygate.services.people.signUp({
      email: 'contract@example.cz', password: 'long enough password', firstname: 'Eva', surname: 'Nováková', country: 'CZ', language: 'cs',
    }, {});
    assert.ok(signedUp.ok);
    person = signedUp.person;
    requests = new ConnectRequestsRepo(keygate.stores.control.db);
    consent = new ConsentRepo(keygate.stores.zones[person.zone].db);
    lineage = new TokenLineageRepo(keygate.stores.zones[person.zone].db);
  });
  after(() => keygate.close());

  const now = () => keygate.clock.now();
  const zoneDb = () => keygate.stores.zones[person.zone].db;
  const actionsOf = async (action: string) =>
    (await zoneDb().selectFrom('audit_events').select(['action', 'field', 'purpose', 'request_id']).where('person_id', '=', person.id).where('action', '=', action).orderBy('id').execute());

  async function openRequest(expiresInMinutes = 10) {
    const id = randomUUID();
    await requests.insert({
      id, appId, protocol: 'ukey1', requestId: `r-${id}`, scope: { fields: ['firstname', 'email'], mandatory: ['email'] }, returnUrl: 'https://contract.example.org/back',
      keyId: null, codeChallenge: null, signInAfter: null, protocolParams: {}, expiresAt: minutesFrom(now(), expiresInMinutes),
    });
    return id;
  }

  /** How the person of every decided request had signed in. */
  const signedIn = { authTime: new Date('2030-01-01T00:00:00.000Z'), amr: ['pwd', 'otp'], sid: 'session-of-the-contract' };

  /** A decided request: the person's grant and app id, and an unused code. */
  async function decided(fields: FieldCode[] = ['firstname', 'email']) {
    const connectId = await openRequest();
    const code = randomUUID();
    await consent.decide(async (writes) => {
      await writes.admitAppUser(person.id, appId, randomUUID());
      await writes.grant(person.id, appId, fields, now());
      await writes.issueCode({ codeHash: hash(code), connectId, appId, personId: person.id, scope: fields, expiresAt: minutesFrom(now(), 1), authentication: signedIn });
    });
    return { connectId, codeHash: hash(code) };
  }

  const newPair = (requestId: string | null = null) => ({
    jti: randomUUID(), now: now(), requestId,
    accessExpiresAt: minutesFrom(now(), 10), refreshTokenHash: hash(randomUUID()), refreshExpiresAt: minutesFrom(now(), 60 * 24),
  });

  describe('connect requests', () => {
    it('keeps a request as it was opened, and knows no other', async () => {
      const id = await openRequest();
      const found = await requests.find(id);
      assert.ok(found);
      assert.deepEqual({ ...found, expiresAt: undefined }, {
        id, appId, requestId: `r-${id}`, scope: { fields: ['firstname', 'email'], mandatory: ['email'] }, returnUrl: 'https://contract.example.org/back',
        status: 'pending', zone: null, keyId: null, expiresAt: undefined, protocol: 'ukey1', codeChallenge: null, signInAfter: null, protocolParams: {},
      });
      assert.equal(await requests.find(randomUUID()), null);
    });

    it('keeps an OpenID Connect request with its PKCE challenge and parameters, and no request id', async () => {
      const id = randomUUID();
      const params = { state: 'xyz', nonce: 'n-0S6_WzA2Mj', maxAge: 300 };
      await requests.insert({
        id, appId, protocol: 'oidc', requestId: null, scope: { fields: ['email'], mandatory: [] }, returnUrl: 'https://contract.example.org/cb',
        keyId: null, codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', signInAfter: new Date('2030-01-01T00:00:00Z'), protocolParams: params, expiresAt: minutesFrom(now(), 10),
      });
      const found = await requests.find(id);
      assert.deepEqual([found?.protocol, found?.requestId, found?.codeChallenge, found?.signInAfter, found?.protocolParams],
        ['oidc', null, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', new Date('2030-01-01T00:00:00Z'), params]);
    });

    it('settles a pending request once, and an expired one never', async () => {
      const id = await openRequest();
      assert.equal(await requests.settle(id, 'authorized', 'eu', now()), true);
      assert.equal(await requests.settle(id, 'canceled', null, now()), false, 'the first decision wins');
      assert.deepEqual([(await requests.find(id))?.status, (await requests.find(id))?.zone], ['authorized', 'eu']);
      const late = await openRequest(1);
      assert.equal(await requests.settle(late, 'authorized', 'eu', minutesFrom(now(), 2)), false);
      assert.equal((await requests.find(late))?.status, 'pending');
    });
  });

  describe('consent', () => {
    it('writes a decision in one transaction, and refuses a second code for the request without leaving any of it', async () => {
      const { connectId } = await decided(['firstname']);
      const grantBefore = await zoneDb().selectFrom('grants').select('fields').where('person_id', '=', person.id).where('app_id', '=', appId).executeTakeFirstOrThrow();
      await assert.rejects(consent.decide(async (writes) => {
        await writes.grant(person.id, appId, ['firstname', 'email', 'surname'], now());
        await writes.audit(SYSTEM_ACTOR, [{ action: 'contract.second', personId: person.id }]);
        await writes.issueCode({ codeHash: hash(randomUUID()), connectId, appId, personId: person.id, scope: ['email'], expiresAt: minutesFrom(now(), 1), authentication: null });
      }), AlreadyDecided);
      const grantAfter = await zoneDb().selectFrom('grants').select('fields').where('person_id', '=', person.id).where('app_id', '=', appId).executeTakeFirstOrThrow();
      assert.deepEqual(grantAfter, grantBefore);
      assert.deepEqual(await actionsOf('contract.second'), [], 'the refused transaction records nothing');
    });

    it('gives a person one id per app, whatever they decide later', async () => {
      const idOf = () => zoneDb().selectFrom('app_users').select('user_id').where('person_id', '=', person.id).where('app_id', '=', appId).executeTakeFirstOrThrow();
      await decided();
      const first = await idOf();
      await decided();
      assert.deepEqual(await idOf(), first);
    });

    it('keeps consent records with their sealed address and shows owners the newest first', async () => {
      const wrapped = await consent.decide((writes) => writes.wrappedDataKey(person.id));
      assert.ok(wrapped && wrapped.wrappedKey.length > 0);
      assert.equal(await consent.decide((writes) => writes.wrappedDataKey(randomUUID())), null);
      for (const decision of ['allowed', 'canceled'] as const) {
        await consent.decide((writes) => writes.recordConsent({
          id: randomUUID(), personId: person.id, appId, connectId: randomUUID(), requested: ['email', 'firstname'], mandatory: ['email'],
          granted: decision === 'allowed' ? ['email'] : [], legalBasis: 'email: contract', decision, sealedAddress: Buffer.from('sealed'),
        }));
      }
      const proofs = await consent.proofsForApp(appId, 1);
      assert.equal(proofs.length, 1);
      assert.equal(proofs[0]!.decision, 'canceled');
      assert.deepEqual(proofs[0]!.requested, ['email', 'firstname']);
      assert.match(proofs[0]!.userId, /^[0-9a-f-]{36}$/);
    });

    it('withdraws the code of a decision another one beat', async () => {
      const { connectId, codeHash } = await decided();
      await consent.withdrawCode(connectId, person.id);
      assert.equal(await lineage.inTransaction((tx) => tx.claimCode({ codeHash, connectId, appId }, now())), undefined);
    });
  });

  describe('token lineage, step by step', () => {
    it('claims a code once, tells a replay apart, and revokes what descends from it', async () => {
      const { connectId, codeHash } = await decided();
      const claim = { codeHash, connectId, appId };
      const pair = newPair('r-steps');
      const userId = await lineage.inTransaction(async (tx) => {
        const claimed = await tx.claimCode(claim, now());
        assert.deepEqual(claimed, { personId: person.id, scope: ['firstname', 'email'], authentication: signedIn });
        assert.equal(await tx.claimCode(claim, now()), undefined, 'claimed once');
        return tx.recordPair(appId, { familyId: randomUUID(), codeHash, connectId, personId: person.id, scope: claimed!.scope, authentication: claimed!.authentication }, pair, { ...SYSTEM_ACTOR, kind: 'app', id: appId, requestId: 'r-steps' });
      });
      const access = await lineage.findAccess(pair.jti, appId, now());
      assert.deepEqual({ ...access, issuedAt: undefined, expiresAt: undefined }, {
        personId: person.id, userId, scope: ['firstname', 'email'], granted: ['firstname', 'email'], requested: null, issuedAt: undefined, expiresAt: undefined,
      });
      assert.deepEqual([access?.issuedAt, access?.expiresAt], [pair.now, pair.accessExpiresAt]);
      assert.equal(await lineage.findAccess(pair.jti, randomUUID(), now()), undefined, 'only for its app');
      assert.equal(await lineage.findAccess(pair.jti, appId, minutesFrom(now(), 11)), undefined, 'only until it expires');
      assert.deepEqual((await actionsOf('token.issued')).filter((r) => r.request_id === 'r-steps').length, 1);

      await lineage.inTransaction(async (tx) => {
        assert.equal(await tx.usedCodePerson(codeHash, connectId), person.id);
        assert.equal(await tx.usedCodePerson(codeHash, randomUUID()), undefined);
        await tx.revokeLineage(codeHash, now());
      });
      assert.equal(await lineage.findAccess(pair.jti, appId, now()), undefined, 'revoked with its code');
      const refresh = await lineage.inTransaction((tx) => tx.lockRefreshToken(pair.refreshTokenHash, appId));
      assert.ok(refresh?.revokedAt, 'the refresh token too');
    });

    it('locks a refresh token, uses it once, and reads what is granted now', async () => {
      const { connectId, codeHash } = await decided(['firstname', 'email']);
      const first = newPair();
      const familyId = randomUUID();
      const issued = await lineage.claimCodeAndIssue({ codeHash, connectId, appId }, { ...first, familyId });
      assert.deepEqual(issued?.authentication, signedIn, 'the sign-in behind the code comes with its pair');
      await lineage.inTransaction(async (tx) => {
        const token = await tx.lockRefreshToken(first.refreshTokenHash, appId);
        assert.ok(token);
        assert.deepEqual(token.authentication, signedIn, 'and stays with its family');
        assert.deepEqual([token.familyId, token.connectId, token.personId, token.usedAt, token.revokedAt], [familyId, connectId, person.id, null, null]);
        assert.equal(await tx.lockRefreshToken(first.refreshTokenHash, randomUUID()), undefined, 'only for its app');
        await tx.markRefreshTokenUsed(first.refreshTokenHash, now());
        assert.deepEqual(await tx.grantedFields(person.id, appId), ['firstname', 'email']);
        assert.equal(await tx.grantedFields(person.id, randomUUID()), undefined);
      });
      assert.ok((await lineage.inTransaction((tx) => tx.lockRefreshToken(first.refreshTokenHash, appId)))?.usedAt);
      assert.equal(await lineage.useRefreshTokenAndIssue({ tokenHash: first.refreshTokenHash, appId }, newPair()), undefined, 'a used token issues nothing');
    });

    it('carries the sign-in behind the code through every refresh of its family', async () => {
      const { connectId, codeHash } = await decided(['firstname']);
      const first = newPair();
      assert.ok(await lineage.claimCodeAndIssue({ codeHash, connectId, appId }, { ...first, familyId: randomUUID() }));
      const second = newPair();
      const refreshed = await lineage.useRefreshTokenAndIssue({ tokenHash: first.refreshTokenHash, appId }, second);
      assert.deepEqual(refreshed?.authentication, signedIn);
      const third = await lineage.useRefreshTokenAndIssue({ tokenHash: second.refreshTokenHash, appId }, newPair());
      assert.deepEqual(third?.authentication, signedIn);
    });
  });

  describe('granted profile reads', () => {
    it('answers each read in order, records one field.read per field read, and nothing for a token it does not know', async () => {
      const { connectId, codeHash } = await decided(['firstname', 'email']);
      const pair = newPair();
      assert.ok(await lineage.claimCodeAndIssue({ codeHash, connectId, appId }, { ...pair, familyId: randomUUID() }));
      const before = (await actionsOf('field.read')).length;
      const read = (jti: string, requestId: string) => ({ jti, appId, now: now(), purpose: 'contract.read', requestId });
      const rows = await lineage.readGrantedProfiles([read(randomUUID(), 'r-unknown'), read(pair.jti, 'r-known')]);
      assert.equal(rows.length, 2);
      assert.equal(rows[0], undefined);
      assert.deepEqual([rows[1]?.person_id, rows[1]?.readable], [person.id, ['firstname', 'email']]);
      assert.ok(rows[1]?.firstname_ct && rows[1].wrapped_key, 'with the sealed fields and the wrapped data key');
      const recorded = (await actionsOf('field.read')).slice(before);
      assert.deepEqual(recorded, [
        { action: 'field.read', field: 'firstname', purpose: 'contract.read', request_id: 'r-known' },
        { action: 'field.read', field: 'email', purpose: 'contract.read', request_id: 'r-known' },
      ]);
      assert.deepEqual(await lineage.readGrantedProfiles([]), []);
      assert.equal((await keygate.audit.verify(person.zone)).ok, true, 'the chain holds');
    });
  });
});
