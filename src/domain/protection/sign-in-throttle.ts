import { createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * Brute-force protection of password sign-in: failures per account (whatever the IP,
 * so rotating addresses does not help) and attempts per client address. With Redis the
 * counts are shared by every node; when Redis is away each node falls back to its own
 * in-memory counts (the insurance limiter) and goes back to Redis when it returns.
 */
export interface ThrottleLimits {
  /** Wrong passwords allowed per account per window. */
  readonly accountFailures: number;
  readonly accountWindowSeconds: number;
  /** Sign-in attempts allowed per client address per window: far above any person's use. */
  readonly addressAttempts: number;
  readonly addressWindowSeconds: number;
}

export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = {
  accountFailures: 10,
  accountWindowSeconds: 60,
  addressAttempts: 100,
  addressWindowSeconds: 60,
};

export type ThrottleVerdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

function limiter(points: number, duration: number, keyPrefix: string, redis?: Redis): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ points, duration, keyPrefix });
  if (!redis) return memory;
  return new RateLimiterRedis({ storeClient: redis, points, duration, keyPrefix, insuranceLimiter: memory });
}

export class SignInThrottle {
  readonly #accounts: RateLimiterAbstract;
  readonly #addresses: RateLimiterAbstract;

  /**
   * `pseudonymKey` keys the HMAC that names accounts and addresses in the counters, so
   * that the shared store never holds an email or IP address.
   */
  constructor(private readonly pseudonymKey: Buffer, options: { redis?: Redis; prefix: string; limits?: ThrottleLimits }) {
    const limits = options.limits ?? DEFAULT_THROTTLE_LIMITS;
    this.#accounts = limiter(limits.accountFailures, limits.accountWindowSeconds, `${options.prefix}:signin-account`, options.redis);
    this.#addresses = limiter(limits.addressAttempts, limits.addressWindowSeconds, `${options.prefix}:signin-address`, options.redis);
  }

  #pseudonym(kind: string, value: string): string {
    return createHmac('sha256', this.pseudonymKey).update(kind).update('\0').update(value).digest('base64url');
  }

  #account(normalisedEmail: string): string {
    return this.#pseudonym('account', normalisedEmail);
  }

  static #refused(result: RateLimiterRes): ThrottleVerdict {
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(result.msBeforeNext / 1000)) };
  }

  /** Counts one attempt from `address`; refuses it when the address or the account is over its limit. */
  async admit(address: string, normalisedEmail: string): Promise<ThrottleVerdict> {
    try {
      await this.#addresses.consume(this.#pseudonym('address', address));
    } catch (error) {
      if (error instanceof RateLimiterRes) return SignInThrottle.#refused(error);
      throw error;
    }
    const failures = await this.#accounts.get(this.#account(normalisedEmail));
    if (failures && failures.consumedPoints >= this.#accounts.points) return SignInThrottle.#refused(failures);
    return { allowed: true };
  }

  async recordFailure(normalisedEmail: string): Promise<void> {
    await this.#accounts.consume(this.#account(normalisedEmail)).catch((e: unknown) => {
      if (!(e instanceof RateLimiterRes)) throw e;
    });
  }

  async recordSuccess(normalisedEmail: string): Promise<void> {
    await this.#accounts.delete(this.#account(normalisedEmail));
  }
}
