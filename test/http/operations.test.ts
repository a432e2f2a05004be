import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

describe('health endpoints', () => {
  it('reports liveness, and readiness per store with 503 naming the one that is down', async () => {
    const keygate = await startTestKeygate();
    try {
      const live = await keygate.http.inject({ method: 'GET', url: '/healthz' });
      assert.equal(live.statusCode, 200);
      const ready = await keygate.http.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(ready.json().checks, keygate.redis
        ? { control: 'ok', eu: 'ok', us: 'ok', redis: 'ok' }
        : { control: 'ok', eu: 'ok', us: 'ok' });
      await keygate.stores.zones.us.db.destroy();
      const notReady = await keygate.http.inject({ method: 'GET', url: '/readyz' });
      assert.equal(notReady.statusCode, 503);
      assert.equal(notReady.json().checks.eu, 'ok');
      assert.match(notReady.json().checks.us, /^unavailable/);
    } finally {
      await keygate.close().catch(() => {});
    }
  });
});

describe('brute-force protection of password sign-in', () => {
  let keygate: TestKeygate;
  let connectId: string;

  before(async () => {
    keygate = await startTestKeygate();
    const { appId, secretKey } = await keygate.services.apps.createApp({ name: 'Throttled', origins: ['https://t.example.org'], returnUrls: ['https://t.example.org/back'] });
    const client = new Ukey1ServerClient(keygate.http, appId, secretKey, 'https://t.example.org');
    connectId = connectIdOf((await client.connect({ request_id: 't', scope: [], return_url: 'https://t.example.org/back' })).body.gateway);
    for (const email of ['victim@example.cz', 'bystander@example.cz']) {
      const signUp = await new GatewayVisitor(keygate.http).signUp(`/gateway/${connectId}`, { ...SIGN_UP_JANA, email }, keygate.outbox);
      assert.equal(signUp.status, 303);
    }
  });
  after(() => keygate.close());

  // Each attempt comes from a fresh browser (its own CSRF cookie) at the given address.
  const signIn = async (email: string, password: string, remoteAddress: string) => {
    const page = await keygate.http.inject({ method: 'GET', url: `/gateway/${connectId}`, remoteAddress });
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    return keygate.http.inject({
      method: 'POST',
      url: `/gateway/${connectId}/sign-in`,
      remoteAddress,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      payload: new URLSearchParams({ email, password, _csrf: csrf }).toString(),
    });
  };

  it('refuses the 11th wrong password for one account within a minute, even from rotating addresses, and leaves other accounts alone', async () => {
    for (let i = 1; i <= 10; i++) {
      const attempt = await signIn('victim@example.cz', `wrong password ${i}`, `203.0.113.${i}`);
      assert.equal(attempt.statusCode, 401, `attempt ${i}`);
    }
    const eleventh = await signIn('Victim@Example.cz', 'wrong password 11', '198.51.100.7');
    assert.equal(eleventh.statusCode, 429);
    assert.ok(Number(eleventh.headers['retry-after']) >= 1);
    assert.match(eleventh.body, /Too many attempts/);
    // Even the right password waits: the account is locked for the window, not the guesser.
    assert.equal((await signIn('victim@example.cz', SIGN_UP_JANA.password, '198.51.100.8')).statusCode, 429);
    assert.equal((await signIn('bystander@example.cz', SIGN_UP_JANA.password, '203.0.113.1')).statusCode, 303);
  });

  it('never locks anyone out for an ordinary typo or two', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await signIn('bystander@example.cz', 'typo', '192.0.2.1')).statusCode, 401);
    assert.equal((await signIn('bystander@example.cz', SIGN_UP_JANA.password, '192.0.2.1')).statusCode, 303);
  });
});

describe('retention of expired records', () => {
  it('deletes connect requests, codes, challenges, sessions and tokens once expired, and keeps what is still live', async () => {
    const keygate = await startTestKeygate();
    try {
      const { appId, secretKey } = await keygate.services.apps.createApp({ name: 'Retention', origins: ['https://r.example.org'], returnUrls: ['https://r.example.org/back'] });
      const client = new Ukey1ServerClient(keygate.http, appId, secretKey, 'https://r.example.org');
      const connect = await client.connect({ request_id: 'old', scope: ['firstname'], return_url: 'https://r.example.org/back' });
      const visitor = new GatewayVisitor(keygate.http);
      await visitor.signUp(`/gateway/${connectIdOf(connect.body.gateway)}`, { ...SIGN_UP_JANA, email: 'retention@example.cz' }, keygate.outbox);
      const decided = await visitor.post(`/gateway/${connectIdOf(connect.body.gateway)}/consent`, { decision: 'allow', fields: 'firstname' });
      const code = new URL(decided.location!).searchParams.get('_ukey1[code]')!;
      assert.equal((await client.token({ request_id: 'old', connect_id: connectIdOf(connect.body.gateway), auth_code: code })).status, 200);

      // A reset link nobody followed: its challenge outlives nothing it was for.
      const person = (await keygate.services.personDirectory.findByEmail('retention@example.cz'))!;
      await keygate.services.challenges.create(person, 'reset', { ttlSeconds: 1800, withCode: false });
      // A sign-in somebody started and never finished: its flow goes once it has expired.
      const starter = new GatewayVisitor(keygate.http);
      await starter.get('/account/email-code');
      assert.equal((await starter.post('/account/email-code', { email: 'nobody@example.cz' })).status, 200);
      assert.deepEqual(await keygate.purgeExpired(), { connects: 0, signInFlows: 0, ownerInvitations: 0, clientAssertions: 0, codes: 0, sessions: 0, accessTokens: 0, refreshTokens: 0, challenges: 0, zoneMovesFinished: 0 });
      keygate.clock.advance(2 * 24 * 3600);
      const fresh = await client.connect({ request_id: 'new', scope: [], return_url: 'https://r.example.org/back' });
      const purged = await keygate.purgeExpired();
      assert.deepEqual(purged, { connects: 1, signInFlows: 1, ownerInvitations: 0, clientAssertions: 0, codes: 1, sessions: 1, accessTokens: 1, refreshTokens: 0, challenges: 1, zoneMovesFinished: 0 });
      const left = await keygate.stores.control.db.selectFrom('connect_requests').select('id').execute();
      assert.deepEqual(left.map((r) => r.id), [fresh.body.connect_id]);
      const eu = keygate.stores.zones.eu.db;
      assert.equal((await eu.selectFrom('grants').select('person_id').execute()).length, 1, 'consents stay');
      assert.ok((await eu.selectFrom('audit_events').select('id').execute()).length > 0, 'the audit trail stays');
    } finally {
      await keygate.close();
    }
  });
});
