import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { KeygateError } from '../errors.js';
import { NO_METRICS, type Metrics } from '../metrics.js';

/**
 * API calls per app per minute, shared by every node through Redis when it is set (each
 * node counts alone while Redis is away). The default is far above any real app's
 * traffic: it stops a leaked App ID or a runaway client, not ordinary use.
 */
export class AppRateLimit {
  readonly #calls: RateLimiterAbstract;
  readonly #metrics: Metrics;

  constructor(callsPerMinute: number, options: { redis?: Redis; prefix: string; metrics?: Metrics }) {
    this.#metrics = options.metrics ?? NO_METRICS;
    const memory = new RateLimiterMemory({ points: callsPerMinute, duration: 60, keyPrefix: `${options.prefix}:app-calls` });
    this.#calls = options.redis
      ? new RateLimiterRedis({ storeClient: options.redis, points: callsPerMinute, duration: 60, keyPrefix: `${options.prefix}:app-calls`, insuranceLimiter: memory })
      : memory;
  }

  /** Counts one call; throws `too_many_requests` with the seconds to wait when the app is over its limit. */
  async admit(appId: string): Promise<void> {
    try {
      await this.#calls.consume(appId);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      this.#metrics.rateLimited('app_calls');
      throw new KeygateError('too_many_requests', { retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) });
    }
  }
}
