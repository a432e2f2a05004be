import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/logger.js';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://logs.example.org';
const CLIENT_ADDRESS = '203.0.113.77';

describe('what the server logs, and how long a refusal takes', () => {
  let keygate: TestKeygate;
  let client: Ukey1ServerClient;
  let logged = '';

  before(async () => {
    const sink = new Writable({ write(chunk, _encoding, done) { logged += chunk.toString(); done(); } });
    keygate = await startTestKeygate({ logger: createLogger('trace', sink) });
    const app = await keygate.services.apps.createApp({ name: 'Logged', origins: [ORIGIN], returnUrls: [`${ORIGIN}/back`] });
    client = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
  });
  after(() => keygate.close());

  /** A browser at CLIENT_ADDRESS. */
  const visitor = () => new GatewayVisitor(async (method, url, headers, payload) => {
    const response = await keygate.http.inject({ method, url, headers, payload, remoteAddress: CLIENT_ADDRESS });
    return { status: response.statusCode, body: response.body, headers: response.headers };
  });

  it('logs no email, name, address, password, code or token of anyone, whatever they do', async () => {
    const person = { ...SIGN_UP_JANA, email: 'log.subject@example.cz', firstname: 'Radoslava', surname: 'Kopřivová' };
    const connect = await client.connect({ request_id: 'log', scope: ['firstname', 'email'], return_url: `${ORIGIN}/back` });
    const base = `/gateway/${connectIdOf(connect.body.gateway)}`;
    const browser = visitor();
    await browser.signUp(base, person, keygate.outbox);
    const decided = await browser.post(`${base}/consent`, { decision: 'allow', fields: ['firstname', 'email'] });
    const code = new URL(decided.location!).searchParams.get('_ukey1[code]')!;
    const token = await client.token({ request_id: 'log', connect_id: connect.body.connect_id, auth_code: code });
    await client.me(token.body.access_token);
    const next = `/gateway/${(await client.connect({ request_id: 'log2', scope: [], return_url: `${ORIGIN}/back` })).body.connect_id}`;
    assert.equal((await visitor().post(`${next}/sign-in`, { email: person.email, password: 'a wrong password here' })).status, 401);
    assert.equal((await visitor().post(`${next}/forgot`, { email: person.email })).status, 200);
    const link = await keygate.outbox.link(person.email, '/reset/');
    await visitor().get(new URL(link).pathname);
    assert.equal((await visitor().post(`${next}/email-code`, { email: person.email })).status, 200);
    await keygate.outbox.code(person.email);
    await client.call('GET', '/auth/v2/me', undefined, 'not-a-token');

    assert.ok(logged.includes('incoming request'), 'requests are logged');
    for (const secret of [person.email, person.firstname, person.surname, 'Kop\\u0159ivov', CLIENT_ADDRESS, person.password, 'a wrong password here',
      code, token.body.access_token, token.body.refresh_token, new URL(link).pathname.split('/').pop()!]) {
      assert.ok(!logged.includes(secret), `the log contains ${secret.slice(0, 12)}…`);
    }
  });

  it('takes as long to refuse an unknown email as a wrong password (medians within 25 %)', async () => {
    const accounts = Array.from({ length: 12 }, (_, i) => `timing-${i}@example.cz`);
    for (const email of accounts) {
      const made = await keygate.services.people.signUp({ ...SIGN_UP_JANA, email }, {}, { emailVerified: true });
      assert.ok(made.ok);
    }
    const connect = await client.connect({ request_id: 't', scope: [], return_url: `${ORIGIN}/back` });
    const base = `/gateway/${connectIdOf(connect.body.gateway)}`;
    const page = await keygate.http.inject({ method: 'GET', url: base });
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const attempt = async (email: string, n: number) => {
      const started = performance.now();
      const response = await keygate.http.inject({
        method: 'POST', url: `${base}/sign-in`, remoteAddress: `198.51.100.${n % 250}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        payload: new URLSearchParams({ email, password: `wrong password ${n}`, _csrf: csrf }).toString(),
      });
      assert.equal(response.statusCode, 401);
      return performance.now() - started;
    };
    const existing: number[] = [];
    const unknown: number[] = [];
    // Interleaved, so that the machine's noise falls on both alike; six tries per account stay under its limit.
    for (let n = 0; n < 72; n++) {
      existing.push(await attempt(accounts[n % accounts.length]!, n));
      unknown.push(await attempt(`nobody-${n}@example.cz`, n));
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const ratio = median(existing) / median(unknown);
    console.log(`sign-in refusal, median existing / unknown: ${ratio.toFixed(3)} (${median(existing).toFixed(1)} ms / ${median(unknown).toFixed(1)} ms)`);
    assert.ok(ratio > 0.75 && ratio < 1.25, `medians differ by more than 25 %: ${ratio.toFixed(3)}`);

    // Each refusal of an unknown identifier is a recorded transaction too (that is what keeps
    // the timing even), in the control plane, naming no identifier.
    const recorded = await keygate.stores.control.db.selectFrom('audit_events').selectAll()
      .where('action', '=', 'sign_in.unknown_identifier').execute();
    assert.equal(recorded.length, unknown.length);
    assert.ok(recorded.every((row) => row.app_id === null && row.actor_kind === 'system' && row.request_id !== null));
    assert.ok(!JSON.stringify(recorded).includes('nobody-'));
  });
});
