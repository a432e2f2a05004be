import type { Redis } from 'ioredis';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { KeygateError } from '../errors.js';
import { NO_METRICS, type Metrics } from '../metrics.js';
import { secondsToWait, sharedLimiter, take } from './limiter.js';

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
    this.#calls = sharedLimiter(callsPerMinute, 60, `${options.prefix}:app-calls`, options.redis);
  }

  /** Counts one call; throws `too_many_requests` with the seconds to wait when the app is over its limit. */
  async admit(appId: string): Promise<void> {
    const refusal = await take(this.#calls, appId);
    if (!refusal) return;
    this.#metrics.rateLimited('app_calls');
    throw new KeygateError('too_many_requests', { retryAfterSeconds: secondsToWait(refusal) });
  }
}
