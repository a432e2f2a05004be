// The work a request costs, counted where it is done: CPU time of Keygate's processes, of
// PostgreSQL's and of Redis (from /proc: other load on the machine does not inflate it),
// transactions and WAL syncs (PostgreSQL's statistics) and Redis commands (INFO).
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import pg from 'pg';
import { cpuSeconds, groupCpuSeconds } from './proc.js';

/** Totals at one moment; a run's cost is the difference of two readings. */
export interface Reading {
  readonly keygate: number;
  readonly postgres: number;
  readonly redis: number;
  readonly transactions: number;
  readonly walSyncs: number;
  readonly redisCommands: number;
}

/** What one request of a scenario cost on average. */
export interface CostPerRequest {
  readonly cpuUsPerRequest: { readonly keygate: number; readonly postgres: number; readonly redis: number };
  readonly transactionsPerRequest: number;
  readonly walSyncsPerRequest: number;
  readonly redisCommandsPerRequest: number;
}

const processesNamed = (name: string): number[] =>
  spawnSync('pgrep', ['-x', name], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);

export class CostCounter {
  private constructor(private readonly db: pg.Client | null, private readonly redis: Redis | null, private readonly databases: string[]) {}

  /**
   * `databaseUrls`: the PostgreSQL stores Keygate uses (their transactions are counted; any
   * of them serves to read the statistics), none on PGlite; `redisUrl` null without Redis.
   */
  static async open(databaseUrls: string[], redisUrl: string | null): Promise<CostCounter> {
    const db = databaseUrls.length > 0 ? new pg.Client({ connectionString: databaseUrls[0] }) : null;
    await db?.connect();
    const redis = redisUrl ? new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 }) : null;
    await redis?.connect();
    return new CostCounter(db, redis, databaseUrls.map((url) => new URL(url).pathname.slice(1)));
  }

  async read(keygatePid: number): Promise<Reading> {
    // Backends publish their statistics when a transaction ends, at most once a second.
    const keygate = cpuSeconds(keygatePid);
    const postgres = this.db ? groupCpuSeconds(processesNamed('postgres')) : 0;
    const redis = this.redis ? groupCpuSeconds(processesNamed('redis-server')) : 0;
    if (!this.db) return { keygate, postgres, redis, transactions: 0, walSyncs: 0, redisCommands: 0 };
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const { rows } = await this.db.query<{ transactions: string; wal_syncs: string }>(
      `select (select sum(xact_commit + xact_rollback) from pg_stat_database where datname = any($1)) as transactions,
              (select wal_sync from pg_stat_wal) as wal_syncs`, [this.databases]);
    const stats = this.redis ? await this.redis.info('stats') : '';
    const redisCommands = Number(/total_commands_processed:(\d+)/.exec(stats)?.[1] ?? 0);
    return { keygate, postgres, redis, transactions: Number(rows[0]!.transactions), walSyncs: Number(rows[0]!.wal_syncs), redisCommands };
  }

  async close(): Promise<void> {
    await this.db?.end();
    this.redis?.disconnect();
  }
}

const round = (value: number, digits = 0) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The cost of `requests` requests between two readings. The counter's own queries are a rounding error against thousands of requests. */
export function costPerRequest(before: Reading, after: Reading, requests: number): CostPerRequest {
  const per = (a: number, b: number, scale = 1, digits = 0) => round(((b - a) * scale) / Math.max(1, requests), digits);
  return {
    cpuUsPerRequest: { keygate: per(before.keygate, after.keygate, 1e6), postgres: per(before.postgres, after.postgres, 1e6), redis: per(before.redis, after.redis, 1e6) },
    transactionsPerRequest: per(before.transactions, after.transactions, 1, 2),
    walSyncsPerRequest: per(before.walSyncs, after.walSyncs, 1, 2),
    redisCommandsPerRequest: per(before.redisCommands, after.redisCommands, 1, 2),
  };
}
