import { PGlite } from '@electric-sql/pglite';
import { Kysely, Migrator, PostgresDialect, sql, type LogEvent, type Migration } from 'kysely';
import { preparingPool } from './prepared-statements.js';
import { storeErrorKind, type StoreErrorKind } from './availability.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { KeygateConfig } from '../config/config.js';
import { ZONE_NAMES, type ZoneName } from '../domain/zones/zones.js';
import { controlMigrations } from './migrations/control.js';
import { zoneMigrations } from './migrations/zone.js';
import { listenOnPostgres, type NoticeHandlers, type NoticeListener } from './notifications.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { ControlDatabase, ZoneDatabase } from './schema.js';

export type StoreName = 'control' | ZoneName;

/**
 * Where a store's database lives: an embedded PGlite directory, an in-memory PGlite
 * cloned from a dumped template (tests), or a PostgreSQL server.
 */
export type StoreLocation =
  | { readonly kind: 'embedded'; readonly dataDir: string }
  | { readonly kind: 'memory'; readonly template?: Blob }
  | { readonly kind: 'postgres'; readonly url: string };

export interface Store<DB> {
  readonly name: StoreName;
  readonly db: Kysely<DB>;
  /** How busy its connections are right now. */
  usage(): StoreUsage;
  /**
   * Listens to a NOTIFY channel, on PostgreSQL, where other nodes share the database.
   * Null for an embedded store: one process owns it, and what it changes it knows.
   */
  listen(channel: string, handlers: NoticeHandlers): NoticeListener | null;
}

/** A store's connections at one moment: PostgreSQL's pool, or the embedded store's one connection. */
export interface StoreUsage {
  /** Connections it may open. */
  readonly size: number;
  readonly inUse: number;
  readonly idle: number;
  /** Callers waiting for a connection. */
  readonly waiting: number;
}

export interface Stores {
  readonly control: Store<ControlDatabase>;
  readonly zones: Readonly<Record<ZoneName, Store<ZoneDatabase>>>;
  /** Every store, control plane first. */
  all(): Array<Store<unknown>>;
  close(): Promise<void>;
}

/** How PostgreSQL stores connect: pool size and the timeouts that keep a request from hanging. */
export interface PoolSettings {
  readonly poolSize: number;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Errors of idle connections (a server that went away); without a listener they would crash the process. */
  readonly onIdleError?: (store: StoreName, error: Error) => void;
}

/** Told of every failure of a store: a statement, a connection that could not be opened, one that was lost. */
export type StoreErrorListener = (store: StoreName, kind: StoreErrorKind) => void;

const DEFAULT_POOL: PoolSettings = { poolSize: 10, statementTimeoutMs: 5000, connectTimeoutMs: 1500 };

// Several nodes may start at once on empty databases: one migrates, the others wait.
const MIGRATION_LOCK_ID = 0x6b676d67;

export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
}

export const MIGRATIONS: Readonly<Record<'control' | 'zone', Record<string, Migration>>> = {
  control: controlMigrations,
  zone: zoneMigrations,
};

export function storeLocationsFromConfig(config: KeygateConfig): Record<StoreName, StoreLocation> {
  const locate = (name: StoreName): StoreLocation => {
    const url = config.databaseUrls[name];
    return url ? { kind: 'postgres', url } : { kind: 'embedded', dataDir: path.join(config.dataDir, 'stores', name) };
  };
  return { control: locate('control'), eu: locate('eu'), us: locate('us') };
}

/**
 * A pool whose failures to open a connection are reported: Kysely sees those before any
 * statement runs, so its log never does.
 */
function reportingConnectFailures(pool: pg.Pool, report: () => void): pg.Pool {
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property !== 'connect') return Reflect.get(target, property, receiver);
      return () => connect().catch((error: unknown) => {
        report();
        throw error;
      });
    },
  });
}

interface OpenedDatabase<DB> {
  readonly db: Kysely<DB>;
  usage(): StoreUsage;
  listen(channel: string, handlers: NoticeHandlers): NoticeListener | null;
}

