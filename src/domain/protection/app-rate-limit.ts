import type { Redis } from 'ioredis';
import { KeygateError } from '../errors.js';
import { NO_METRICS, type Metrics } from '../metrics.js';

/** Counts shared by every node: adds to a counter and answers its new total. */
export interface SharedCounts {
  add(key: string, amount: number, ttlMs: number): Promise<number>;
}

/** The counts in Redis: one INCRBY and one PEXPIRE per app per batch, in one round trip. */
export function redisCounts(redis: Redis): SharedCounts {
  return {
    async add(key, amount, ttlMs) {
      const replies = await redis.multi().incrby(key, amount).pexpire(key, ttlMs).exec();
      const [error, total] = replies?.[0] ?? [new Error('no reply from Redis')];
      if (error) throw error;
      return Number(total);
    },
  };
}

/** The counts of one node alone (no Redis configured). */
export function localCounts(): SharedCounts {
  const totals = new Map<string, { total: number; expiresAt: number }>();
  return {
    async add(key, amount, ttlMs) {
      const now = Date.now();
      for (const [k, v] of totals) if (v.expiresAt <= now) totals.delete(k);
      const entry = totals.get(key) ?? { total: 0, expiresAt: now + ttlMs };
      entry.total += amount;
      totals.set(key, entry);
      return entry.total;
    },
  };
}

interface AppWindow {
  /** The minute this count is for (milliseconds since the epoch / 60,000). */
  minute: number;
  /** Every node's calls in this minute, as the shared count last said (this node's included). */
  shared: number;
  /** This node's calls being added to the shared count right now. */
  sending: number;
  /** This node's calls not sent yet. */
  pending: number;
}

const MINUTE_MS = 60_000;
/** How often this node adds its calls to the shared count: the most the nodes can overshoot by together is their calls in this time. */
const FLUSH_EVERY_MS = 200;

/**
 * API calls per app per calendar minute, shared by every node. Each call is counted in
 * the node at once and refused there when the node's view of the minute (the shared total
 * it last heard plus its own calls since) is at the limit; every 200 ms (or sooner, when
 * a node has counted a hundredth of the limit) each node adds its calls to the shared
 * count of each app called this minute, in one round trip per app, and learns the others'. So ordinary traffic costs no Redis
 * command per call, and the limit holds to within what the nodes answer in 200 ms. The
 * limit is far above any real app's traffic: it stops a leaked App ID or a runaway
 * client, not ordinary use. While Redis is away each node counts alone.
 */
export class AppRateLimit {
  readonly #limit: number;
  readonly #metrics: Metrics;
  readonly #counts: SharedCounts;
  readonly #prefix: string;
  readonly #clock: () => number;
  readonly #batch: number;
  readonly #apps = new Map<string, AppWindow>();
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> | null = null;

  /** `name` keeps this limit's counts apart from another's (default: the API's `app-calls`). */
  constructor(callsPerMinute: number, options: { redis?: Redis; counts?: SharedCounts; prefix: string; name?: string; metrics?: Metrics; clock?: () => number }) {
    this.#limit = callsPerMinute;
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#counts = options.counts ?? (options.redis ? redisCounts(options.redis) : localCounts());
    this.#prefix = `${options.prefix}:${options.name ?? 'app-calls'}`;
    this.#clock = options.clock ?? Date.now;
    this.#batch = Math.max(1, Math.floor(callsPerMinute / 100));
    this.#timer = setInterval(() => void this.#startBatch(), FLUSH_EVERY_MS);
    this.#timer.unref();
  }

  /** Counts one call; throws `too_many_requests` with the seconds to wait when the app is over its limit. */
  async admit(appId: string): Promise<void> {
    const now = this.#clock();
    const minute = Math.floor(now / MINUTE_MS);
    let app = this.#apps.get(appId);
    if (!app || app.minute !== minute) {
      app = { minute, shared: 0, sending: 0, pending: 0 };
      this.#apps.set(appId, app);
    }
    if (app.shared + app.sending + app.pending >= this.#limit) {
      this.#metrics.rateLimited('app_calls');
      throw new KeygateError('too_many_requests', { retryAfterSeconds: Math.max(1, Math.ceil(((minute + 1) * MINUTE_MS - now) / 1000)) });
    }
    app.pending += 1;
    if (app.pending >= this.#batch) void this.#startBatch();
  }

  /** Adds every call counted so far to the shared counts and learns the totals (after a batch already under way). */
  async flush(): Promise<void> {
    await this.#flushing;
    await this.#startBatch();
  }

  /** One batch at a time: calls counted while one is under way go with the next. */
  #startBatch(): Promise<void> {
    this.#flushing ??= this.#send().finally(() => { this.#flushing = null; });
    return this.#flushing;
  }

  async #send(): Promise<void> {
    const minute = Math.floor(this.#clock() / MINUTE_MS);
    const sends: Array<Promise<void>> = [];
    for (const [appId, app] of this.#apps) {
      if (app.minute < minute && app.pending === 0 && app.sending === 0) {
        this.#apps.delete(appId);
        continue;
      }
      // An app called this minute is looked up even with nothing to add: the other nodes' calls count too.
      if (app.pending === 0 && app.minute < minute) continue;
      const amount = app.pending;
      app.pending = 0;
      app.sending += amount;
      // The batch moves from `sending` to `shared` in one step: a call admitted in between
      // must see it once, not twice.
      sends.push(this.#counts.add(`${this.#prefix}:${appId}:${app.minute}`, amount, 2 * MINUTE_MS).then(
        (total) => {
          app.sending -= amount;
          app.shared = Math.max(app.shared + amount, total);
        },
        // The shared count is away: this node goes on counting alone.
        () => {
          app.sending -= amount;
          app.shared += amount;
        },
      ));
    }
    await Promise.all(sends);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
