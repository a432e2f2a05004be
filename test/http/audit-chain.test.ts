import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, sql } from 'kysely';
import { recordAudit } from '../../src/storage/audit-append.js';
import { AuditTrail } from '../../src/storage/audit/audit-trail.js';
import { chainHash, GENESIS_HASH } from '../../src/domain/audit/chain.js';
import { keyIdOf } from '../../src/crypto/master-keys.js';
import { migrate, MIGRATIONS, type StoreName } from '../../src/storage/stores.js';
import { verifyChain } from '../../src/storage/audit/verify.js';
import { PGliteDialect } from '../../src/storage/pglite-dialect.js';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { keygateCli, startNode } from '../support/node-process.js';
import { freePort } from '../support/ports.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://audit.example.org';
const RETURN_URL = 'https://audit.example.org/back/';
const FOUR_FIELDS = ['firstname', 'email', 'country', 'language'];

// ------------------------------------------------------------------ what an attacker with database access does

/** Lifts what protects the table (the append-only triggers, the one-successor index), as a table owner could. */
async function tamper(db: Kysely<any>, work: () => Promise<void>): Promise<void> {
  await sql`alter table audit_events disable trigger user`.execute(db);
  await sql`drop index if exists audit_events_prev_hash_key`.execute(db);
  try {
    await work();
  } finally {
    await sql`alter table audit_events enable trigger user`.execute(db);
  }
}

/** Keeps a copy of some records before tampering with them. */
async function backUp(db: Kysely<any>, ids: readonly number[]): Promise<void> {
  await sql`drop table if exists audit_backup`.execute(db);
  await sql`create table audit_backup as select * from audit_events where id = any(${ids.map(String)}::bigint[])`.execute(db);
}

/** Puts the copied records back as they were, removes `extra` ones, and the protections with them. */
async function restore(db: Kysely<any>, extra: readonly number[] = []): Promise<void> {
  await sql`alter table audit_events disable trigger user`.execute(db);
  await sql`delete from audit_events where id in (select id from audit_backup) or id = any(${extra.map(String)}::bigint[])`.execute(db);
  await sql`insert into audit_events overriding system value select * from audit_backup`.execute(db);
  await sql`alter table audit_events enable trigger user`.execute(db);
  await sql`drop table audit_backup`.execute(db);
  await sql`create unique index if not exists audit_events_prev_hash_key on audit_events (prev_hash)`.execute(db);
}

const lastId = async (db: Kysely<any>): Promise<number> =>
  Number((await sql<{ id: string | null }>`select max(id)::text as id from audit_events`.execute(db)).rows[0]?.id ?? 0);

const fieldReads = async (db: Kysely<any>, afterId: number) =>
  (await sql<{ id: string; field: string; person_id: string; app_id: string }>`
    select id::text as id, field, person_id::text as person_id, app_id::text as app_id from audit_events
    where action = 'field.read' and purpose = 'ukey1.me' and id > ${afterId}::bigint order by audit_events.id`.execute(db)).rows;

