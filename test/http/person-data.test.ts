import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import sharp from 'sharp';
import { totpCodeAt } from '../../src/crypto/totp.js';
import { decryptField } from '../../src/crypto/field-cipher.js';
import { KeyRing, unwrapDataKey } from '../../src/crypto/key-ring.js';
import { keyIdOf } from '../../src/crypto/master-keys.js';
import {
  exportSections, PERSON_DATA, sealedAt, sealedColumns, sealedRowKey, zoneTablesWhere, type ZoneTable,
} from '../../src/domain/residency/person-data.js';
import type { ZoneDatabase } from '../../src/storage/schema.js';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://registry.example.org';
const RETURN = `${ORIGIN}/back`;
/** Bookkeeping of the migrator: about no one, and not part of the schema the code queries. */
const EU_MASTER_KEY = (() => {
  const key = randomBytes(32);
  return { id: keyIdOf(key), key };
})();
const zoneRing = new KeyRing(EU_MASTER_KEY, []);
const MIGRATOR_TABLES = new Set(['kysely_migration', 'kysely_migration_lock']);

interface ColumnRow { table_name: string; column_name: string }

async function zoneColumns(db: Kysely<ZoneDatabase>): Promise<ColumnRow[]> {
  const { rows } = await sql<ColumnRow>`
    select c.table_name::text as table_name, c.column_name::text as column_name
    from information_schema.columns c join information_schema.tables t on t.table_name = c.table_name and t.table_schema = c.table_schema
    where c.table_schema = 'public' and t.table_type = 'BASE TABLE'`.execute(db);
  return rows.filter((r) => !MIGRATOR_TABLES.has(r.table_name));
}

/** Tables whose rows name a person: a `person_id` column, or a foreign key to `people`. */
async function tablesReferringToPeople(db: Kysely<ZoneDatabase>): Promise<Map<string, string>> {
  const { rows } = await sql<ColumnRow>`
    select kcu.table_name::text as table_name, kcu.column_name::text as column_name
    from information_schema.referential_constraints rc
    join information_schema.key_column_usage kcu on kcu.constraint_name = rc.constraint_name
    join information_schema.constraint_table_usage ctu on ctu.constraint_name = rc.constraint_name
    where ctu.table_name = 'people'`.execute(db);
  const found = new Map(rows.map((r) => [r.table_name, r.column_name]));
  for (const r of await zoneColumns(db)) if (r.column_name === 'person_id' && !found.has(r.table_name)) found.set(r.table_name, r.column_name);
  return found;
}

