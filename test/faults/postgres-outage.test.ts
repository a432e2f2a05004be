import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createDeployment } from '../support/cluster.js';
import { keygateCli, startNode } from '../support/node-process.js';
import { freePort } from '../support/ports.js';
import { sleep, startPostgres, stopPostgres } from '../support/services.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

describe('PostgreSQL stops during load', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    startPostgres();
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it('fails fast with a JSON 503 while it is down, and recovers by itself within 5 s', async (t) => {
    const deployment = await createDeployment();
    cleanups.push(deployment.drop);
    const created = keygateCli(['app', 'create', '--name', 'Outage', '--origin', 'https://o.example.org', '--return-url', 'https://o.example.org/back', '--json'], deployment.env);
    assert.equal(created.status, 0, created.stderr);
    const { appId, secretKey } = JSON.parse(created.stdout);
    const node = await startNode(deployment.env, await freePort());
    cleanups.push(async () => { node.process.kill('SIGTERM'); await node.exited; });
    const client = new Ukey1ServerClient(() => node.url, appId, secretKey, 'https://o.example.org');

    type Sample = { at: number; ms: number; status: number; code?: string };
    const samples: Sample[] = [];
    let loading = true;
    const deadline = Date.now() + 60_000;
    // Four clients in a bounded loop on loopback, each request timed.
    const load = Promise.all(Array.from({ length: 4 }, async () => {
      while (loading && Date.now() < deadline) {
        const started = Date.now();
        const response = await client.connect({ request_id: 'load', scope: ['email'], return_url: 'https://o.example.org/back' })
          .catch(() => ({ status: 0, body: {} as any }));
        samples.push({ at: started, ms: Date.now() - started, status: response.status, code: response.body?.debug?.code });
        await sleep(20);
      }
    }));

    await sleep(1000);
    const stoppedAt = Date.now();
    stopPostgres();
    await sleep(3000);
    const restartAt = Date.now();
    startPostgres();
    const readyAt = Date.now();
    await sleep(6000);
    loading = false;
    await load;

    const before = samples.filter((s) => s.at < stoppedAt);
    const during = samples.filter((s) => s.at > stoppedAt + 500 && s.at + s.ms < restartAt);
    assert.ok(before.length > 10 && before.every((s) => s.status === 201), 'healthy before the outage');
    assert.ok(during.length > 10, 'requests were made during the outage');
    for (const sample of during) {
      assert.equal(sample.status, 503, JSON.stringify(sample));
      assert.equal(sample.code, 'store_unavailable');
      assert.ok(sample.ms <= 2000, `a request took ${sample.ms} ms while PostgreSQL was down`);
    }
    const firstSuccess = samples.find((s) => s.at >= readyAt && s.status === 201);
    assert.ok(firstSuccess, 'the node recovered');
    t.diagnostic(`during the outage: ${during.length} requests, slowest ${Math.max(...during.map((s) => s.ms))} ms; `
      + `first success ${firstSuccess.at - readyAt} ms after PostgreSQL answered again`);
    assert.ok(firstSuccess.at - readyAt <= 5000, `recovered ${firstSuccess.at - readyAt} ms after PostgreSQL was back`);
    const late = samples.filter((s) => s.at > readyAt + 5000);
    assert.ok(late.length > 0 && late.every((s) => s.status === 201), 'healthy again without a restart');
    assert.equal(node.process.exitCode, null, 'the node never died');
  });
});
