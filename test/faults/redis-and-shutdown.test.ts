import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createDeployment } from '../support/cluster.js';
import { connectIdOf, GatewayVisitor, overHttp, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { keygateCli, startNode, type KeygateNode } from '../support/node-process.js';
import { freePort } from '../support/ports.js';
import { sleep, startRedis, stopRedis } from '../support/services.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://faults.example.org';

describe('Redis and shutdown faults', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    startRedis();
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  async function deploy() {
    const deployment = await createDeployment();
    cleanups.push(deployment.drop);
    assert.ok(deployment.env.KEYGATE_REDIS_URL, 'KEYGATE_TEST_REDIS_URL must be set for the fault tests');
    const created = keygateCli(['app', 'create', '--name', 'Faults', '--origin', ORIGIN, '--return-url', `${ORIGIN}/back`, '--json'], deployment.env);
    assert.equal(created.status, 0, created.stderr);
    const { appId, secretKey } = JSON.parse(created.stdout);
    const node = await startNode(deployment.env, await freePort());
    cleanups.push(async () => { if (node.process.exitCode === null) { node.process.kill('SIGTERM'); await node.exited; } });
    const client = new Ukey1ServerClient(() => node.url, appId, secretKey, ORIGIN);
    const gateway = async () => connectIdOf((await client.connect({ request_id: 'f', scope: [], return_url: `${ORIGIN}/back` })).body.gateway);
    return { deployment, node, gateway };
  }

  const signIn = async (node: KeygateNode, connectId: string, email: string, password: string) =>
    (await new GatewayVisitor(overHttp(() => node.url)).post(`/gateway/${connectId}/sign-in`, { email, password })).status;

  it('keeps sign-in working while Redis is down, limits per node meanwhile, and goes back to Redis when it returns', async () => {
    const { deployment, node, gateway } = await deploy();
    const visitor = new GatewayVisitor(overHttp(() => node.url));
    const outbox = deployment.mail;
    assert.equal((await visitor.signUp(`/gateway/${await gateway()}`, { ...SIGN_UP_JANA, email: 'redis@example.cz' }, outbox)).status, 303);
    assert.equal((await new GatewayVisitor(overHttp(() => node.url)).signUp(`/gateway/${await gateway()}`, { ...SIGN_UP_JANA, email: 'guessed@example.cz' }, outbox)).status, 303);
    assert.equal(await signIn(node, await gateway(), 'redis@example.cz', SIGN_UP_JANA.password), 303);

    stopRedis();
    try {
      assert.equal(await signIn(node, await gateway(), 'redis@example.cz', SIGN_UP_JANA.password), 303, 'sign-in works without Redis');
      const ready = await fetch(`${node.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match((await ready.json()).checks.redis, /^unavailable/);
      // The fallback still limits guessing, per node.
      const connectId = await gateway();
      for (let i = 0; i < 10; i++) assert.equal(await signIn(node, connectId, 'guessed@example.cz', `wrong ${i}`), 401);
      assert.equal(await signIn(node, connectId, 'guessed@example.cz', 'wrong again'), 429);
    } finally {
      startRedis();
    }

    // Back on Redis within a few seconds: readiness recovers and new counts land in Redis.
    let readyAgain = false;
    for (let i = 0; i < 50 && !readyAgain; i++) {
      readyAgain = (await fetch(`${node.url}/readyz`)).status === 200;
      if (!readyAgain) await sleep(100);
    }
    assert.ok(readyAgain, 'ready again within 5 s of Redis returning');
    assert.equal(await signIn(node, await gateway(), 'redis@example.cz', 'one typo'), 401);
    const redis = new Redis(deployment.env.KEYGATE_REDIS_URL!);
    try {
      const keys = await redis.keys(`${deployment.env.KEYGATE_REDIS_PREFIX}:*`);
      assert.ok(keys.some((key) => key.includes('signin-account')), `counts are shared through Redis again: ${keys.join(', ')}`);
    } finally {
      redis.disconnect();
    }
  });

  it('on SIGTERM finishes the requests in flight, then exits 0 within 10 s', async () => {
    const { node, gateway } = await deploy();
    const connectIds = await Promise.all(Array.from({ length: 12 }, () => gateway()));
    // Each person has the sign-up page open (and its CSRF token) before the node is told to stop.
    const visitors = await Promise.all(connectIds.map(async (connectId) => {
      const visitor = new GatewayVisitor(overHttp(() => node.url));
      await visitor.get(`/gateway/${connectId}?signup=1`);
      return visitor;
    }));
    const inFlight = connectIds.map((connectId, i) => visitors[i]!
      .post(`/gateway/${connectId}/sign-up`, { ...SIGN_UP_JANA, email: `sigterm-${i}@example.cz` }).then((r) => r.status));
    // In flight means the node has read them: wait for its request log, not for a guess of time.
    const received = () => node.output().split('\n').filter((line) => line.includes('incoming request') && line.includes('/sign-up')).length;
    for (let waited = 0; received() < connectIds.length && waited < 10_000; waited += 5) await sleep(5);
    assert.equal(received(), connectIds.length, 'the node received every sign-up before the signal');
    const signalledAt = Date.now();
    node.process.kill('SIGTERM');
    const statuses = await Promise.all(inFlight);
    assert.deepEqual(statuses, statuses.map(() => 200), 'every request in flight completed (each answered with the page asking for the emailed code)');
    assert.equal(await node.exited, 0);
    assert.ok(Date.now() - signalledAt < 10_000);
    await assert.rejects(fetch(`${node.url}/healthz`), 'it no longer accepts connections');
  });
});
