import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { totpCodeAt } from '../../src/crypto/totp.js';
import type { PersonRef } from '../../src/domain/zones/zone-registry.js';
import type { ZoneDatabase } from '../../src/storage/schema.js';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://move.example.org';
const RETURN = `${ORIGIN}/back`;
const FIELDS = ['firstname', 'email', 'country'];
const PERSON_TABLES = [
  'person_keys', 'app_users', 'grants', 'consent_records', 'auth_codes', 'access_tokens', 'refresh_tokens', 'sessions',
  'challenges', 'recovery_codes', 'known_devices',
] as const;

/** Every row in a zone that refers to the person (audit records included). */
async function rowsAbout(db: Kysely<ZoneDatabase>, personId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  counts.people = (await db.selectFrom('people').select('id').where('id', '=', personId).execute()).length;
  for (const table of PERSON_TABLES) {
    counts[table] = (await db.selectFrom(table).select('person_id').where('person_id', '=', personId).execute()).length;
  }
  const { rows } = await sql<{ n: string }>`
    select count(*)::text as n from audit_events where person_id = ${personId}::uuid or actor_id = ${personId}`.execute(db);
  counts.audit_events = Number(rows[0]!.n);
  return counts;
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

async function setUp(keygate: TestKeygate) {
  const app = await keygate.services.apps.createApp({ name: 'Move Shop', origins: [ORIGIN], returnUrls: [RETURN] });
  return new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
}

/** Signs a person up from `country` through the app, grants FIELDS, and returns their browser and tokens. */
async function connectedPerson(keygate: TestKeygate, client: Ukey1ServerClient, email: string, country: string, visitor = new GatewayVisitor(keygate.http)) {
  const requestId = `${email}-${Math.random()}`;
  const connect = await client.connect({ request_id: requestId, scope: FIELDS, return_url: RETURN });
  const base = `/gateway/${connectIdOf(connect.body.gateway)}`;
  if (!(await visitor.get(base)).html.includes('Allow')) {
    assert.equal((await visitor.signUp(base, { ...SIGN_UP_JANA, email, country }, keygate.outbox)).status, 303);
  }
  const allowed = await visitor.post(`${base}/consent`, { decision: 'allow', fields: FIELDS });
  const code = new URL(allowed.location!).searchParams.get('_ukey1[code]')!;
  const token = await client.token({ request_id: requestId, connect_id: connect.body.connect_id, auth_code: code });
  assert.equal(token.status, 200, JSON.stringify(token.body));
  const person = (await keygate.services.personDirectory.findByEmail(email))!;
  return { visitor, person, accessToken: token.body.access_token as string, refreshToken: token.body.refresh_token as string };
}

describe('moving a person to another zone when their country changes', () => {
  let keygate: TestKeygate;
  let client: Ukey1ServerClient;

  before(async () => {
    keygate = await startTestKeygate();
    client = await setUp(keygate);
  });
  after(() => keygate.close());

  it('moves a person from US to FR: nothing left in us, everything in eu; sign-in, tokens and grants keep working', async () => {
    const email = 'mover@example.com';
    const { visitor, person, accessToken, refreshToken } = await connectedPerson(keygate, client, email, 'US');
    assert.equal(person.zone, 'us');
    assert.equal((await client.me(accessToken)).body.user.country, 'US');
    // A second factor, two browsers and a nickname: all must survive the move.
    const enrolment = await keygate.services.secondFactor.beginEnrolment(person, 't');
    const recovery = (await keygate.services.secondFactor.confirmEnrolment(person, enrolment.secret, enrolment.proof, totpCodeAt(enrolment.secret, keygate.clock.now()), { requestId: 't' }))!;
    assert.equal(recovery.length, 10);
    // Setting up the factor signed every browser out: both sign in with it.
    const laptop = new GatewayVisitor(keygate.http);
    for (const browser of [visitor, laptop]) {
      keygate.clock.advance(30);
      await browser.get('/account/sign-in');
      const first = await browser.post('/account/sign-in', { email, password: SIGN_UP_JANA.password });
      assert.match(first.location!, /second-factor$/);
      await browser.get(first.location!);
      assert.equal((await browser.post(first.location!, { code: totpCodeAt(enrolment.secret, keygate.clock.now()) })).status, 303);
    }
    assert.equal(await keygate.services.people.setNickname(person, 'mover', { requestId: 't' }), 'ok');

    const before = await rowsAbout(keygate.stores.zones.us.db, person.id);
    assert.ok(before.audit_events! > 5 && before.grants === 1 && before.sessions === 2);
    const app = await keygate.services.appDirectory.findApp(client.appId);
    assert.ok(app);

    await visitor.get('/account/profile');
    const moved = await visitor.post('/account/country', { country: 'fr', password: SIGN_UP_JANA.password });
    assert.equal(moved.status, 200);
    assert.match(moved.html, /now lives in the European zone/);
    assert.match(moved.html, /<dt>Data stored in<\/dt><dd>the European zone<\/dd>/);

    // Nothing about the person is left in us, audit records included.
    const leftInUs = await rowsAbout(keygate.stores.zones.us.db, person.id);
    assert.equal(total(leftInUs), 0, JSON.stringify(leftInUs));
    // Everything arrived in eu: the same rows, and a copy of every audit record.
    const inEu = await rowsAbout(keygate.stores.zones.eu.db, person.id);
    assert.equal(inEu.people, 1);
    for (const table of ['person_keys', 'app_users', 'grants', 'consent_records', 'auth_codes', 'access_tokens', 'refresh_tokens', 'recovery_codes', 'known_devices']) {
      assert.equal(inEu[table], before[table as keyof typeof before], table);
    }
    const copies = await keygate.stores.zones.eu.db.selectFrom('audit_events').select(['origin_store', 'origin_at', 'occurred_at'])
      .where('person_id', '=', person.id).where('origin_store', '=', 'us').execute();
    assert.ok(copies.length >= before.audit_events! - 2, 'every record about the person was copied');
    assert.ok(copies.every((c) => c.origin_at! <= c.occurred_at), 'copies keep the time of the original');
    assert.equal((await keygate.services.personDirectory.findByEmail(email))?.zone, 'eu');

    // The browser that moved was given a new session; the other one keeps working.
    assert.equal((await visitor.get('/account/profile')).status, 200);
    assert.equal((await laptop.get('/account/profile')).status, 200);
    assert.match((await visitor.get('/account/activity')).html, /<strong>Move Shop<\/strong> read <em>Email<\/em>/, 'the history came along');

    // The app's token from before the move still reads, now the new country.
    const me = await client.me(accessToken);
    assert.equal(me.status, 200);
    assert.equal(me.body.user.country, 'FR');
    assert.equal(me.body.user.email, email);
    const refreshed = await client.call('POST', '/auth/v2/token/refresh', { refresh_token: refreshToken });
    assert.equal(refreshed.status, 200);
    assert.match(refreshed.body.refresh_token, /^eu\./);

    // Sign-in by email or nickname finds the person in eu; the grant needs no new consent; recovery codes still work.
    const fresh = new GatewayVisitor(keygate.http);
    await fresh.get('/account/sign-in');
    const signedIn = await fresh.post('/account/sign-in', { email: 'mover', password: SIGN_UP_JANA.password });
    assert.equal(signedIn.status, 303);
    assert.equal(await keygate.services.secondFactor.verify({ id: person.id, zone: 'eu' }, recovery[0]!, { requestId: 't' }), true);
    const again = await connectedPerson(keygate, client, email, 'FR', visitor);
    assert.equal((await client.me(again.accessToken)).body.user.firstname, 'Jana');

    // Both chains verify: us holds the redacted records and the move record, eu the copies.
    for (const zone of ['us', 'eu'] as const) assert.equal((await keygate.audit.verify(zone)).ok, true, zone);
    const redacted = await keygate.stores.zones.us.db.selectFrom('audit_events').select(['action', 'redacted_by']).where('redacted_by', 'is not', null).execute();
    assert.ok(redacted.length >= before.audit_events! && redacted.every((r) => r.action === 'redacted'));
    const outRecord = await keygate.stores.zones.us.db.selectFrom('audit_events').selectAll().where('action', '=', 'person.zone_moved_out').executeTakeFirstOrThrow();
    assert.equal(outRecord.person_id, null);
    assert.equal(outRecord.actor_id, null);
    assert.match(outRecord.purpose!, new RegExp(`^to eu; redacted ${redacted.length} records, sha256 [0-9a-f]{64}$`));
    const inRecord = await keygate.stores.zones.eu.db.selectFrom('audit_events').select('purpose').where('action', '=', 'person.zone_moved_in').where('person_id', '=', person.id).executeTakeFirstOrThrow();
    assert.match(inRecord.purpose!, /^from us; \d+ records copied$/);
    const journal = await keygate.stores.control.db.selectFrom('zone_moves').selectAll().where('person_id', '=', person.id).execute();
    assert.deepEqual(journal.map((m) => [m.from_zone, m.to_zone, m.outcome]), [['us', 'eu', 'moved']]);
  });

  it('changes only the field when the new country is in the same zone', async () => {
    const { visitor, person, accessToken } = await connectedPerson(keygate, client, 'stayer@example.cz', 'CZ');
    await visitor.get('/account/profile');
    const saved = await visitor.post('/account/country', { country: 'DE', password: SIGN_UP_JANA.password });
    assert.equal(saved.status, 200);
    assert.match(saved.html, /Country saved\./);
    assert.equal((await client.me(accessToken)).body.user.country, 'DE');
    const changed = await keygate.stores.zones.eu.db.selectFrom('audit_events').select('field')
      .where('person_id', '=', person.id).where('action', '=', 'person.field_changed').execute();
    assert.deepEqual(changed.map((c) => c.field), ['country']);
    assert.equal((await keygate.stores.control.db.selectFrom('zone_moves').select('id').where('person_id', '=', person.id).execute()).length, 0);
  });

  it('refuses an unknown country, a wrong password and a signed-out browser, and moves nothing', async () => {
    const { visitor, person } = await connectedPerson(keygate, client, 'refused@example.com', 'US');
    await visitor.get('/account/profile');
    const before = await rowsAbout(keygate.stores.zones.us.db, person.id);
    const unknown = await visitor.post('/account/country', { country: 'XX', password: SIGN_UP_JANA.password });
    assert.equal(unknown.status, 400);
    assert.match(unknown.html, /id="country-error"/);
    const wrong = await visitor.post('/account/country', { country: 'FR', password: 'not my password' });
    assert.equal(wrong.status, 403);
    assert.match(wrong.html, /This password is not right/);
    assert.equal((await visitor.post('/account/country', { country: ['FR', 'DE'], password: SIGN_UP_JANA.password })).status, 400);
    const stranger = new GatewayVisitor(keygate.http);
    await stranger.get('/account/sign-in');
    assert.equal((await stranger.post('/account/country', { country: 'FR', password: SIGN_UP_JANA.password })).status, 303);
    const after = await rowsAbout(keygate.stores.zones.us.db, person.id);
    assert.equal(after.people, 1);
    assert.equal(total(await rowsAbout(keygate.stores.zones.eu.db, person.id)), 0);
    assert.equal(after.grants, before.grants);
  });
});

describe('a zone move interrupted, and a redaction outside a move', () => {
  let keygate: TestKeygate;
  let client: Ukey1ServerClient;
  let fault: 'before' | 'after' | null = null;

  before(async () => {
    keygate = await startTestKeygate({
      zoneMoveFaults: {
        beforeDestinationCommit: () => { if (fault === 'before') throw new Error('the node died before the new zone committed'); },
        afterDestinationCommit: () => { if (fault === 'after') throw new Error('the node died between the two commits'); },
      },
    });
    client = await setUp(keygate);
  });
  after(() => keygate.close());

  const move = (person: PersonRef, country: string) => keygate.services.zoneMoves.changeCountry(person, country, { requestId: 'fault' });

  it('leaves everything as it was when the move fails before the new zone commits', async () => {
    const { person, accessToken } = await connectedPerson(keygate, client, 'early@example.com', 'US');
    const before = await rowsAbout(keygate.stores.zones.us.db, person.id);
    fault = 'before';
    await assert.rejects(move(person, 'FR'), /before the new zone committed/);
    fault = null;
    assert.deepEqual(await rowsAbout(keygate.stores.zones.us.db, person.id), before);
    assert.equal(total(await rowsAbout(keygate.stores.zones.eu.db, person.id)), 0);
    assert.equal((await client.me(accessToken)).status, 200);
    const journal = await keygate.stores.control.db.selectFrom('zone_moves').select('outcome').where('person_id', '=', person.id).execute();
    assert.deepEqual(journal.map((m) => m.outcome), ['abandoned']);
    for (const zone of ['us', 'eu'] as const) assert.equal((await keygate.audit.verify(zone)).ok, true, zone);
  });

  it('finishes a move whose old zone never committed, once it is old enough', async () => {
    const { person, accessToken } = await connectedPerson(keygate, client, 'halfway@example.com', 'US');
    fault = 'after';
    await assert.rejects(move(person, 'FR'), /between the two commits/);
    fault = null;
    // Committed in eu, still in us: the journal says the move is open.
    assert.equal((await rowsAbout(keygate.stores.zones.eu.db, person.id)).people, 1);
    assert.equal((await rowsAbout(keygate.stores.zones.us.db, person.id)).people, 1);
    assert.equal(await keygate.services.zoneMoves.finishInterrupted(), 0, 'a move this young may still be running elsewhere');
    keygate.clock.advance(120);
    assert.equal(await keygate.services.zoneMoves.finishInterrupted(), 1);
    assert.equal(total(await rowsAbout(keygate.stores.zones.us.db, person.id)), 0);
    assert.equal((await client.me(accessToken)).body.user.country, 'FR');
    for (const zone of ['us', 'eu'] as const) assert.equal((await keygate.audit.verify(zone)).ok, true, zone);
    const journal = await keygate.stores.control.db.selectFrom('zone_moves').select('outcome').where('person_id', '=', person.id).execute();
    assert.deepEqual(journal.map((m) => m.outcome), ['moved']);
  });

  it('detects a record redacted outside a move; the guard still refuses edits and deletions', async () => {
    const { person } = await connectedPerson(keygate, client, 'witness@example.com', 'US');
    const db = keygate.stores.zones.us.db;
    const [victim, later] = await db.selectFrom('audit_events').select('id').where('person_id', '=', person.id).orderBy('id').limit(2).execute();
    const redact = (id: string, by: string) => db.transaction().execute(async (trx) => {
      await sql`select set_config('keygate.audit_redaction', 'on', true)`.execute(trx);
      await sql`update audit_events set person_id = null, action = 'redacted', field = null, actor_kind = 'system', actor_id = null, app_id = null,
        purpose = null, request_id = null, redacted_by = ${by}::bigint where id = ${id}::bigint`.execute(trx);
    });
    await redact(String(victim!.id), String(later!.id));
    const report = await keygate.audit.verify('us');
    assert.equal(report.ok, false);
    assert.equal(report.failure?.kind, 'edited');
    assert.equal(report.failure?.id, String(victim!.id));
    // Outside a move, the guard still refuses edits and deletions.
    await assert.rejects(sql`update audit_events set action = 'x' where id = ${later!.id}::bigint`.execute(db), /append-only/);
    await assert.rejects(sql`delete from audit_events where id = ${later!.id}::bigint`.execute(db), /append-only/);
  });
});

describe('a zone move record commits to exactly what it redacted', () => {
  let keygate: TestKeygate;
  before(async () => { keygate = await startTestKeygate(); });
  after(() => keygate.close());

  it('detects a record redacted in the name of a move that did not redact it', async () => {
    const client = await setUp(keygate);
    const bystander = await connectedPerson(keygate, client, 'bystander@example.com', 'US');
    const mover = await connectedPerson(keygate, client, 'covered@example.com', 'US');
    await keygate.services.zoneMoves.changeCountry(mover.person, 'FR', { requestId: 't' });
    const db = keygate.stores.zones.us.db;
    assert.equal((await keygate.audit.verify('us')).ok, true);
    const move = await db.selectFrom('audit_events').select('id').where('action', '=', 'person.zone_moved_out').executeTakeFirstOrThrow();
    const victim = await db.selectFrom('audit_events').select('id').where('person_id', '=', bystander.person.id).orderBy('id').executeTakeFirstOrThrow();
    await db.transaction().execute(async (trx) => {
      await sql`select set_config('keygate.audit_redaction', 'on', true)`.execute(trx);
      await sql`update audit_events set person_id = null, action = 'redacted', field = null, actor_kind = 'system', actor_id = null, app_id = null,
        purpose = null, request_id = null, redacted_by = ${move.id}::bigint where id = ${victim.id}::bigint`.execute(trx);
    });
    const report = await keygate.audit.verify('us');
    assert.equal(report.failure?.kind, 'edited');
    assert.equal(report.failure?.id, String(victim.id));
    assert.match(report.failure!.message, /does not commit to the records redacted in its name/);
  });
});
