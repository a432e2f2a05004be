import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectIdOf, GatewayVisitor, overHttp, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { Outbox } from '../support/mailbox.js';
import { keygateCli, startNode, type KeygateNode } from '../support/node-process.js';
import { freePort } from '../support/ports.js';
import { hasSample, parseExposition, sampleSum, type Sample } from '../support/prometheus-text.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';
import { startMetricsListener } from '../../src/observability/metrics-listener.js';

const ORIGIN = 'https://metrics.example.org';
const RETURN_URL = `${ORIGIN}/back`;
/** Where every request of the test says it comes from (through a trusted proxy): it must appear in no metric. */
const CLIENT_ADDRESS = '203.0.113.45';
const PERSON = { ...SIGN_UP_JANA, email: 'metrika.osoba@example.cz', firstname: 'Bohumila', surname: 'Přikrylová' };

/** Whether something listens on `host:port` (a refused connection: no). */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

describe('Prometheus metrics of keygate serve', () => {
  let dataDir: string;
  let node: KeygateNode;
  let metricsPort: number;
  let appId: string;
  /** Every value the test person or their app is known by, and every code and token they were given. */
  const personal: string[] = [PERSON.email, PERSON.firstname, PERSON.surname, CLIENT_ADDRESS];
  let samples: Sample[];
  let exposition: string;

  const scrape = async () => {
    const answer = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers.get('content-type')), /^text\/plain; version=0\.0\.4/);
    const text = await answer.text();
    return { text, samples: parseExposition(text) };
  };

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'keygate-metrics-'));
    const env = { KEYGATE_DATA_DIR: dataDir, KEYGATE_TRUSTED_PROXIES: '127.0.0.1' };
    const created = keygateCli(['app', 'create', '--name', 'Metrics', '--origin', ORIGIN, '--return-url', RETURN_URL, '--json'], env);
    assert.equal(created.status, 0, created.stderr);
    const app = JSON.parse(created.stdout);
    appId = app.appId;
    personal.push(appId);
    const port = await freePort();
    do metricsPort = await freePort(); while (metricsPort === port);
    node = await startNode({ ...env, KEYGATE_PUBLIC_URL: `http://localhost:${port}`, KEYGATE_METRICS_PORT: String(metricsPort) }, port);

    const proxied = overHttp(() => node.url);
    const browser = () => new GatewayVisitor((method, url, headers, payload) => proxied(method, url, { ...headers, 'x-forwarded-for': CLIENT_ADDRESS }, payload));
    const client = new Ukey1ServerClient(() => node.url, appId, app.secretKey, ORIGIN);
    const outbox = new Outbox(dataDir);

    // Signs up (an emailed code proves the address), allows, and the app trades the code for tokens.
    const connect = await client.connect({ request_id: 'metrics-1', scope: ['firstname', 'email'], return_url: RETURN_URL });
    assert.equal(connect.status, 201);
    const connectId = connectIdOf(connect.body.gateway);
    personal.push(connectId);
    const person = browser();
    assert.equal((await person.signUp(`/gateway/${connectId}`, PERSON, outbox)).status, 303);
    const decided = await person.post(`/gateway/${connectId}/consent`, { decision: 'allow', fields: ['firstname', 'email'] });
    const code = new URL(decided.location!).searchParams.get('_ukey1[code]')!;
    personal.push(code);
    const exchange = { request_id: 'metrics-1', connect_id: connectId, auth_code: code };
    const token = await client.token(exchange);
    assert.equal(token.status, 200);
    personal.push(token.body.access_token, token.body.refresh_token);
    const me = await client.me(token.body.access_token);
    assert.equal(me.status, 200);
    personal.push(me.body.user.id);
    // The code again: refused, and every token it gave is revoked, so the token is refused too.
    assert.equal((await client.token(exchange)).status, 400);
    assert.equal((await client.me(token.body.access_token)).status, 401);

    // Signs in again on another request: a wrong password, then the right one.
    const again = connectIdOf((await client.connect({ request_id: 'metrics-2', scope: [], return_url: RETURN_URL })).body.gateway);
    personal.push(again);
    const returning = browser();
    assert.equal((await returning.post(`/gateway/${again}/sign-in`, { email: PERSON.email, password: 'not the password' })).status, 401);
    assert.equal((await returning.post(`/gateway/${again}/sign-in`, { email: PERSON.email, password: PERSON.password })).status, 303);

    // Metrics are no page of the public listener.
    assert.equal((await fetch(`${node.url}/metrics`)).status, 404);

    const exported = keygateCli(['person', 'export', '--email', PERSON.email], env);
    assert.equal(exported.status, 0, exported.stderr);
    const ids = [...exported.stdout.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)].map((m) => m[0]);
    assert.ok(ids.length > 0, 'the export names the person by id');
    personal.push(...ids);

    ({ text: exposition, samples } = await scrape());
  });

  after(async () => {
    if (node && node.process.exitCode === null) {
      node.process.kill('SIGTERM');
      await node.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves /metrics on its own port, bound to loopback only, and never on the public port', async () => {
    assert.match(node.output(), new RegExp(`metrics are served at http://127\\.0\\.0\\.1:${metricsPort}/metrics`));
    const publicAnswer = await fetch(`${node.url}/metrics`);
    assert.equal(publicAnswer.status, 404);
    assert.doesNotMatch(await publicAnswer.text(), /keygate_|process_cpu/);
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'POST' })).status, 405);

    // Another loopback address reaches a listener bound to every address, not one bound to 127.0.0.1.
    const everywhere = net.createServer().listen(0, '0.0.0.0');
    await new Promise((resolve) => everywhere.once('listening', resolve));
    try {
      assert.ok(await reachable('127.0.0.2', (everywhere.address() as net.AddressInfo).port), 'this machine routes 127.0.0.2 to loopback');
    } finally {
      everywhere.close();
    }
    assert.equal(await reachable('127.0.0.2', metricsPort), false, 'the metrics listener is bound to 127.0.0.1 alone');
    assert.equal(await reachable('127.0.0.1', metricsPort), true);
  });

  it('counts HTTP answers by route template and status class, with their latency', () => {
    assert.ok(sampleSum(samples, 'keygate_http_requests_total', { route: '/auth/v2/token', method: 'POST', status_class: '2xx' }) === 1);
    assert.ok(sampleSum(samples, 'keygate_http_requests_total', { route: '/auth/v2/token', method: 'POST', status_class: '4xx' }) === 1);
    assert.equal(sampleSum(samples, 'keygate_http_requests_total', { route: '/gateway/:connectId/sign-in', method: 'POST', status_class: '4xx' }), 1);
    assert.equal(sampleSum(samples, 'keygate_http_requests_total', { route: '/gateway/:connectId/sign-in', method: 'POST', status_class: '3xx' }), 1);
    assert.ok(sampleSum(samples, 'keygate_http_requests_total', { route: 'unmatched', status_class: '4xx' }) >= 1, 'the public /metrics 404');
    assert.equal(sampleSum(samples, 'keygate_http_request_duration_seconds_count', { route: '/auth/v2/me', method: 'GET' }), 2);
    assert.ok(sampleSum(samples, 'keygate_http_request_duration_seconds_sum', { route: '/gateway/:connectId/sign-in' }) > 0);
    assert.ok(hasSample(samples, 'keygate_http_request_duration_seconds_bucket', { route: '/auth/v2/token', le: '+Inf' }));
    for (const sample of samples.filter((s) => s.name === 'keygate_http_requests_total')) {
      assert.match(sample.labels.route!, /^(\/[a-zA-Z0-9:*._-]*)+$|^unmatched$/, 'a template, never a URL');
    }
  });

  it('counts sign-ins by method and outcome', () => {
    assert.equal(sampleSum(samples, 'keygate_sign_in_attempts_total', { method: 'email_code', outcome: 'proved' }), 1);
    assert.equal(sampleSum(samples, 'keygate_sign_in_attempts_total', { method: 'password', outcome: 'failed' }), 1);
    assert.equal(sampleSum(samples, 'keygate_sign_in_attempts_total', { method: 'password', outcome: 'proved' }), 1);
    assert.equal(sampleSum(samples, 'keygate_sign_in_attempts_total', { outcome: 'throttled' }), 0);
  });

  it('counts codes and tokens issued, refused and revoked, by protocol', () => {
    assert.equal(sampleSum(samples, 'keygate_codes_issued_total', { protocol: 'ukey1' }), 1);
    assert.equal(sampleSum(samples, 'keygate_tokens_issued_total', { protocol: 'ukey1', grant: 'authorization_code' }), 1);
    assert.equal(sampleSum(samples, 'keygate_codes_refused_total', { protocol: 'ukey1', reason: 'code_already_used' }), 1);
    assert.equal(sampleSum(samples, 'keygate_token_revocations_total', { protocol: 'ukey1', reason: 'code_replayed' }), 1);
    assert.equal(sampleSum(samples, 'keygate_tokens_refused_total', { protocol: 'ukey1', reason: 'invalid_token' }), 1);
  });

  it('reports mail, the stores, their audit chains and the process', () => {
    assert.ok(sampleSum(samples, 'keygate_mail_messages_total', { transport: 'outbox', outcome: 'sent' }) >= 1);
    assert.equal(sampleSum(samples, 'keygate_mail_messages_total', { outcome: 'failed' }), 0);
    for (const store of ['control', 'eu', 'us']) {
      assert.equal(sampleSum(samples, 'keygate_store_pool_size', { store }), 1, `${store}: the embedded store is one connection`);
      assert.ok(hasSample(samples, 'keygate_store_connections', { store, state: 'waiting' }), store);
      assert.ok(hasSample(samples, 'keygate_audit_chain_lock_waiters', { store }), store);
    }
    assert.ok(sampleSum(samples, 'keygate_audit_records', { store: 'control' }) >= 1, 'the app was created');
    assert.ok(sampleSum(samples, 'keygate_audit_records', { store: 'eu' }) >= 5, 'sign-up, consent, code, token, reads');
    assert.equal(sampleSum(samples, 'keygate_audit_records', { store: 'us' }), 0);
    assert.ok(hasSample(samples, 'process_cpu_user_seconds_total'));
    assert.ok(hasSample(samples, 'nodejs_eventloop_lag_seconds'));
    assert.ok(hasSample(samples, 'nodejs_heap_size_used_bytes'));
    const unknown = samples.filter((s) => s.name.startsWith('keygate_') && !Number.isFinite(s.value) && s.labels.le !== '+Inf');
    assert.deepEqual(unknown, [], 'every value of ours is a number');
    // No Redis is configured here: nothing claims it is up or down.
    assert.equal(hasSample(samples, 'keygate_redis_up'), false);
  });

  it('holds no email, name, address, code, token or id of a person or an app, anywhere in the text', () => {
    assert.ok(personal.length >= 12);
    for (const value of personal) {
      assert.ok(value.length >= 4, value);
      assert.ok(!exposition.includes(value), `the exposition contains ${value}`);
      assert.ok(!exposition.toLowerCase().includes(value.toLowerCase()), `the exposition contains ${value} in another case`);
    }
    assert.doesNotMatch(exposition, /@/, 'no address of any kind');
    assert.doesNotMatch(exposition, /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i, 'no id at all');
  });

  it('keeps counting between scrapes', async () => {
    const before = sampleSum((await scrape()).samples, 'keygate_http_requests_total', { route: '/healthz' });
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${node.url}/healthz`)).status, 200);
    assert.equal(sampleSum((await scrape()).samples, 'keygate_http_requests_total', { route: '/healthz' }), before + 3);
  });
});

describe('the metrics listener', () => {
  it('refuses to start on a port that is taken, naming the variable', async () => {
    const taken = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => taken.once('listening', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      await assert.rejects(
        startMetricsListener({ contentType: 'text/plain', text: async () => '' }, { host: '127.0.0.1', port }),
        new RegExp(`^MetricsListenError: KEYGATE_METRICS_PORT: cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)$`),
      );
    } finally {
      taken.close();
    }
  });
});
