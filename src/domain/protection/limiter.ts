import { createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * The pieces the exact limits (sign-in, mail, invitations) are built from. Counts are shared by every node through Redis
 * when it is set; while Redis is away each node counts alone (the insurance limiter) and
 * goes back to Redis when it returns.
 */
export function sharedLimiter(points: number, durationSeconds: number, keyPrefix: string, redis?: Redis): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ points, duration: durationSeconds, keyPrefix });
  if (!redis) return memory;
  return new RateLimiterRedis({ storeClient: redis, points, duration: durationSeconds, keyPrefix, insuranceLimiter: memory });
}

/** The whole seconds to wait before a refused attempt may be made again (at least one). */
export const secondsToWait = (refusal: RateLimiterRes): number => Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));

/** Counts one attempt on `key`: null when allowed, the refusal when over the limit. */
export async function take(bucket: RateLimiterAbstract, key: string): Promise<RateLimiterRes | null> {
  try {
    await bucket.consume(key);
    return null;
  } catch (error) {
    if (error instanceof RateLimiterRes) return error;
    throw error;
  }
}

/** How counters are named in the shared store: a keyed HMAC, never an address or id in clear. */
export const pseudonymOf = (key: Buffer, kind: string, value: string): string =>
  createHmac('sha256', key).update(kind).update('\0').update(value).digest('base64url');
