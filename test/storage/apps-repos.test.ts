import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { NewAppRecord } from '../../src/domain/apps/app-store.js';
import { AppOwnersRepo, AppsRepo } from '../../src/storage/control/apps.js';
import { PrivateListsRepo } from '../../src/storage/control/private-lists.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

/*
 * The apps repositories' contract, on the store the tests run on: in-memory PGlite by
 * default, PostgreSQL with KEYGATE_TEST_DATABASE_URL (CI runs both).
 */

const SYSTEM_ACTOR = { kind: 'system', id: null } as const;
const sealed = (text: string) => ({ masterKeyId: 'mk-1', sealed: Buffer.from(text) });

describe('apps repositories (the storage contract, on this run\'s store)', () => {
  let keygate: TestKeygate;
  let apps: AppsRepo;
  let owners: AppOwnersRepo;
  before(async () => {
    keygate = await startTestKeygate();
    apps = new AppsRepo(keygate.stores.control.db);
    owners = new AppOwnersRepo(keygate.stores.control.db);
  });
  after(() => keygate.close());

  const now = () => keygate.clock.now();
  const inDays = (days: number) => new Date(now().getTime() + days * 86_400_000);
  const newApp = (overrides: Partial<NewAppRecord> = {}): NewAppRecord => ({
    id: randomUUID(), name: 'Contract App', secretKey: `secret-${randomUUID()}`, privateKey: sealed('private'), origins: ['https://contract.example.org'],
    returnUrls: ['https://contract.example.org/back'], redirectUris: ['https://contract.example.org/cb', 'http://127.0.0.1/native'], publicClient: false,
    clientSecretHash: Buffer.from('secret-hash'), permissions: ['email!', 'firstname'], legalBasis: 'contract', domainProtection: true, ...overrides,
  });
  const person = () => ({ id: randomUUID(), zone: 'eu' as const });

  it('keeps an app as it was registered, with its first owner and its record, and knows no other', async () => {
    const app = newApp();
    const owner = person();
    await apps.create(app, owner, SYSTEM_ACTOR, [{ action: 'contract.created', appId: app.id }]);
    const loaded = await apps.load(app.id, now());
    assert.ok(loaded);
    assert.deepEqual(Buffer.from(loaded.clientSecretHash!).toString(), 'secret-hash');
    assert.deepEqual({ ...loaded, createdAt: undefined, privateKey: undefined, clientSecretHash: undefined }, {
      id: app.id, name: 'Contract App', secretKey: app.secretKey, origins: app.origins, returnUrls: app.returnUrls, ipEntries: [],
      redirectUris: ['https://contract.example.org/cb', 'http://127.0.0.1/native'], publicClient: false, clientSecretHash: undefined,
      postLogoutRedirectUris: [], backchannelLogoutUri: null, clientJwks: null,
      protections: { domain: true, returnUrl: true, serverOnly: false, ip: false }, private: false, permissions: ['email!', 'firstname'],
      legalBasis: 'contract', legalBases: {}, mandatoryApproved: [], retiring: [], createdAt: undefined, privateKey: undefined,
    });
    assert.deepEqual({ ...loaded.privateKey, sealed: Buffer.from(loaded.privateKey.sealed).toString() }, { masterKeyId: 'mk-1', sealed: 'private' });
    assert.equal(await apps.load(randomUUID(), now()), null);
    assert.deepEqual(await owners.ownersOf(app.id), [owner]);
    assert.deepEqual((await apps.auditTrail(app.id, 10)).map((r) => r.action), ['contract.created']);
  });

  it("replaces a confidential client's secret, and never gives a public client one", async () => {
    const confidential = newApp();
    const publicClient = newApp({ publicClient: true, clientSecretHash: null });
    await apps.create(confidential, null, SYSTEM_ACTOR, []);
    await apps.create(publicClient, null, SYSTEM_ACTOR, []);
    assert.equal(await apps.change(confidential.id, (changes) => changes.setClientSecretHash(Buffer.from('new-hash'))), true);
    assert.equal(Buffer.from((await apps.load(confidential.id, now()))!.clientSecretHash!).toString(), 'new-hash');
    assert.equal(await apps.change(publicClient.id, (changes) => changes.setClientSecretHash(Buffer.from('new-hash'))), false);
    assert.equal((await apps.load(publicClient.id, now()))!.clientSecretHash, null);
    assert.equal(await apps.change(randomUUID(), (changes) => changes.setClientSecretHash(Buffer.from('x'))), false);
  });

  it('moves the change counter with every change, and rolls a failed change back whole', async () => {
    const app = newApp();
    await apps.create(app, null, SYSTEM_ACTOR, []);
    const before = await apps.changeVersion();
    assert.equal(await apps.change(app.id, (changes) => changes.rename('Renamed')), true);
    const after = await apps.changeVersion();
    assert.notEqual(after, before);
    await assert.rejects(apps.change(app.id, async (changes) => {
      await changes.rename('Never');
      throw new Error('refused halfway');
    }), /refused halfway/);
    assert.equal((await apps.load(app.id, now()))?.name, 'Renamed');
    assert.equal(await apps.changeVersion(), after);
    assert.equal(await apps.change(randomUUID(), (changes) => changes.rename('Nobody')), false, 'no such app');
  });

  it('saves protections, fields and keys, and serves only replaced keys that are still live', async () => {
    const app = newApp();
    await apps.create(app, null, SYSTEM_ACTOR, []);
    await apps.change(app.id, async (changes) => {
      assert.equal(await changes.setProtections({
        protections: { domain: false, returnUrl: true, serverOnly: true, ip: true }, origins: [], returnUrls: ['https://contract.example.org/other'], ipEntries: ['203.0.113.7'],
      }), true);
      assert.equal(await changes.approveMandatory(['image', 'image']), true);
      assert.deepEqual(await changes.lockMandatoryApproved(), ['image']);
      await changes.setPermissions(['image!'], { image: 'badges' });
      const old = await changes.lockCurrentKey();
      assert.equal(old?.secretKey, app.secretKey);
      const retiring = { keyId: 'old-key', secretKey: app.secretKey, privateKey: sealed('old'), retiresAt: inDays(1) };
      await changes.keepRetiringKey(retiring);
      await changes.keepRetiringKey({ ...retiring, retiresAt: inDays(5) });
      await changes.setCurrentKey('new-secret', sealed('new'));
      assert.equal(await changes.setRedirectUris(['https://contract.example.org/cb2']), true);
      assert.equal(await changes.setLogout({ postLogoutRedirectUris: ['https://contract.example.org/bye'], backchannelLogoutUri: 'https://contract.example.org/bcl' }), true);
      assert.equal(await changes.setClientJwks({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] }), true);
    });
    const loaded = await apps.load(app.id, now());
    assert.deepEqual(loaded?.protections, { domain: false, returnUrl: true, serverOnly: true, ip: true });
    assert.deepEqual([loaded?.ipEntries, loaded?.permissions, loaded?.legalBases, loaded?.secretKey], [['203.0.113.7'], ['image!'], { image: 'badges' }, 'new-secret']);
    assert.deepEqual(loaded?.retiring.map((k) => [k.keyId, k.secretKey, k.retiresAt.getTime()]), [['old-key', app.secretKey, inDays(1).getTime()]], 'kept once');
    assert.deepEqual([loaded?.redirectUris, loaded?.postLogoutRedirectUris, loaded?.backchannelLogoutUri, loaded?.clientJwks],
      [['https://contract.example.org/cb2'], ['https://contract.example.org/bye'], 'https://contract.example.org/bcl', { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] }]);
    assert.deepEqual((await apps.load(app.id, inDays(2)))?.retiring, [], 'retired');
    assert.deepEqual(await apps.change(app.id, (changes) => changes.retireOldKeys()), ['old-key']);
  });

  it('answers a preflight from every app\'s origins', async () => {
    const origin = `https://${randomUUID()}.example.org`;
    assert.equal(await apps.isOriginListedByAnyApp(origin), false);
    await apps.create(newApp({ origins: [origin] }), null, SYSTEM_ACTOR, []);
    assert.equal(await apps.isOriginListedByAnyApp(origin), true);
    await apps.create(newApp({ origins: [], domainProtection: false }), null, SYSTEM_ACTOR, []);
    assert.equal(await apps.anyAppOpenToEveryOrigin(), true);
  });

  it('adds an owner once, locks the owners of a change, and forgets a person everywhere', async () => {
    const first = newApp({ name: 'B app' });
    const second = newApp({ name: 'A app' });
    const owner = person();
    const other = person();
    await apps.create(first, owner, SYSTEM_ACTOR, []);
    await apps.create(second, other, SYSTEM_ACTOR, []);
    assert.equal(await owners.change((changes) => changes.add(second.id, owner)), true);
    assert.equal(await owners.change((changes) => changes.add(second.id, owner)), false, 'once');
    assert.deepEqual((await owners.appsOwnedBy(owner.id)).map((a) => a.name), ['A app', 'B app']);
    assert.equal(await owners.isOwner(first.id, other.id), false);
    assert.deepEqual((await owners.change((changes) => changes.lockOwners(second.id))).sort(), [owner.id, other.id].sort());
    assert.deepEqual((await owners.change((changes) => changes.forgetPerson(owner.id))).sort(), [first.id, second.id].sort());
    assert.deepEqual(await owners.appsOwnedBy(owner.id), []);
    assert.deepEqual(await owners.ownersOf(second.id), [other]);
  });

  it('keeps one invitation per app and account, locks it for its decision, and shows it only while its inviter owns the app', async () => {
    const app = newApp({ name: 'Invited App' });
    const inviter = person();
    const invitee = person();
    await apps.create(app, inviter, SYSTEM_ACTOR, []);
    const record = (tokenHash: Buffer) => ({ id: randomUUID(), tokenHash, appId: app.id, personId: invitee.id, invitedBy: inviter.id, expiresAt: inDays(7) });
    const first = record(Buffer.from('first-token-hash'));
    const second = record(Buffer.from('second-token-hash'));
    await owners.change((changes) => changes.replaceInvitation(first));
    await owners.change((changes) => changes.replaceInvitation(second));
    assert.equal(await owners.liveInvitation(first.tokenHash, now()), undefined, 'replaced');
    assert.deepEqual({ ...(await owners.liveInvitation(second.tokenHash, now()))!, tokenHash: undefined }, { ...second, tokenHash: undefined, appName: 'Invited App' });
    assert.equal(await owners.liveInvitation(second.tokenHash, inDays(8)), undefined, 'expired');
    await owners.change(async (changes) => {
      const locked = await changes.lockInvitation(second.tokenHash, now());
      assert.equal(locked?.id, second.id);
      assert.equal(await changes.owns(app.id, inviter.id), true);
      assert.equal(await changes.owns(app.id, invitee.id), false);
    });
    await owners.change((changes) => changes.remove(app.id, inviter.id));
    assert.equal(await owners.liveInvitation(second.tokenHash, now()), undefined, 'its inviter no longer owns the app');
    await owners.change((changes) => changes.deleteInvitation(second.id));
    assert.equal(await owners.change((changes) => changes.lockInvitation(second.tokenHash, now())), undefined);
  });

  it('lists a private app\'s addresses once each, and removes one with its record', async () => {
    const lists = new PrivateListsRepo(keygate.stores.control.db);
    const app = newApp();
    await apps.create(app, null, SYSTEM_ACTOR, []);
    const address = (referenceId: string) => ({ referenceId, appId: app.id, emailIndex: Buffer.from('index-of-an-address'), sealedEmail: sealed('address'), locale: 'cs_CZ' });
    const referenceId = randomUUID();
    assert.equal(await lists.insertIfAbsent(address(referenceId)), true);
    assert.equal(await lists.insertIfAbsent(address(randomUUID())), false, 'the same address once per app');
    assert.equal(await lists.referenceOf(app.id, Buffer.from('index-of-an-address')), referenceId);
    assert.equal(await lists.referenceOf(randomUUID(), Buffer.from('index-of-an-address')), undefined);
    await lists.markMailed(referenceId, now());
    const found = await lists.find(app.id, referenceId);
    assert.deepEqual([found?.locale, found?.mailedAt?.getTime(), Buffer.from(found!.sealedEmail.sealed).toString()], ['cs_CZ', now().getTime(), 'address']);
    assert.deepEqual((await lists.list(app.id)).map((a) => a.referenceId), [referenceId]);
    assert.equal(await lists.remove(app.id, referenceId, SYSTEM_ACTOR, [{ action: 'contract.removed', appId: app.id }]), true);
    assert.equal(await lists.remove(app.id, referenceId, SYSTEM_ACTOR, [{ action: 'contract.removed', appId: app.id }]), false);
    assert.deepEqual((await apps.auditTrail(app.id, 10)).map((r) => r.action), ['contract.removed'], 'recorded once');
    assert.deepEqual(await lists.list(app.id), []);
  });
});
