import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { createDeployment } from '../support/cluster.js';
import { keygateCli, startNode, type KeygateNode } from '../support/node-process.js';
import { freePort } from '../support/ports.js';
import { parseExposition, sampleSum } from '../support/prometheus-text.js';

const REQUESTS = 20;

/** A GET on a connection of its own, so that the cluster hands each request to the next worker. */
function getOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false, headers: { connection: 'close' } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode!));
    }).on('error', reject);
  });
}

describe('metrics of keygate serve with several workers', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it('serves, from the primary, the sum of what every worker counted', async () => {
    const deployment = await createDeployment();
    cleanups.push(deployment.drop);
    assert.equal(keygateCli(['migrate'], deployment.env).status, 0);
    const created = keygateCli(['app', 'create', '--name', 'Workers', '--return-url', 'https://w.example.org/back', '--json'], deployment.env);
    assert.equal(created.status, 0, created.stderr);
    const port = await freePort();
    let metricsPort: number;
    do metricsPort = await freePort(); while (metricsPort === port);
    const node: KeygateNode = await startNode({ ...deployment.env, KEYGATE_WORKERS: '2', KEYGATE_METRICS_PORT: String(metricsPort) }, port);
    cleanups.push(async () => { node.process.kill('SIGTERM'); await node.exited; });
    assert.match(node.output(), /with 2 workers/);
    assert.match(node.output(), new RegExp(`metrics are served at http://127\\.0\\.0\\.1:${metricsPort}/metrics`));

    // Connections go to the workers in turn: each served half of these.
    for (let i = 0; i < REQUESTS; i++) assert.equal(await getOnNewConnection(`${node.url}/healthz`), 200);
    assert.equal(await getOnNewConnection(`${node.url}/metrics`), 404);

    const answer = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(answer.status, 200);
    const text = await answer.text();
    const samples = parseExposition(text);
    assert.equal(sampleSum(samples, 'keygate_http_requests_total', { route: '/healthz', status_class: '2xx' }), REQUESTS, 'one worker alone counted about half');
    assert.equal(sampleSum(samples, 'keygate_http_request_duration_seconds_count', { route: '/healthz' }), REQUESTS);
    // Each worker has a pool of its own (10 connections by default) on every store.
    for (const store of ['control', 'eu', 'us']) assert.equal(sampleSum(samples, 'keygate_store_pool_size', { store }), 20, store);
    // A chain's head is the same seen from either worker: the largest, not the sum.
    assert.equal(sampleSum(samples, 'keygate_audit_records', { store: 'control' }), 1, 'the app was created, once');
    assert.equal(sampleSum(samples, 'keygate_audit_records', { store: 'us' }), 0);
    assert.equal(sampleSum(samples, 'keygate_audit_chain_lock_waiters', { store: 'eu' }), 0);
    assert.ok(sampleSum(samples, 'process_cpu_user_seconds_total') > 0);
    if (deployment.env.KEYGATE_REDIS_URL) assert.equal(sampleSum(samples, 'keygate_redis_up'), 1, 'every worker reaches Redis');
    assert.doesNotMatch(text, new RegExp(JSON.parse(created.stdout).appId));
    // Stores are named, never located.
    assert.doesNotMatch(text, /postgres(ql)?:\/\/|127\.0\.0\.1|5432/);
  });
});
