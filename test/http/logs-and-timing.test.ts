import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/logger.js';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { sleep } from '../support/services.js';
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

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

  /** A gateway page's forms, posted with its cookie and CSRF token from the n-th of many addresses, timed. */
  async function gatewayForm() {
    const connect = await client.connect({ request_id: 't', scope: [], return_url: `${ORIGIN}/back` });
    const base = `/gateway/${connectIdOf(connect.body.gateway)}`;
    const page = await keygate.http.inject({ method: 'GET', url: base });
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    return {
      async post(action: string, fields: Record<string, string>, n: number) {
        const started = performance.now();
        const response = await keygate.http.inject({
          method: 'POST', url: `${base}/${action}`, remoteAddress: `198.51.${100 + Math.floor(n / 250)}.${n % 250}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
          payload: new URLSearchParams({ ...fields, _csrf: csrf }).toString(),
        });
        return { status: response.statusCode, body: response.body, ms: performance.now() - started };
      },
    };
  }

  /** A browser at CLIENT_ADDRESS. */
  const visitor = () => new GatewayVisitor(async (method, url, headers, payload) => {
    const response = await keygate.http.inject({ method, url, headers, payload, remoteAddress: CLIENT_ADDRESS });
    return { status: response.statusCode, body: response.body, headers: response.headers };
  });

  it('logs no capability link: a picture link is a path like a reset link, and both are redacted', async () => {
    const email = 'log.picture@example.cz';
    const connect = await client.connect({ request_id: 'pic', scope: ['image'], return_url: `${ORIGIN}/back` });
    const base = `/gateway/${connectIdOf(connect.body.gateway)}`;
    const browser = visitor();
    await browser.signUp(base, { ...SIGN_UP_JANA, email }, keygate.outbox);
    const person = (await keygate.services.personDirectory.findByEmail(email))!;
    const picture = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#00a' } }).png().toBuffer();
    await keygate.services.images.setImage(person, picture, { requestId: 't' });
    const decided = await browser.post(`${base}/consent`, { decision: 'allow', fields: ['image'] });
    const code = new URL(decided.location!).searchParams.get('_ukey1[code]')!;
    const token = await client.token({ request_id: 'pic', connect_id: connect.body.connect_id, auth_code: code });
    const link = new URL((await client.me(token.body.access_token)).body.user.image as string);
    assert.equal((await keygate.http.inject({ method: 'GET', url: link.pathname })).statusCode, 200);
    const secret = link.pathname.split('/').pop()!;
    assert.ok(logged.includes('/images/[redacted]'), 'the fetch is logged');
    assert.ok(!logged.includes(secret.slice(0, 24)), 'without its token');
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
    const form = await gatewayForm();
    const attempt = async (email: string, n: number) => {
      const { status, ms } = await form.post('sign-in', { email, password: `wrong password ${n}` }, n);
      assert.equal(status, 401);
      return ms;
    };
    const existing: number[] = [];
    const unknown: number[] = [];
    // Interleaved, so that the machine's noise falls on both alike; six tries per account stay under its limit.
    for (let n = 0; n < 72; n++) {
      existing.push(await attempt(accounts[n % accounts.length]!, n));
      unknown.push(await attempt(`nobody-${n}@example.cz`, n));
    }
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

  it('answers a request for a sign-in code or a reset link before it looks the address up', async () => {
    const known = 'lookup-held@example.cz';
    assert.ok((await keygate.services.people.signUp({ ...SIGN_UP_JANA, email: known }, {}, { emailVerified: true })).ok);
    const form = await gatewayForm();
    // Hold every lookup of an email or nickname until both answers are in: an answer that
    // waited for the lookup (and so could depend on it) would never come.
    const people = keygate.services.personDirectory;
    const lookup = people.findByIdentifier.bind(people);
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    let lookups = 0;
    people.findByIdentifier = async (identifier) => { lookups++; await held; return lookup(identifier); };
    try {
      for (const action of ['email-code', 'forgot']) {
        const within = (answer: Promise<{ status: number; body: string }>) => Promise.race([answer, sleep(3000).then(() => null)]);
        const forKnown = await within(form.post(action, { email: known }, 1));
        const forNobody = await within(form.post(action, { email: 'nobody-held@example.cz' }, 2));
        assert.ok(forKnown && forNobody, `${action}: an answer waited for the lookup`);
        assert.equal(forKnown.status, 200);
        assert.equal(forKnown.body, forNobody.body, `${action}: the page tells the two apart`);
      }
    } finally {
      release();
      await keygate.mailSettled();
      people.findByIdentifier = lookup;
    }
    assert.equal(lookups, 4, 'each request looked its address up, after its answer');
    assert.match(await keygate.outbox.code(known), /^\d{6}$/);
    assert.match(await keygate.outbox.link(known, '/reset/'), /\/reset\//);

    // What each request left in the trails: the unknown address in the control plane (without
    // the address), the known one in its owner's zone.
    const control = await keygate.stores.control.db.selectFrom('audit_events').select(['action', 'detail'])
      .where('action', 'in', ['sign_in_code.unknown_identifier', 'password_reset.unknown_identifier']).execute();
    assert.deepEqual(control.map((r) => r.action).sort(), ['password_reset.unknown_identifier', 'sign_in_code.unknown_identifier']);
    assert.ok(!JSON.stringify(control).includes('nobody'));
    const owner = await people.findByEmail(known);
    assert.equal(owner?.zone, 'eu');
    const trail = await keygate.stores.zones.eu.db.selectFrom('audit_events').select('action')
      .where('person_id', '=', owner!.id).where('action', 'like', 'person.%').orderBy('id').execute();
    assert.deepEqual(trail.map((r) => r.action).sort(), ['person.reset_link_sent', 'person.sign_in_code_sent', 'person.signed_up']);
  });

  it('takes as long to start a sign-up with a taken address as with a new one (medians within 25 %)', async () => {
    // At most five sign-ups per address stay under the per-address mail limit.
    const accounts = Array.from({ length: 8 }, (_, i) => `sign-up-timing-${i}@example.cz`);
    for (const email of accounts) assert.ok((await keygate.services.people.signUp({ ...SIGN_UP_JANA, email }, {}, { emailVerified: true })).ok);
    const form = await gatewayForm();
    const fields = (email: string) => ({ ...SIGN_UP_JANA, email, password: 'a long and unusual passphrase 4 timing' });
    const taken: number[] = [];
    const fresh: number[] = [];
    for (let i = 0; i < 32; i++) {
      // Each kind goes first in turn (so each follows the other as often), and the mail sent
      // after an answer goes before the next request starts.
      const pair = [{ into: taken, email: accounts[i % accounts.length]! }, { into: fresh, email: `new-${i}@example.cz` }];
      const answers: string[] = [];
      for (const { into, email } of i % 2 === 0 ? pair : pair.reverse()) {
        const answer = await form.post('sign-up', fields(email), 1000 + 2 * i + answers.length);
        await keygate.mailSettled();
        assert.equal(answer.status, 200);
        answers.push(answer.body);
        into.push(answer.ms);
      }
      assert.equal(answers[0], answers[1], 'the page tells the two apart');
    }
    // Each pair ran back to back, so their ratio cancels the load that drifts through a run
    // (other test files share the machine); the median of those ratios is the comparison.
    const ratio = median(taken.map((ms, i) => ms / fresh[i]!));
    console.log(`sign-up, median of paired taken / new: ${ratio.toFixed(3)} (medians ${median(taken).toFixed(1)} ms / ${median(fresh).toFixed(1)} ms)`);
    assert.ok(ratio > 0.75 && ratio < 1.25, `medians differ by more than 25 %: ${ratio.toFixed(3)}`);
    const attempts = await keygate.stores.zones.eu.db.selectFrom('audit_events').select('person_id')
      .where('action', '=', 'person.sign_up_attempted').execute();
    assert.equal(attempts.length, 32);
  });
});
