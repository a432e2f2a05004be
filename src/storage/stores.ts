import { PGlite } from '@electric-sql/pglite';
import { Kysely, Migrator, PostgresDialect, type Migration } from 'kysely';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { KeygateConfig } from '../config/config.js';
import { ZONE_NAMES, type ZoneName } from '../domain/zones/zones.js';
import { controlMigrations } from './migrations/control.js';
import { zoneMigrations } from './migrations/zone.js';
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
}

export interface Stores {
  readonly control: Store<ControlDatabase>;
  readonly zones: Readonly<Record<ZoneName, Store<ZoneDatabase>>>;
  close(): Promise<void>;
}

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

async function openDatabase<DB>(location: StoreLocation): Promise<Kysely<DB>> {
  switch (location.kind) {
    case 'embedded': {
      mkdirSync(location.dataDir, { recursive: true, mode: 0o700 });
      const pglite = await PGlite.create({ dataDir: location.dataDir });
      return new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
    }
    case 'memory': {
      const pglite = await PGlite.create(location.template ? { loadDataDir: location.template } : {});
      return new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
    }
    case 'postgres':
      return new Kysely<DB>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: location.url, max: 10 }) }) });
  }
}

/** Applies every pending migration; Kysely's migration lock serialises concurrent starters. */
export async function migrate(db: Kysely<any>, migrations: Record<string, Migration>): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
}

async function openStore<DB>(name: StoreName, location: StoreLocation): Promise<Store<DB>> {
  let db: Kysely<DB>;
  try {
    db = await openDatabase<DB>(location);
    await migrate(db, name === 'control' ? MIGRATIONS.control : MIGRATIONS.zone);
  } catch (error) {
    const where = location.kind === 'postgres' ? 'KEYGATE_DATABASE_URL_' + name.toUpperCase()
      : location.kind === 'embedded' ? location.dataDir : 'memory';
    throw new StoreOpenError(`cannot open the ${name} store (${where}): ${(error as Error).message}`);
  }
  return { name, db };
}

/** Opens (and migrates) the control plane and every zone. */
export async function openStores(locations: Record<StoreName, StoreLocation>): Promise<Stores> {
  const names: StoreName[] = ['control', ...ZONE_NAMES];
  const settled = await Promise.allSettled(names.map((name) => openStore<any>(name, locations[name])));
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
    async close() {
      await Promise.all(opened.map((store) => store.db.destroy()));
    },
  };
}