describe('the person-data registry', () => {
  let keygate: TestKeygate;
  let db: Kysely<ZoneDatabase>;

  before(async () => {
    keygate = await startTestKeygate({ env: { KEYGATE_MASTER_KEY_EU: EU_MASTER_KEY.key.toString('base64') } });
    db = keygate.stores.zones.eu.db;
  });
  after(() => keygate.close());

  it('lists every table of the migrated zone schema, and only those', async () => {
    const inDatabase = new Set((await zoneColumns(db)).map((r) => r.table_name));
    assert.ok(inDatabase.size >= 10, 'the zone schema was read');
    assert.deepEqual([...inDatabase].sort(), Object.keys(PERSON_DATA).sort());
  });

  it('names the person column of every table that refers to a person', async () => {
    const referring = await tablesReferringToPeople(db);
    assert.ok(referring.has('sessions') && referring.has('person_keys'), 'the references were read');
    for (const [table, column] of referring) {
      assert.equal(PERSON_DATA[table as ZoneTable].person, column, `${table}.${column} refers to a person: the registry must say so`);
    }
    assert.equal(PERSON_DATA.people.person, 'id');
    for (const table of zoneTablesWhere((entry) => entry.person !== null)) {
      assert.ok(table === 'people' || table === 'audit_events' || referring.has(table), `${table} is said to refer to a person but has no reference`);
    }
  });

  it('registers every sealed and blind-indexed column, and nothing that is not one', async () => {
    const columns = await zoneColumns(db);
    const sealed = new Set(sealedColumns().map((c) => `${c.table}.${c.column}`));
    const indexed = new Set(zoneTablesWhere(() => true).flatMap((table) => Object.keys(PERSON_DATA[table].blindIndexes).map((c) => `${table}.${c}`)));
    for (const { table_name: table, column_name: column } of columns) {
      const name = `${table}.${column}`;
      if (column.endsWith('_ct')) assert.ok(sealed.has(name), `${name} looks sealed but is not in the registry`);
      if (column.endsWith('_index')) assert.ok(indexed.has(name), `${name} looks like a blind index but is not in the registry`);
    }
    const existing = new Set(columns.map((c) => `${c.table_name}.${c.column_name}`));
    for (const name of [...sealed, ...indexed]) assert.ok(existing.has(name), `${name} is registered but does not exist`);
  });

  it('says of every table how a person\'s data is moved, exported, erased and kept', () => {
    for (const table of Object.keys(PERSON_DATA) as ZoneTable[]) {
      const entry = PERSON_DATA[table];
      if (entry.person === null) assert.equal(entry.move, 'none', `${table} holds nothing about a person, so nothing moves`);
      if (entry.erase === 'keep') assert.ok(table.startsWith('audit_'), `${table}: only the audit trail outlives an erasure`);
      if ('omitted' in entry.export) assert.ok(entry.export.omitted.length > 10, `${table}: the export must say why it leaves it out`);
    }
    assert.deepEqual(zoneTablesWhere((entry) => entry.erase === 'shred-first'), ['person_keys'], 'the data key goes first');
  });

  describe('for a person who has used everything', () => {
    let person: { id: string; zone: 'eu' | 'us' };

    before(async () => {
      const app = await keygate.services.apps.createApp({ name: 'Registry Shop', origins: [ORIGIN], returnUrls: [RETURN] });
      const client = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
      const email = 'everything@example.cz';
      const connect = await client.connect({ request_id: 'r-1', scope: ['firstname', 'email', 'image'], return_url: RETURN });
      const base = `/gateway/${connectIdOf(connect.body.gateway)}`;
      const visitor = new GatewayVisitor(keygate.http);
      assert.equal((await visitor.signUp(base, { ...SIGN_UP_JANA, email }, keygate.outbox)).status, 303);
      const allowed = await visitor.post(`${base}/consent`, { decision: 'allow', fields: ['firstname', 'email', 'image'] });
      const code = new URL(allowed.location!).searchParams.get('_ukey1[code]')!;
      assert.equal((await client.token({ request_id: 'r-1', connect_id: connect.body.connect_id, auth_code: code })).status, 200);
      person = (await keygate.services.personDirectory.findByEmail(email))!;
      assert.equal(await keygate.services.people.setNickname(person, 'everything', { requestId: 't' }), 'ok');
      const enrolment = await keygate.services.secondFactor.beginEnrolment(person, 't');
      await keygate.services.secondFactor.confirmEnrolment(person, enrolment.secret, enrolment.proof, totpCodeAt(enrolment.secret, keygate.clock.now()), { requestId: 't' });
      const picture = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#0a0' } }).png().toBuffer();
      await keygate.services.images.setImage(person, picture, { requestId: 't' });
      await keygate.services.sessions.startSession(person, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0', address: '203.0.113.9' });
      assert.notEqual(typeof await keygate.services.accounts.requestEmailChange(person, 'everything.new@example.cz', { requestId: 't' }), 'string');
    });

    it('opens every sealed value of theirs at the location the registry gives it', async () => {
      const key = await db.selectFrom('person_keys').selectAll().where('person_id', '=', person.id).executeTakeFirstOrThrow();
      const dataKey = unwrapDataKey(zoneRing, person.id, { masterKeyId: key.master_key_id, wrappedKey: key.wrapped_key });
      const anyDb = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
      let opened = 0;
      for (const { table, column, sealing } of sealedColumns()) {
        const personColumn = PERSON_DATA[table].person!;
        const rows = await anyDb.selectFrom(table).selectAll().where(personColumn, '=', person.id).execute();
        const values = rows.filter((row) => row[column] !== null);
        assert.ok(values.length > 0, `the fixture has a value in ${table}.${column}`);
        for (const row of values) {
          const at = sealedAt(table, column as never, sealedRowKey(table, row));
          const sealed = row[column] as Uint8Array;
          if (sealing.under === 'master-key') zoneRing.open(row[sealing.keyIdColumn!] as string, at, sealed);
          else decryptField(dataKey, at, sealed);
          opened++;
        }
      }
      assert.ok(opened >= sealedColumns().length);
    });

    it('exports every section the registry names', async () => {
      const exported = await keygate.services.accountCentre.exportData(person, { requestId: 't' });
      for (const section of exportSections()) assert.ok(exported[section] !== undefined, `the export has its ${section} section`);
      assert.deepEqual(Object.keys(exported), ['exportedAt', 'zone', ...exportSections()]);
    });

    it('erases every row about them from every table but the audit trail', async () => {
      await keygate.services.accountCentre.erase(person, { kind: 'person', id: person.id, requestId: 't' });
      const anyDb = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
      for (const table of zoneTablesWhere((entry) => entry.person !== null && entry.erase !== 'keep')) {
        const left = await anyDb.selectFrom(table).selectAll().where(PERSON_DATA[table].person!, '=', person.id).execute();
        assert.equal(left.length, 0, `${table} still holds the person`);
      }
      const audit = await db.selectFrom('audit_events').select('action').where('person_id', '=', person.id).execute();
      assert.ok(audit.some((r) => r.action === 'person.erased'));
    });
  });
});
