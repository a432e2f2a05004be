import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { loadConfig } from '../../src/config/config.js';
import { storeLocationsFromConfig } from '../../src/storage/stores.js';
import { connectIdOf, GatewayVisitor } from '../support/gateway-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const GERMAN = { email: 'max.mustermann@example.de', password: 'Weltraum-Fahrrad-Kaffee-42', firstname: 'Maximilian', surname: 'Mustermann', country: 'DE', language: 'de' };
const AMERICAN = { email: 'johnny.appleseed@example.com', password: 'orchard-wagon-lantern-77', firstname: 'Johnathan', surname: 'Appleseed', country: 'US', language: 'en' };

async function signUp(keygate: TestKeygate, person: typeof GERMAN): Promise<void> {
  const { appId, secretKey } = await keygate.services.apps.createApp({ name: 'Residency App', origins: ['https://r.example.org'], returnUrls: ['https://r.example.org/back'] });
  const client = new Ukey1ServerClient(keygate.http, appId, secretKey, 'https://r.example.org');
  const connect = await client.connect({ request_id: person.country, scope: ['firstname', 'email'], return_url: 'https://r.example.org/back' });
  const visitor = new GatewayVisitor(keygate.http);
  const connectId = connectIdOf(connect.body.gateway);
  assert.equal((await visitor.signUp(`/gateway/${connectId}`, person, keygate.outbox)).status, 303);
  const decided = await visitor.post(`/gateway/${connectId}/consent`, { decision: 'allow', fields: ['firstname', 'email'] });
  const redirect = new URL(decided.location!);
  const token = await client.token({ request_id: person.country, connect_id: connectId, auth_code: redirect.searchParams.get('_ukey1[code]')! });
  assert.equal((await client.me(token.body.access_token)).body.user.firstname, person.firstname);
}

/** Every row of every table of a store, as text in which bytes appear as hex. */
async function dumpStore(db: Kysely<any>): Promise<string> {
  const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(db);
  const dump: Record<string, unknown[]> = {};
  for (const { table_name } of tables.rows) {
    dump[table_name] = (await sql`select * from ${sql.table(table_name)}`.execute(db)).rows;
  }
  // Bytes as hex whatever the driver returns (pg: Buffer, whose toJSON would hide them; PGlite: Uint8Array).
  const text = (value: unknown): unknown => (value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value);
  return JSON.stringify(Object.fromEntries(Object.entries(dump).map(([table, rows]) =>
    [table, rows.map((row) => Object.fromEntries(Object.entries(row as object).map(([k, v]) => [k, text(v)])))])));
}

/** Ids, blind indexes and ciphertexts of the (only) person in a zone, as they appear in a dump. */
async function traces(db: Kysely<any>): Promise<string[]> {
  const people = await db.selectFrom('people').selectAll().execute();
  assert.equal(people.length, 1);
  const person = people[0]!;
  const bytes = ['email_index', 'email_ct', 'firstname_ct', 'surname_ct', 'country_ct', 'language_ct'].map((c) => Buffer.from(person[c]).toString('hex'));
  const key = await db.selectFrom('person_keys').select('wrapped_key').executeTakeFirstOrThrow();
  const user = await db.selectFrom('app_users').select('user_id').executeTakeFirstOrThrow();
  return [person.id, user.user_id, Buffer.from(key.wrapped_key).toString('hex'), ...bytes];
}

describe('data residency: a person lives only in their own zone', () => {
  it('keeps a German person only in `eu` and an American only in `us`, and the control plane holds neither', async () => {
    const keygate = await startTestKeygate();
    try {
      await signUp(keygate, GERMAN);
      await signUp(keygate, AMERICAN);
      const eu = await dumpStore(keygate.stores.zones.eu.db);
      const us = await dumpStore(keygate.stores.zones.us.db);
      const control = await dumpStore(keygate.stores.control.db);
      const german = await traces(keygate.stores.zones.eu.db);
      const american = await traces(keygate.stores.zones.us.db);
      for (const trace of german) {
        assert.ok(eu.includes(trace));
        assert.ok(!us.includes(trace), `us holds a trace of the German person: ${trace.slice(0, 20)}`);
        assert.ok(!control.includes(trace), 'the control plane holds a trace of the German person');
      }
      for (const trace of american) {
        assert.ok(us.includes(trace));
        assert.ok(!eu.includes(trace), `eu holds a trace of the American person: ${trace.slice(0, 20)}`);
        assert.ok(!control.includes(trace), 'the control plane holds a trace of the American person');
      }
      for (const value of [GERMAN.email, GERMAN.surname, AMERICAN.email, AMERICAN.surname]) {
        for (const dump of [eu, us, control]) assert.ok(!dump.includes(value), `plaintext ${value} in a store`);
      }
    } finally {
      await keygate.close();
    }
  });

  it('writes no profile value in plaintext to any file of the embedded stores on disk', async () => {
    // The real embedded default: PGlite directories under the data directory.
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'keygate-disk-'));
    const onDisk = await startTestKeygate({ dataDir, storeLocations: storeLocationsFromConfig(loadConfig({ KEYGATE_DATA_DIR: dataDir })) });
    try {
      await signUp(onDisk, GERMAN);
      await signUp(onDisk, AMERICAN);
    } finally {
      await onDisk.close();
    }
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const full = path.join(dir, entry);
        if (statSync(full).isDirectory()) walk(full);
        else files.push(full);
      }
    };
    walk(path.join(dataDir, 'stores'));
    assert.ok(files.length > 100, 'the stores are on disk');
    // The scan finds what is there: app names are not personal and are stored as they are.
    assert.ok(files.some((file) => readFileSync(file).includes(Buffer.from('Residency App'))), 'the scan can see plaintext');
    const needles = [GERMAN.email, GERMAN.firstname, GERMAN.surname, AMERICAN.email, AMERICAN.firstname, AMERICAN.surname].map((v) => Buffer.from(v));
    for (const file of files) {
      const content = readFileSync(file);
      for (const needle of needles) assert.equal(content.includes(needle), false, `${needle} in plaintext in ${file}`);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
});