describe('the hash-chained audit trail of every store', () => {
  let keygate: TestKeygate;
  let client: Ukey1ServerClient;
  let eu: Kysely<any>;
  let accessToken: string;
  let person = 0;
  const controlKey = randomBytes(32);

  /** Signs a new person up through the gateway, grants `fields` and trades the code: the app's access token. */
  async function signedInToken(fields: string[] = FOUR_FIELDS): Promise<string> {
    const visitor = new GatewayVisitor(keygate.http);
    const requestId = `audit-${++person}`;
    const connect = await client.connect({ request_id: requestId, scope: fields, return_url: RETURN_URL });
    assert.equal(connect.status, 201, JSON.stringify(connect.body));
    const connectId = connectIdOf(connect.body.gateway);
    await visitor.signUp(`/gateway/${connectId}`, { ...SIGN_UP_JANA, email: `audit.${person}@example.cz` }, keygate.outbox);
    const decided = await visitor.post(`/gateway/${connectId}/consent`, { decision: 'allow', fields });
    const code = new URL(decided.location!).searchParams.get('_ukey1[code]')!;
    const token = await client.token({ request_id: requestId, connect_id: connectId, auth_code: code });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    return token.body.access_token;
  }

  const verify = (store: StoreName) => keygate.audit.verify(store);

  async function assertVerifies(store: StoreName = 'eu') {
    const report = await verify(store);
    assert.ok(report.ok, `${store}: ${JSON.stringify(report.failure)}`);
    return report;
  }

  async function assertFailsAt(kind: string, id: number, store: StoreName = 'eu') {
    const report = await verify(store);
    assert.equal(report.ok, false, `${store} should not verify`);
    assert.deepEqual({ kind: report.failure!.kind, id: report.failure!.id }, { kind, id: String(id) }, report.failure!.message);
    return report.failure!;
  }

  /** One /me: four field reads, numbered from the returned id. */
  async function readMe(): Promise<number> {
    const before = await lastId(eu);
    const me = await client.me(accessToken);
    assert.equal(me.status, 200, JSON.stringify(me.body));
    const reads = await fieldReads(eu, before);
    assert.equal(reads.length, 4);
    return Number(reads[0]!.id);
  }

  before(async () => {
    keygate = await startTestKeygate({ env: { KEYGATE_MASTER_KEY_CONTROL: controlKey.toString('base64') } });
    const { appId, secretKey } = await keygate.services.apps.createApp({ name: 'Audited Shop', origins: [ORIGIN], returnUrls: [RETURN_URL] });
    client = new Ukey1ServerClient(keygate.http, appId, secretKey, ORIGIN);
    eu = keygate.stores.zones.eu.db;
    accessToken = await signedInToken();
  });
  after(() => keygate.close());

  it('an untouched store verifies: every record commits to the one before it, the first to the genesis hash', async () => {
    await readMe();
    for (const store of ['control', 'eu', 'us'] as const) await assertVerifies(store);
    const report = await assertVerifies('eu');
    assert.ok(report.records > 5, 'sign-up, consent, code, token and field reads were recorded');
    const rows = (await sql<{ id: string; prev_hash: Uint8Array; hash: Uint8Array }>`
      select id::text as id, prev_hash, hash from audit_events order by audit_events.id`.execute(eu)).rows;
    assert.deepEqual(Buffer.from(rows[0]!.prev_hash), GENESIS_HASH);
    for (let i = 1; i < rows.length; i++) assert.deepEqual(Buffer.from(rows[i]!.prev_hash), Buffer.from(rows[i - 1]!.hash));
    // The SQL writer and the TypeScript verifier agree on the encoding, byte for byte.
    const [first] = (await sql<Record<string, string | null>>`
      select id::text as id, ((extract(epoch from occurred_at) * 1000000)::bigint)::text as us, person_id::text as person_id, action, field,
             actor_kind, actor_id, app_id::text as app_id, purpose, request_id from audit_events order by audit_events.id limit 1`.execute(eu)).rows;
    assert.deepEqual(chainHash('zone', GENESIS_HASH, { id: first!.id!, occurredUs: first!.us!, fields: first! }), Buffer.from(rows[0]!.hash));
  });

  it('/me with four granted fields writes four field-read records, in the person\'s zone only', async () => {
    const counts = async () => Promise.all((['control', 'eu', 'us'] as const).map(async (store) =>
      Number((await sql<{ n: string }>`select count(*)::text as n from audit_events`.execute(store === 'control' ? keygate.stores.control.db : keygate.stores.zones[store].db)).rows[0]!.n)));
    const [control, euBefore, us] = await counts();
    const from = await readMe();
    const reads = await fieldReads(eu, from - 1);
    assert.deepEqual(reads.map((r) => r.field), FOUR_FIELDS);
    assert.deepEqual(reads.map((r) => Number(r.id)), [from, from + 1, from + 2, from + 3]);
    assert.ok(reads.every((r) => r.app_id === client.appId && r.person_id === reads[0]!.person_id));
    assert.deepEqual(await counts(), [control, euBefore! + 4, us]);
    await assertVerifies('eu');
  });

  it('many audited operations in parallel still form one chain that verifies', async () => {
    const before = await lastId(eu);
    const tokens = [await signedInToken(['firstname']), await signedInToken(['email', 'country'])];
    const calls = Array.from({ length: 60 }, (_, i) => client.me(i % 3 === 0 ? accessToken : tokens[i % 2]!));
    // … while refusals go to the control plane's chain at the same time.
    const refusals = Array.from({ length: 10 }, () => client.call('GET', '/auth/v2/me', undefined, accessToken, { 'x-ukey1-signature': 'bm9wZQ' }));
    // … and other operations' transactions append to the same zone chain.
    const transactions = Array.from({ length: 40 }, (_, i) => eu.transaction().execute(async (trx) => {
      await recordAudit(trx, { kind: 'system', id: null }, [{ action: 'test.parallel', personId: null, purpose: String(i) }]);
      await new Promise((resolve) => setTimeout(resolve, i % 5));
      await recordAudit(trx, { kind: 'system', id: null }, [{ action: 'test.parallel', personId: null, purpose: String(i) }]);
    }));
    const [answers] = await Promise.all([Promise.all([...calls, ...refusals]), Promise.all(transactions)]);
    assert.equal((await sql`select id from audit_events where action = 'test.parallel'`.execute(eu)).rows.length, 80);
    assert.equal(answers.filter((a) => a.status === 200).length, 60);
    assert.equal(answers.filter((a) => a.body.debug?.code === 'bad_signature').length, 10);
    assert.equal((await fieldReads(eu, before)).length, 20 * 4 + 20 * 1 + 20 * 2);
    await assertVerifies('eu');
    await assertVerifies('control');
  });

  it('an operation that fails after its audit write leaves neither the operation nor the record, and the chain verifies', async () => {
    const before = await lastId(eu);
    const personId = (await fieldReads(eu, 0)).at(-1)!.person_id;
    const deviceHash = randomBytes(32);
    await assert.rejects(eu.transaction().execute(async (trx) => {
      await trx.insertInto('known_devices').values({ person_id: personId, device_hash: deviceHash }).execute();
      await recordAudit(trx, { kind: 'system', id: null }, [{ action: 'test.device_remembered', personId }]);
      throw new Error('the process failed after writing its audit record');
    }), /failed after writing/);
    assert.equal((await eu.selectFrom('known_devices').select('person_id').where('device_hash', '=', deviceHash).execute()).length, 0);
    assert.equal((await sql`select id from audit_events where action = 'test.device_remembered'`.execute(eu)).rows.length, 0);
    assert.equal(await lastId(eu), before);
    await assertVerifies('eu');
    // The next record chains to the last committed one; the id the failed one drew stays unused.
    const next = await readMe();
    assert.equal(next, before + 2);
    await assertVerifies('eu');
  });

  it('detects an edited record, at that record', async () => {
    const from = await readMe();
    await backUp(eu, [from + 1]);
    await tamper(eu, async () => {
      await sql`update audit_events set field = 'surname' where id = ${from + 1}`.execute(eu);
    });
    const failure = await assertFailsAt('edited', from + 1);
    assert.match(failure.message, /edited/);
    await restore(eu);
    await assertVerifies('eu');
  });

  it('detects a deleted record, naming the missing id', async () => {
    const from = await readMe();
    await backUp(eu, [from + 2]);
    await tamper(eu, async () => {
      await sql`delete from audit_events where id = ${from + 2}`.execute(eu);
    });
    const failure = await assertFailsAt('deleted', from + 2);
    assert.match(failure.message, new RegExp(`#${from + 2} was deleted`));
    await restore(eu);
    await assertVerifies('eu');
  });

  it('detects two records whose contents were exchanged, at the first of them', async () => {
    const from = await readMe();
    const [a, b] = [from + 1, from + 2];
    await backUp(eu, [a, b]);
    await tamper(eu, async () => {
      await sql`
        update audit_events e set occurred_at = o.occurred_at, person_id = o.person_id, action = o.action, field = o.field,
          actor_kind = o.actor_kind, actor_id = o.actor_id, app_id = o.app_id, purpose = o.purpose, request_id = o.request_id,
          prev_hash = o.prev_hash, hash = o.hash
        from audit_backup o where (e.id = ${a} and o.id = ${b}) or (e.id = ${b} and o.id = ${a})`.execute(eu);
    });
    const failure = await assertFailsAt('reordered', a);
    assert.match(failure.message, new RegExp(`after record #${b}`));
    await restore(eu);
    await assertVerifies('eu');
  });

  it('detects a record inserted directly in the database, even one chained with a correct hash', async () => {
    // A failed operation left an unused id; an attacker fills that gap with a record of their own.
    const before = await lastId(eu);
    await eu.transaction().execute(async (trx) => {
      await recordAudit(trx, { kind: 'system', id: null }, [{ action: 'test.rolled_back', personId: null }]);
      throw new Error('rolled back');
    }).catch(() => {});
    const from = await readMe();
    const gap = before + 1;
    assert.equal(from, before + 2);
    await backUp(eu, []);

    const [previous] = (await sql<{ hash: Uint8Array }>`select hash from audit_events where id = ${before}`.execute(eu)).rows;
    const occurred = new Date();
    const fields = {
      person_id: null, action: 'field.read', field: 'email', actor_kind: 'app', actor_id: client.appId, app_id: client.appId, purpose: 'ukey1.me', request_id: null,
    };
    const hash = chainHash('zone', previous!.hash, { id: String(gap), occurredUs: String(occurred.getTime() * 1000), fields });
    await tamper(eu, async () => {
      await sql`
        insert into audit_events (id, occurred_at, person_id, action, field, actor_kind, actor_id, app_id, purpose, request_id, prev_hash, hash)
        overriding system value values (${gap}, ${occurred}, null, 'field.read', 'email', 'app', ${client.appId}, ${client.appId}, 'ukey1.me', null, ${previous!.hash}, ${hash})`.execute(eu);
    });
    const failure = await assertFailsAt('inserted', gap);
    assert.match(failure.message, new RegExp(`#${gap} was inserted`));

    // The same with a made-up hash.
    await sql`alter table audit_events disable trigger user`.execute(eu);
    await sql`update audit_events set prev_hash = ${randomBytes(32)}, hash = ${randomBytes(32)} where id = ${gap}`.execute(eu);
    await sql`alter table audit_events enable trigger user`.execute(eu);
    await assertFailsAt('inserted', gap);

    await restore(eu, [gap]);
    await assertVerifies('eu');
  });

  it('detects a tail cut off behind a signed checkpoint, and a rewritten chain under one', async () => {
    const sealed = await keygate.audit.checkpoint('eu');
    const head = await lastId(eu);
    assert.equal(sealed.created, String(head));
    assert.equal((await keygate.audit.checkpoint('eu')).created, null, 'nothing new to seal');
    await readMe();
    assert.equal((await assertVerifies('eu')).checkpoints >= 1, true);

    // Deleting the newest records (some of them sealed) leaves a chain that is intact in itself.
    const tail = (await sql<{ id: string }>`select id::text as id from audit_events where id >= ${head - 1} order by audit_events.id`.execute(eu)).rows.map((r) => Number(r.id));
    await backUp(eu, tail);
    await tamper(eu, async () => {
      await sql`delete from audit_events where id >= ${head - 1}`.execute(eu);
    });
    const failure = await assertFailsAt('truncated', head);
    assert.match(failure.message, new RegExp(`ends at record #${head - 2}`));
    assert.equal((await keygate.audit.checkpoint('eu')).failure?.kind, 'truncated', 'no checkpoint vouches for a cut chain');
    await restore(eu);
    await assertVerifies('eu');

    // Without the key, a chain rewritten from an earlier record on (every hash recomputed) no longer meets the checkpoint.
    const target = head - 3;
    const suffix = (await sql<Record<string, any>>`
      select id::text as id, ((extract(epoch from occurred_at) * 1000000)::bigint)::text as us, person_id::text as person_id, action, field,
             actor_kind, actor_id, app_id::text as app_id, purpose, request_id, prev_hash from audit_events where id >= ${target} order by audit_events.id`.execute(eu)).rows;
    await backUp(eu, suffix.map((r) => Number(r.id)));
    await tamper(eu, async () => {
      let previous: Uint8Array = suffix[0]!.prev_hash;
      for (const row of suffix) {
        const fields = { ...row, purpose: row.id === String(target) ? 'rewritten' : row.purpose };
        const hash = chainHash('zone', previous, { id: row.id, occurredUs: row.us, fields });
        await sql`update audit_events set purpose = ${fields.purpose}, prev_hash = ${previous}, hash = ${hash} where id = ${row.id}::bigint`.execute(eu);
        previous = hash;
      }
    });
    const rewritten = await assertFailsAt('edited', head);
    assert.match(rewritten.message, /checkpoint/);
    await restore(eu);
    await assertVerifies('eu');

    // A checkpoint cannot be forged or moved without the key.
    await sql`update audit_checkpoints set last_id = last_id - 1`.execute(eu);
    assert.equal((await verify('eu')).failure?.kind, 'checkpoint');
    await sql`update audit_checkpoints set last_id = last_id + 1`.execute(eu);
    await assertVerifies('eu');
  });

  it('refuses updates, deletes and truncation of records on the application\'s connection', async () => {
    await assert.rejects(sql`update audit_events set field = 'x' where id = 1`.execute(eu), /append-only/);
    await assert.rejects(sql`delete from audit_events where id = 1`.execute(eu), /append-only/);
    await assert.rejects(sql`truncate audit_events`.execute(eu), /append-only/);
    await assert.rejects(sql`update audit_events set detail = 'x' where id = 1`.execute(keygate.stores.control.db), /append-only/);
    await assert.rejects(sql`delete from audit_events`.execute(keygate.stores.control.db), /append-only/);
  });

  it('the control plane records app changes and protection refusals: ids and codes, no addresses', async () => {
    const control = keygate.stores.control.db;
    const before = await lastId(control);
    const apps = keygate.services.apps;
    const { appId, secretKey } = await apps.createApp({ name: 'Watched', origins: [ORIGIN], returnUrls: [RETURN_URL] }, { kind: 'operator', id: null });
    await apps.rename(appId, 'Watched Shop', { kind: 'person', id: '11111111-1111-4111-8111-111111111111' });
    await apps.updateProtections(appId, { protections: { domain: true, returnUrl: true, serverOnly: false, ip: true }, origins: [ORIGIN], returnUrls: [RETURN_URL], ipEntries: ['203.0.113.7', '198.51.100.0/24'] });
    await apps.allowMandatory(appId, ['email']);
    await apps.updateFields(appId, ['firstname', 'email'], ['email'], { email: 'Invoices go by email.' });
    await apps.setPrivate(appId, true);
    await keygate.services.appOwners.addOwner(appId, { id: '22222222-2222-4222-8222-222222222222', zone: 'eu' });
    await apps.rotateKey(appId, 1);
    await apps.retireOldKeys(appId);

    const watched = new Ukey1ServerClient(keygate.http, appId, secretKey, ORIGIN);
    const refusedIp = await watched.connect({ request_id: 'r', scope: [], return_url: RETURN_URL });
    assert.equal(refusedIp.body.debug.code, 'bad_signature', 'the old key retired: its signatures are refused');
    await apps.updateProtections(appId, { protections: { domain: true, returnUrl: true, serverOnly: true, ip: true }, origins: [ORIGIN], returnUrls: [RETURN_URL], ipEntries: ['203.0.113.7'] });
    const unsigned = await keygate.http.inject({ method: 'GET', url: '/auth/v2/system/scopes', headers: { 'x-ukey1-app': appId, origin: ORIGIN } });
    assert.equal(unsigned.json().debug.code, 'signature_required');
    const otherKey = (await keygate.services.appDirectory.findApp(appId))!.secretKey;
    const signed = new Ukey1ServerClient(keygate.http, appId, otherKey, 'https://elsewhere.example.org');
    assert.equal((await signed.scopes()).body.debug.code, 'ip_not_allowed');
    await apps.updateProtections(appId, { protections: { domain: true, returnUrl: true, serverOnly: false, ip: false }, origins: [ORIGIN], returnUrls: [RETURN_URL], ipEntries: [] });
    assert.equal((await signed.scopes()).body.debug.code, 'origin_not_allowed');
    const current = new Ukey1ServerClient(keygate.http, appId, otherKey, ORIGIN);
    assert.equal((await current.connect({ request_id: 'r', scope: [], return_url: 'https://evil.example.net/back/' })).body.debug.code, 'return_url_not_allowed');
    await apps.deleteApp(appId);

    const rows = (await sql<{ action: string; app_id: string; detail: string | null; actor_kind: string; actor_id: string | null }>`
      select action, app_id::text as app_id, detail, actor_kind, actor_id from audit_events where id > ${before} order by id`.execute(control)).rows;
    assert.ok(rows.every((r) => r.app_id === appId));
    assert.deepEqual(rows.map((r) => r.action === 'api.refused' ? `refused:${r.detail}` : r.action), [
      'app.created', 'app.renamed', 'app.protections_changed', 'app.mandatory_allowed', 'app.fields_changed', 'app.private_changed',
      'app.owner_added', 'app.key_rotated', 'app.old_keys_retired', 'refused:bad_signature', 'app.protections_changed',
      'refused:signature_required', 'refused:ip_not_allowed', 'app.protections_changed', 'refused:origin_not_allowed',
      'refused:return_url_not_allowed', 'app.deleted',
    ]);
    assert.deepEqual(rows.slice(0, 2).map((r) => [r.actor_kind, r.actor_id]), [['operator', null], ['person', '11111111-1111-4111-8111-111111111111']]);
    assert.equal(rows[2]!.detail, 'domain=on,return_url=on,server_only=off,ip=on;origins=1,return_urls=1,ip_entries=2');
    const everything = JSON.stringify((await sql`select * from audit_events`.execute(control)).rows);
    for (const address of ['203.0.113', '198.51.100', '127.0.0.1', 'Watched', 'evil.example.net', 'elsewhere']) {
      assert.ok(!everything.includes(address), `the control plane's trail holds no ${address}`);
    }
    await assertVerifies('control');
  });

  it('exports records with their hashes, in chain order, from a given time on', async () => {
    const all = [];
    let cursor: string | null = '0';
    while (cursor !== null) {
      const page: Awaited<ReturnType<typeof keygate.audit.exportPage>> = await keygate.audit.exportPage('eu', { after: cursor, limit: 7 });
      all.push(...page.records);
      cursor = page.next;
    }
    assert.equal(all.length, await keygate.audit.count('eu'));
    assert.deepEqual(all[0]!.prev_hash, GENESIS_HASH.toString('hex'));
    for (let i = 1; i < all.length; i++) assert.equal(all[i]!.prev_hash, all[i - 1]!.hash, 'each line follows the one before');
    assert.match(all[0]!.occurred_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.ok(all.every((r) => r.store === 'eu' && !('email_ct' in r)));

    const cut = new Date(Date.parse(all[all.length - 1]!.occurred_at as string) + 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const from = await readMe();
    const recent = await keygate.audit.exportPage('eu', { since: cut });
    assert.deepEqual(recent.records.map((r) => r.id), [from, from + 1, from + 2, from + 3]);
  });

  it('signs checkpoints under the store\'s master key, and signs them again after a master-key rotation', async () => {
    await keygate.audit.checkpoint('control');
    const before = await assertVerifies('control');
    assert.ok(before.checkpoints >= 1);
    // The nodes get a new current master key; the old one is kept as previous until the rotation is done.
    const nextKey = randomBytes(32);
    const key = (bytes: Buffer) => ({ id: keyIdOf(bytes), key: bytes });
    const others = { eu: [key(randomBytes(32))], us: [key(randomBytes(32))] };
    const during = new AuditTrail(keygate.stores, { control: [key(nextKey), key(controlKey)], ...others });
    const afterwards = new AuditTrail(keygate.stores, { control: [key(nextKey)], ...others });
    assert.ok((await during.verify('control')).ok, 'old checkpoints verify while the old key is configured');
    const stale = (await afterwards.verify('control')).failure!;
    assert.equal(stale.kind, 'checkpoint');
    assert.match(stale.message, new RegExp(`signed under master key ${keyIdOf(controlKey)}, which is not configured`));
    assert.equal(await during.resignCheckpoints('control'), before.checkpoints);
    assert.equal((await afterwards.verify('control')).checkpoints, before.checkpoints, 'after the rotation the old key is not needed');

    // The operator's rotation does that itself, and is recorded.
    await keygate.rotateMasterKey('eu');
    const [rotated] = (await sql<{ detail: string; actor_kind: string }>`
      select detail, actor_kind from audit_events where action = 'keys.master_rotated'`.execute(keygate.stores.control.db)).rows;
    assert.match(rotated!.detail, /^store=eu,key=[0-9a-f]{16},rewrapped=0,remaining=0,checkpoints_resigned=0$/);
    assert.equal(rotated!.actor_kind, 'operator');
  });
});

describe('keygate audit verify and export on the command line', () => {
  let dataDir: string;
  let env: Record<string, string>;

  before(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'keygate-audit-cli-'));
    env = { KEYGATE_DATA_DIR: dataDir };
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  /** Opens the embedded control plane as someone with access to the disk would. */
  async function withControlStore(work: (db: Kysely<any>) => Promise<void>): Promise<void> {
    const pglite = await PGlite.create({ dataDir: path.join(dataDir, 'stores', 'control') });
    const db = new Kysely<any>({ dialect: new PGliteDialect(pglite) });
    try {
      await work(db);
    } finally {
      await db.destroy();
    }
  }

  it('verifies alone and through a running server, exits non-zero naming the record when a trail was tampered with', async () => {
    const created = keygateCli(['app', 'create', '--name', 'CLI Audit', '--return-url', 'https://cli.example.org/back', '--json'], env);
    assert.equal(created.status, 0, created.stderr);
    const { appId } = JSON.parse(created.stdout);

    const verified = keygateCli(['audit', 'verify'], env);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, /control: 1 record\(s\) chained up to #1 .*signed a checkpoint at #1/);
    assert.match(verified.stdout, /eu: no records yet\./);
    assert.match(verified.stdout, /Audit trails verified: 3 store\(s\), 1 record\(s\)\./);

    const exported = keygateCli(['audit', 'export', '--zone', 'control'], env);
    assert.equal(exported.status, 0, exported.stderr);
    const lines = exported.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((l) => [l.id, l.action, l.actor_kind, l.app_id]), [[1, 'app.created', 'operator', appId]]);
    assert.equal(exported.stderr, '', 'no progress bar when stderr is not a terminal');
    assert.equal(keygateCli(['audit', 'export', '--since', 'yesterday'], env).status, 2);
    assert.equal(keygateCli(['audit', 'verify', '--zone', 'mars'], env).status, 2);

    await withControlStore(async (db) => {
      await sql`alter table audit_events disable trigger user`.execute(db);
      await sql`update audit_events set detail = null where id = 1`.execute(db);
    });
    const tampered = keygateCli(['audit', 'verify', '--zone', 'control', '--json'], env);
    assert.equal(tampered.status, 4, tampered.stderr);
    const [report] = JSON.parse(tampered.stdout);
    assert.deepEqual({ ok: report.ok, kind: report.failure.kind, id: report.failure.id }, { ok: false, kind: 'edited', id: '1' });
    assert.match(tampered.stderr, /the audit trail of control \(record #1, edited\) does not verify/);

    // The same through a running server's operator socket.
    const port = await freePort();
    const server = await startNode({ ...env, PORT: String(port) }, port);
    try {
      const body = JSON.stringify({ request_id: 'r', scope: [], return_url: 'https://cli.example.org/back' });
      const refused = await fetch(`http://127.0.0.1:${port}/auth/v2/connect`, {
        method: 'POST', headers: { 'x-ukey1-app': appId, 'x-ukey1-signature': 'bm90IGEgc2lnbmF0dXJl' }, body,
      });
      assert.equal(refused.status, 401);
      const viaServer = keygateCli(['audit', 'verify'], env);
      assert.equal(viaServer.status, 4);
      assert.match(viaServer.stdout, /control: FAILED at record #1 \(edited\)/);
      assert.match(viaServer.stdout, /eu: no records yet\./);
      const streamed = keygateCli(['audit', 'export', '--since', '2000-01-01T00:00:00Z'], env);
      assert.equal(streamed.status, 0, streamed.stderr);
      assert.deepEqual(streamed.stdout.trim().split('\n').map((line) => JSON.parse(line)).map((r) => [r.store, r.id, r.action, r.detail]), [
        ['control', 1, 'app.created', null], ['control', 2, 'api.refused', 'bad_signature'],
      ]);
    } finally {
      server.process.kill('SIGTERM');
      await server.exited;
    }
  });
});

describe('the migration that starts the chain', () => {
  it('chains the records written before it, in id order, so that they verify', async () => {
    const db = new Kysely<any>({ dialect: new PGliteDialect(await PGlite.create()) });
    try {
      const before = Object.fromEntries(Object.entries(MIGRATIONS.zone).filter(([name]) => name < '0006'));
      await migrate(db, before);
      await sql`
        insert into audit_events (person_id, action, field, actor_kind, actor_id, app_id, purpose, request_id, occurred_at)
        select gen_random_uuid(), 'field.read', 'email', 'app', 'someone', gen_random_uuid(), case when n % 2 = 0 then 'ukey1.me' end, null,
               now() - make_interval(secs => n * 1.000001)
        from generate_series(1, 25) as n`.execute(db);
      await migrate(db, MIGRATIONS.zone);
      const keys = { current: { id: 'k', key: Buffer.alloc(32) }, byId: new Map([['k', Buffer.alloc(32)]]) };
      const report = await verifyChain(db, 'eu', 'zone', keys);
      assert.deepEqual({ ok: report.ok, records: report.records, head: report.head?.id }, { ok: true, records: 25, head: '25' });
      // New records continue the same chain.
      await recordAudit(db, { kind: 'system', id: null }, [{ action: 'after.migration', personId: null }, { action: 'after.migration', personId: null }]);
      assert.equal((await verifyChain(db, 'eu', 'zone', keys)).records, 27);
    } finally {
      await db.destroy();
    }
  });
});
