import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { KeygateError } from '../../src/domain/errors.js';
import { AppRateLimit, localCounts, type SharedCounts } from '../../src/domain/protection/app-rate-limit.js';

const APP = '7c3f5a2e-1b4d-4e8f-9a6b-2c1d0e9f8a7b';

/** A shared store that counts its round trips, and can be taken away. */
function countingStore() {
  const inner = localCounts();
  const store = {
    roundTrips: 0,
    down: false,
    async add(key: string, amount: number, ttlMs: number) {
      store.roundTrips += 1;
      if (store.down) throw new Error('connection refused');
      return inner.add(key, amount, ttlMs);
    },
  } satisfies SharedCounts & Record<string, unknown>;
  return store;
}

const refusal = async (limit: AppRateLimit, appId = APP): Promise<KeygateError | null> =>
  limit.admit(appId).then(() => null, (error: KeygateError) => error);

describe('the per-app call limit', () => {
  const limits: AppRateLimit[] = [];
  const make = (callsPerMinute: number, counts: SharedCounts, clock: () => number) => {
    const limit = new AppRateLimit(callsPerMinute, { counts, prefix: 'test', clock });
    limits.push(limit);
    return limit;
  };
  after(() => limits.forEach((limit) => limit.close()));

  it('counts calls in the node and shares them in batches: no round trip per call', async () => {
    const store = countingStore();
    const now = 60_000 * 1000 + 5_000;
    const limit = make(100_000, store, () => now);
    for (let i = 0; i < 5_000; i++) await limit.admit(APP);
    await limit.flush();
    assert.ok(store.roundTrips <= 5 + 1, `${store.roundTrips} round trips for 5,000 calls`);
  });

  it('refuses the call over the limit with the seconds left in the minute, then admits again in the next minute', async () => {
    let now = 60_000 * 2000 + 45_500;
    const limit = make(10, countingStore(), () => now);
    for (let i = 0; i < 10; i++) assert.equal(await refusal(limit), null);
    const refused = await refusal(limit);
    assert.equal(refused?.code, 'too_many_requests');
    assert.deepEqual(refused?.details, { retryAfterSeconds: 15 });
    assert.equal(await refusal(limit, '0b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9'), null, 'another app has a limit of its own');
    now += 15_000;
    assert.equal(await refusal(limit), null);
  });

  it('holds across nodes: each learns the others’ calls at its next batch', async () => {
    const store = countingStore();
    const now = 60_000 * 3000 + 1_000;
    const nodeA = make(100, store, () => now);
    const nodeB = make(100, store, () => now);
    for (let i = 0; i < 60; i++) await nodeA.admit(APP);
    await nodeA.flush();
    for (let i = 0; i < 40; i++) await nodeB.admit(APP);
    await nodeB.flush();
    await nodeA.flush();
    assert.equal((await refusal(nodeA))?.code, 'too_many_requests', 'node A has heard of node B’s 40 calls');
    assert.equal((await refusal(nodeB))?.code, 'too_many_requests');
  });

  it('goes on counting alone while the shared count is away, and joins it again', async () => {
    const store = countingStore();
    const now = 60_000 * 4000;
    const limit = make(20, store, () => now);
    store.down = true;
    for (let i = 0; i < 15; i++) await limit.admit(APP);
    await limit.flush();
    store.down = false;
    for (let i = 0; i < 5; i++) await limit.admit(APP);
    assert.equal((await refusal(limit))?.code, 'too_many_requests', 'the calls counted alone still count');
    await limit.flush();
  });

  it('shares the count through Redis when it is there', { skip: !process.env.KEYGATE_TEST_REDIS_URL && 'no KEYGATE_TEST_REDIS_URL' }, async () => {
    const [a, b] = [new Redis(process.env.KEYGATE_TEST_REDIS_URL!), new Redis(process.env.KEYGATE_TEST_REDIS_URL!)];
    try {
      const prefix = `kgtest:${Math.random().toString(36).slice(2)}`;
      const now = Date.now();
      const nodeA = new AppRateLimit(30, { redis: a, prefix, clock: () => now });
      const nodeB = new AppRateLimit(30, { redis: b, prefix, clock: () => now });
      limits.push(nodeA, nodeB);
      for (let i = 0; i < 20; i++) await nodeA.admit(APP);
      for (let i = 0; i < 10; i++) await nodeB.admit(APP);
      await nodeA.flush();
      await nodeB.flush();
      await nodeA.flush();
      assert.equal((await refusal(nodeA))?.code, 'too_many_requests');
      assert.equal((await refusal(nodeB))?.code, 'too_many_requests');
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });
});
