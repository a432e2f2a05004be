import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGliteDialect } from '../../src/storage/pglite-dialect.js';
import { migrate, MIGRATIONS, type StoreLocation, type StoreName } from '../../src/storage/stores.js';

// Creating a PGlite database costs seconds; loading a dumped one costs a fraction of
// that. So each test process clones stores from a migrated template, cached on disk
// and keyed by the migrations' source so that a schema change rebuilds it.
const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/storage/migrations');

function templateKey(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(migrationsDir).sort()) hash.update(file).update(readFileSync(path.join(migrationsDir, file)));
  return hash.digest('hex').slice(0, 16);
}

const templates = new Map<'control' | 'zone', Promise<Blob>>();

async function buildTemplate(kind: 'control' | 'zone'): Promise<Blob> {
  const cacheDir = path.join(os.tmpdir(), 'keygate-test-templates');
  const file = path.join(cacheDir, `${templateKey()}-${kind}.tar`);
  if (existsSync(file)) return new Blob([readFileSync(file)]);
  const pglite = await PGlite.create();
  const db = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) });
  await migrate(db, MIGRATIONS[kind]);
  const dump = await pglite.dumpDataDir('none');
  await db.destroy();
  const bytes = Buffer.from(await dump.arrayBuffer());
  mkdirSync(cacheDir, { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, bytes);
  renameSync(partial, file);
  return new Blob([bytes]);
}

function template(kind: 'control' | 'zone'): Promise<Blob> {
  let pending = templates.get(kind);
  if (!pending) {
    pending = buildTemplate(kind);
    templates.set(kind, pending);
  }
  return pending;
}

/** In-memory stores for one Keygate, each a fresh clone of the migrated template. */
export async function memoryStoreLocations(): Promise<Record<StoreName, StoreLocation>> {
  const [control, zone] = await Promise.all([template('control'), template('zone')]);
  return {
    control: { kind: 'memory', template: control },
    eu: { kind: 'memory', template: zone },
    us: { kind: 'memory', template: zone },
  };
}