async function openDatabase<DB>(name: StoreName, location: StoreLocation, pool: PoolSettings, onError?: StoreErrorListener): Promise<OpenedDatabase<DB>> {
  // Kysely's log sees every statement that fails, on either kind of store.
  const log = onError && ((event: LogEvent) => {
    if (event.level === 'error') onError(name, storeErrorKind(event.error));
  });
  const embedded = (pglite: PGlite): OpenedDatabase<DB> => {
    const dialect = new PGliteDialect(pglite);
    return {
      db: new Kysely<DB>({ dialect, log }),
      usage: () => {
        const { inUse, waiting } = dialect.usage();
        return { size: 1, inUse, idle: 1 - inUse, waiting };
      },
      listen: () => null,
    };
  };
  switch (location.kind) {
    case 'embedded': {
      mkdirSync(location.dataDir, { recursive: true, mode: 0o700 });
      return embedded(await PGlite.create({ dataDir: location.dataDir }));
    }
    case 'memory': {
      return embedded(await PGlite.create(location.template ? { loadDataDir: location.template } : {}));
    }
    case 'postgres': {
      const postgres = new pg.Pool({
        connectionString: location.url,
        max: pool.poolSize,
        connectionTimeoutMillis: pool.connectTimeoutMs,
        statement_timeout: pool.statementTimeoutMs,
        idle_in_transaction_session_timeout: pool.statementTimeoutMs * 2,
        // The client-side cut-off, for a server that stops answering without closing the socket.
        query_timeout: pool.statementTimeoutMs + 1000,
        keepAlive: true,
      });
      postgres.on('error', (error) => {
        onError?.(name, 'connection_lost');
        pool.onIdleError?.(name, error);
      });
      const connecting = onError ? reportingConnectFailures(postgres, () => onError(name, 'connect')) : postgres;
      return {
        db: new Kysely<DB>({ dialect: new PostgresDialect({ pool: preparingPool(connecting) }), log }),
        usage: () => ({
          size: pool.poolSize,
          inUse: postgres.totalCount - postgres.idleCount,
          idle: postgres.idleCount,
          waiting: postgres.waitingCount,
        }),
        listen: (channel, handlers) => listenOnPostgres(location.url, channel, handlers),
      };
    }
  }
}

/** Applies every pending migration, in order, once. */
export async function migrate(db: Kysely<any>, migrations: Record<string, Migration>): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
}

/** Migrates a PostgreSQL database under an advisory lock held on one connection. */
async function migrateExclusively(db: Kysely<any>, migrations: Record<string, Migration>): Promise<void> {
  await db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`.execute(connection);
    try {
      await migrate(connection, migrations);
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`.execute(connection);
    }
  });
}

function describeLocation(name: StoreName, location: StoreLocation): string {
  if (location.kind === 'postgres') return `KEYGATE_DATABASE_URL_${name.toUpperCase()}`;
  return location.kind === 'embedded' ? location.dataDir : 'in memory';
}

async function openStore<DB>(name: StoreName, location: StoreLocation, pool: PoolSettings, migrateOnOpen: boolean, onError?: StoreErrorListener): Promise<Store<DB>> {
  let db: Kysely<DB> | undefined;
  let usage: () => StoreUsage;
  let listen: OpenedDatabase<DB>['listen'];
  try {
    ({ db, usage, listen } = await openDatabase<DB>(name, location, pool, onError));
    const migrations = name === 'control' ? MIGRATIONS.control : MIGRATIONS.zone;
    if (!migrateOnOpen) await sql`select 1`.execute(db);
    else if (location.kind === 'postgres') await migrateExclusively(db, migrations);
    else await migrate(db, migrations);
  } catch (error) {
    await db?.destroy().catch(() => {});
    const cause = error instanceof AggregateError ? error.errors.map((e: Error) => e.message).join('; ') : (error as Error).message;
    throw new StoreOpenError(`cannot open the ${name} store (${describeLocation(name, location)}): ${cause}`);
  }
  return { name, db, usage, listen };
}

/** Opens (and, unless told otherwise, migrates) the control plane and every zone. */
export async function openStores(
  locations: Record<StoreName, StoreLocation>,
  options: { pool?: PoolSettings; migrate?: boolean; onError?: StoreErrorListener } = {},
): Promise<Stores> {
  const names: StoreName[] = ['control', ...ZONE_NAMES];
  const pool = options.pool ?? DEFAULT_POOL;
  const settled = await Promise.allSettled(names.map((name) => openStore<any>(name, locations[name], pool, options.migrate ?? true, options.onError)));
  const opened = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value as Store<unknown>] : []));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    await Promise.all(opened.map((store) => store.db.destroy()));
    throw failure.reason;
  }
  const byName = Object.fromEntries(opened.map((store) => [store.name, store]));
  return {
    control: byName.control as Store<ControlDatabase>,
    zones: Object.fromEntries(ZONE_NAMES.map((zone) => [zone, byName[zone]])) as Record<ZoneName, Store<ZoneDatabase>>,
    all: () => names.map((name) => byName[name]!),
    async close() {
      await Promise.all(opened.map((store) => store.db.destroy()));
    },
  };
}
