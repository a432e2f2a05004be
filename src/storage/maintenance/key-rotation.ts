import type { Kysely } from 'kysely';
import type { KeyRing } from '../../crypto/key-ring.js';
import type { ControlDatabase, ZoneDatabase } from '../schema.js';
import { sealedColumns } from '../../domain/residency/person-data.js';

export interface RotationProgress {
  readonly done: number;
  readonly total: number;
}

export interface RotationResult {
  /** Sealed keys moved under the current master key by this run. */
  readonly rewrapped: number;
  /** Sealed keys still under another master key (0 when the rotation is complete). */
  readonly remaining: number;
  readonly currentKeyId: string;
  /** Master keys that sealed something when the run started; once `remaining` is 0 none is needed. */
  readonly retiredKeyIds: readonly string[];
}

export interface RotationOptions {
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RotationProgress) => void;
}

/**
 * A column a store seals under its master key: per-person data keys in a zone, app
 * private keys in the control plane. Each value is bound to its table, column and row.
 */
interface SealedColumn {
  readonly table: string;
  readonly id: string;
  readonly keyId: string;
  readonly sealed: string;
}

/** What a zone seals under its master key, from the person-data registry (the per-person data keys). */
const ZONE_SEALED: SealedColumn[] = sealedColumns().filter((c) => c.sealing.under === 'master-key')
  .map(({ table, column, sealing }) => ({ table, id: sealing.rowKey, keyId: sealing.keyIdColumn!, sealed: column }));
const APP_PRIVATE_KEYS: SealedColumn = { table: 'apps', id: 'id', keyId: 'private_key_master_key_id', sealed: 'private_key_ct' };
const RETIRING_APP_KEYS: SealedColumn = { table: 'app_retiring_keys', id: 'key_id', keyId: 'private_key_master_key_id', sealed: 'private_key_ct' };
const SIGNING_KEYS: SealedColumn = { table: 'signing_keys', id: 'kid', keyId: 'private_key_master_key_id', sealed: 'private_key_ct' };
const EXTRANET_EMAILS: SealedColumn = { table: 'extranet_members', id: 'reference_id', keyId: 'email_master_key_id', sealed: 'email_ct' };

async function countNotUnder(db: Kysely<any>, column: SealedColumn, currentKeyId: string): Promise<{ total: number; keyIds: string[] }> {
  const rows: Array<{ key_id: string; n: string | number | bigint }> = await db.selectFrom(column.table)
    .select([`${column.keyId} as key_id`, (eb) => eb.fn.countAll().as('n')])
    .where(column.keyId, '<>', currentKeyId).groupBy(column.keyId).execute();
  return { total: rows.reduce((sum, r) => sum + Number(r.n), 0), keyIds: rows.map((r) => r.key_id) };
}

/** Re-wraps up to `limit` values not yet under the current key, in one transaction; returns how many. */
function rewrapBatch(db: Kysely<any>, column: SealedColumn, ring: KeyRing, limit: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const rows: Array<Record<string, any>> = await trx.selectFrom(column.table).select([column.id, column.keyId, column.sealed])
      .where(column.keyId, '<>', ring.current.id).orderBy(column.id).limit(limit).forUpdate().skipLocked().execute();
    for (const row of rows) {
      const at = { table: column.table, column: column.sealed, rowId: row[column.id] as string };
      const { keyId, sealed } = ring.seal(at, ring.open(row[column.keyId], at, row[column.sealed]));
      await trx.updateTable(column.table).set({ [column.keyId]: keyId, [column.sealed]: sealed })
        .where(column.id, '=', row[column.id]).where(column.keyId, '=', row[column.keyId]).execute();
    }
    return rows.length;
  });
}

/**
 * Moves everything a store sealed under older master keys to its current one, in small
 * committed batches, while the service keeps running (the ring still opens the old keys).
 * Interrupted, it resumes where it stopped: each run only touches rows not yet moved.
 */
async function rotate(db: Kysely<any>, column: SealedColumn, ring: KeyRing, options: RotationOptions): Promise<RotationResult> {
  const batchSize = options.batchSize ?? 200;
  const { total, keyIds } = await countNotUnder(db, column, ring.current.id);
  let done = 0;
  options.onProgress?.({ done, total });
  while (!options.signal?.aborted) {
    const moved = await rewrapBatch(db, column, ring, batchSize);
    if (moved === 0) break;
    done += moved;
    options.onProgress?.({ done, total: Math.max(total, done) });
  }
  const { total: remaining } = await countNotUnder(db, column, ring.current.id);
  return { rewrapped: done, remaining, currentKeyId: ring.current.id, retiredKeyIds: keyIds };
}

export const rotateZoneKeys = (db: Kysely<ZoneDatabase>, ring: KeyRing, options: RotationOptions = {}) =>
  rotateAll(db, ZONE_SEALED, ring, options);

/** The control plane seals app private keys (current and retiring), Keygate's signing keys and private-app lists. */
export const rotateControlKeys = (db: Kysely<ControlDatabase>, ring: KeyRing, options: RotationOptions = {}) =>
  rotateAll(db, [APP_PRIVATE_KEYS, RETIRING_APP_KEYS, SIGNING_KEYS, EXTRANET_EMAILS], ring, options);

async function rotateAll(db: Kysely<any>, columns: readonly SealedColumn[], ring: KeyRing, options: RotationOptions): Promise<RotationResult> {
  let rewrapped = 0;
  let remaining = 0;
  const retired = new Set<string>();
  for (const column of columns) {
    const before = rewrapped;
    const result = await rotate(db, column, ring, {
      ...options,
      onProgress: options.onProgress && ((p) => options.onProgress!({ done: before + p.done, total: before + p.total })),
    });
    rewrapped += result.rewrapped;
    remaining += result.remaining;
    for (const id of result.retiredKeyIds) retired.add(id);
  }
  return { rewrapped, remaining, currentKeyId: ring.current.id, retiredKeyIds: [...retired] };
}
