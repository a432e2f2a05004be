import type { Redis } from 'ioredis';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { PersonRef } from '../zones/zone-registry.js';
import { NO_METRICS, type Metrics, type RateLimitName } from '../metrics.js';
import { pseudonymOf, secondsToWait, sharedLimiter as limiter, take } from './limiter.js';

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

export type ThrottleVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterSeconds: number; /** This attempt started a pause: tell the person. */ readonly pauseStarted: boolean };

/** The counter of a person's account: every limit on an account counts here, whichever of its identifiers was used. */
export const accountCounter = (person: PersonRef): string => `person:${person.id}`;

const DAY_SECONDS = 24 * 60 * 60;
const MAIL_REQUESTS_PER_ACCOUNT = 5;
const MAIL_REQUEST_WINDOW_SECONDS = 15 * 60;
/** Nicknames a person may try per hour: plenty to find a free one, too few to map who holds which. */
const NICKNAME_TRIES_PER_ACCOUNT = 10;
const NICKNAME_WINDOW_SECONDS = 60 * 60;
/** Longest pause after repeated lockouts (exponential backoff stops growing here). */
const MAX_PAUSE_SECONDS = 24 * 60 * 60;

export class SignInThrottle {
  readonly #accounts: RateLimiterAbstract;
  readonly #pauses: RateLimiterAbstract;
  readonly #addresses: RateLimiterAbstract;
  readonly #mailRequests: RateLimiterAbstract;
  readonly #nicknameTries: RateLimiterAbstract;
  readonly #limits: ThrottleLimits;
  readonly #metrics: Metrics;

  /**
   * `pseudonymKey` keys the HMAC that names accounts and addresses in the counters, so
   * that the shared store never holds an email or IP address.
   */
  constructor(private readonly pseudonymKey: Buffer, options: { redis?: Redis; prefix: string; limits?: ThrottleLimits; metrics?: Metrics }) {
    this.#limits = options.limits ?? DEFAULT_THROTTLE_LIMITS;
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#accounts = limiter(this.#limits.accountFailures, this.#limits.accountWindowSeconds, `${options.prefix}:signin-account`, options.redis);
    this.#pauses = limiter(1000, DAY_SECONDS, `${options.prefix}:signin-pauses`, options.redis);
    this.#addresses = limiter(this.#limits.addressAttempts, this.#limits.addressWindowSeconds, `${options.prefix}:signin-address`, options.redis);
    this.#mailRequests = limiter(MAIL_REQUESTS_PER_ACCOUNT, MAIL_REQUEST_WINDOW_SECONDS, `${options.prefix}:mail-requests`, options.redis);
    this.#nicknameTries = limiter(NICKNAME_TRIES_PER_ACCOUNT, NICKNAME_WINDOW_SECONDS, `${options.prefix}:nickname-tries`, options.redis);
  }

  /**
   * Counts one nickname a person tries to take. "Taken" tells whether someone holds a
   * nickname, which choosing one cannot avoid; the count keeps it from becoming a directory.
   */
  admitNicknameTry(person: PersonRef): Promise<ThrottleVerdict> {
    return this.#count('nickname_tries', this.#nicknameTries, this.#account(accountCounter(person)));
  }

  /**
   * Counts a request that makes us email an address (sign-up, sign-in code, reset link):
   * per client address like sign-ins, and per account so that nobody can flood a
   * person's inbox. Counted whether or not the account exists, so the limit tells nothing.
   */
  async admitMail(address: string, account: string): Promise<ThrottleVerdict> {
    const buckets = [
      ['client_address', this.#addresses, this.#pseudonym('address', address)],
      ['account_mail', this.#mailRequests, this.#account(account)],
    ] as const;
    for (const [limit, bucket, key] of buckets) {
      const verdict = await this.#count(limit, bucket, key);
      if (!verdict.allowed) return verdict;
    }
    return { allowed: true };
  }

  /**
   * Counts a request from `address` that may lead to mail (the sign-in code and reset
   * forms, which answer before the address is looked up): the account's own mail budget
   * is counted after the answer, by `admitMailTo`.
   */
  admitMailRequest(address: string): Promise<ThrottleVerdict> {
    return this.#count('client_address', this.#addresses, this.#pseudonym('address', address));
  }

  /** Counts one mail to a person's account against its budget (whichever identifier was typed); false: over it, send nothing. */
  async admitMailTo(person: PersonRef): Promise<boolean> {
    return (await this.#count('account_mail', this.#mailRequests, this.#account(accountCounter(person)))).allowed;
  }

  #pseudonym(kind: string, value: string): string {
    return pseudonymOf(this.pseudonymKey, kind, value);
  }

  #account(account: string): string {
    return this.#pseudonym('account', account);
  }

  /** Every refusal of every limit passes here, so each is counted once, by the limit's name. */
  #refused(limit: RateLimitName, result: RateLimiterRes, pauseStarted = false): ThrottleVerdict {
    this.#metrics.rateLimited(limit);
    return { allowed: false, retryAfterSeconds: secondsToWait(result), pauseStarted };
  }

  /** Counts one attempt on a limit without pauses. */
  async #count(limit: RateLimitName, bucket: RateLimiterAbstract, key: string): Promise<ThrottleVerdict> {
    const refusal = await take(bucket, key);
    return refusal ? this.#refused(limit, refusal) : { allowed: true };
  }

  /**
   * Counts one attempt from `address` on `account` (a normalised email or nickname) and
   * refuses it when either is over its limit. The account's count is taken before the
   * password is checked, atomically, so parallel guesses get no more tries than serial
   * ones; a successful sign-in clears it. The attempt that goes over starts a pause that
   * doubles with each pause of the day.
   */
  async admit(address: string, account: string): Promise<ThrottleVerdict> {
    const verdict = await this.#count('client_address', this.#addresses, this.#pseudonym('address', address));
    return verdict.allowed ? this.admitOnAccount(account) : verdict;
  }

  /**
   * Counts one attempt on `account` alone: a later step of a sign-in whose first step
   * was counted from its address too (a second factor, an emailed code). Same pauses.
   */
  async admitOnAccount(account: string): Promise<ThrottleVerdict> {
    const key = this.#account(account);
    const refusal = await take(this.#accounts, key);
    if (!refusal) return { allowed: true };
    if (refusal.consumedPoints !== this.#accounts.points + 1) return this.#refused('account_attempts', refusal);
    // The first attempt over the limit: pause the account, longer after each pause today.
    const pauses = await this.#pauses.consume(key).catch((e: unknown) => {
      if (e instanceof RateLimiterRes) return e;
      throw e;
    });
    const seconds = Math.min(MAX_PAUSE_SECONDS, this.#limits.accountWindowSeconds * 2 ** Math.max(0, pauses.consumedPoints - 1));
    const blocked = await this.#accounts.block(key, seconds);
    return this.#refused('account_attempts', blocked, true);
  }

  async recordSuccess(account: string): Promise<void> {
    await this.#accounts.delete(this.#account(account));
  }
}
