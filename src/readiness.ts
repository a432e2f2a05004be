import { sql } from 'kysely';
import type { Redis } from 'ioredis';
import type { Stores } from './storage/stores.js';

export interface Readiness {
  readonly ready: boolean;
  /** `ok`, or why a dependency cannot be used: one entry per store, and Redis when configured. */
  readonly checks: Record<string, string>;
}

const CHECK_TIMEOUT_MS = 1000;

function withinTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Asks every store and Redis for a trivial answer, each within a second, in parallel. */
export async function checkReadiness(stores: Stores, redis: Redis | undefined): Promise<Readiness> {
  const probes: Array<[string, () => Promise<unknown>]> = stores.all().map((store) => [store.name, () => sql`select 1`.execute(store.db)]);
  if (redis) probes.push(['redis', () => redis.ping()]);
  const results = await Promise.all(probes.map(async ([name, probe]) => {
    try {
      await withinTimeout(probe());
      return [name, 'ok'] as const;
    } catch (error) {
      return [name, `unavailable: ${(error as Error).message.split('\n')[0]}`] as const;
    }
  }));
  return { ready: results.every(([, state]) => state === 'ok'), checks: Object.fromEntries(results) };
}
