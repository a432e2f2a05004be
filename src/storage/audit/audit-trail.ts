import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { hkdfKey, type IdentifiedKey } from '../../crypto/master-keys.js';
import type { StoreName, Stores } from '../stores.js';
import { ZONE_NAMES } from '../../domain/zones/zones.js';
import { AUDIT_CHAIN_LOCK } from '../audit-append.js';
import { CHAIN_FIELDS, CHECKPOINT_KEY_PURPOSE, hex, signCheckpoint, type ChainKind } from '../../domain/audit/chain.js';
import { checkpointProblem, readCheckpoints, verifyChain, type ChainFailure, type ChainReport, type CheckpointKeys } from './verify.js';

/** Taken (try-lock) by whoever writes a checkpoint, so that nodes do not write the same one twice. */
const CHECKPOINT_LOCK = 1801937252;

export const AUDIT_STORES: readonly StoreName[] = ['control', ...ZONE_NAMES];

export interface StoreVerification extends ChainReport {
  /** Set when a checkpoint was signed at the verified head. */
  readonly checkpointed?: string;
}

export interface CheckpointResult {
  readonly store: StoreName;
  /** The record the new checkpoint signs; null when none was written. */
  readonly created: string | null;
  /** Why none was written when the chain since the last checkpoint does not verify. */
  readonly failure?: ChainFailure;
}

/** One record as `keygate audit export` writes it (one JSON line). */
export interface ExportedRecord {
  readonly store: StoreName;
  readonly id: number;
  /** ISO 8601 with microseconds, UTC. */
  readonly occurred_at: string;
  readonly [field: string]: string | number | null;
  readonly prev_hash: string;
  readonly hash: string;
}

export interface ExportPage {
  readonly records: ExportedRecord[];
  /** Pass as `after` for the next page; null at the end. */
  readonly next: string | null;
}

const isoMicros = (us: string): string => {
  const micros = BigInt(us);
  const millis = micros / 1000n;
  const rest = micros % 1000n;
  return new Date(Number(millis)).toISOString().replace('Z', `${rest.toString().padStart(3, '0')}Z`);
};

/**
 * The audit trails of every store as the operator sees them: verification, signed
 * checkpoints, export. Each store (every zone and the control plane) is one hash chain;
 * its checkpoints are signed with an HMAC key derived from that store's master key.
 */
export class AuditTrail {
  readonly #keys: Record<StoreName, CheckpointKeys>;

  /** `masterKeys`: per store, its current master key first, then the ones being retired. */
  constructor(
    private readonly stores: Stores,
    masterKeys: Readonly<Record<StoreName, readonly IdentifiedKey[]>>,
    private readonly logger?: Logger,
  ) {
    this.#keys = Object.fromEntries(AUDIT_STORES.map((store) => {
      const keys = masterKeys[store];
      const current = keys[0];
      if (!current) throw new Error(`no master key for the ${store} store`);
      const byId = new Map(keys.map((k) => [k.id, hkdfKey(k.key, CHECKPOINT_KEY_PURPOSE)]));
      return [store, { current: { id: current.id, key: byId.get(current.id)! }, byId }];
    })) as unknown as Record<StoreName, CheckpointKeys>;
  }

  #db(store: StoreName): Kysely<any> {
    return store === 'control' ? this.stores.control.db : this.stores.zones[store].db;
  }

  static kindOf(store: StoreName): ChainKind {
    return store === 'control' ? 'control' : 'zone';
  }

  /**
   * Verifies the whole chain of a store and every checkpoint. With `checkpoint`, a chain
   * that verifies is then sealed by a checkpoint at the head that was verified.
   */
  async verify(store: StoreName, options: { checkpoint?: boolean; batchSize?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<StoreVerification> {
    const report = await verifyChain(this.#db(store), store, AuditTrail.kindOf(store), this.#keys[store], options);
    if (!report.ok || !options.checkpoint || !report.head) return report;
    const written = await this.#writeCheckpoint(store, report.head.id, Buffer.from(report.head.hash, 'hex'));
    return written ? { ...report, checkpointed: report.head.id } : report;
  }

  /**
   * Signs a checkpoint at the head of a store's chain, after verifying what was appended
   * since the newest checkpoint (so a checkpoint never vouches for a broken chain). Cheap
   * enough to run every few minutes: it reads only the records since the last one.
   */
  async checkpoint(store: StoreName): Promise<CheckpointResult> {
    const db = this.#db(store);
    const [newest] = await readCheckpoints(db, true);
    if (newest) {
      const problem = checkpointProblem(store, newest, this.#keys[store]);
      if (problem) return { store, created: null, failure: { kind: 'checkpoint', id: newest.lastId, message: problem } };
    }
    const report = await verifyChain(db, store, AuditTrail.kindOf(store), this.#keys[store], {
      from: newest && { id: newest.lastId, hash: newest.lastHash, checkpointId: newest.id },
    });
    if (!report.ok) return { store, created: null, failure: report.failure };
    if (!report.head || report.head.id === newest?.lastId) return { store, created: null };
    const written = await this.#writeCheckpoint(store, report.head.id, Buffer.from(report.head.hash, 'hex'));
    return { store, created: written ? report.head.id : null };
  }

  /**
   * Where a store's chain stands now: the id of its newest record (ids are taken under the
   * chain lock, so it grows by one per record appended; an append rolled back after taking
   * its id leaves a gap) and how many transactions wait for the chain lock at this moment.
   * One index lookup and one look at the lock table: cheap enough for every scrape.
   */
  async head(store: StoreName): Promise<{ readonly lastId: number; readonly lockWaiters: number }> {
    const { rows: [row] } = await sql<{ last_id: string; waiters: number }>`
      select coalesce((select max(id) from audit_events), 0)::text as last_id,
             (select count(*) from pg_locks
               where locktype = 'advisory' and not granted and classid = 0 and objid = ${AUDIT_CHAIN_LOCK} and objsubid = 1
                 and database = (select oid from pg_database where datname = current_database()))::int as waiters`.execute(this.#db(store));
    return { lastId: Number(row?.last_id ?? 0), lockWaiters: row?.waiters ?? 0 };
  }

  /** Checkpoints every store; what fails is logged and reported, the others go ahead. */
  async checkpointAll(): Promise<CheckpointResult[]> {
    const results: CheckpointResult[] = [];
    for (const store of AUDIT_STORES) {
      try {
        const result = await this.checkpoint(store);
        if (result.failure) this.logger?.error({ store, failure: result.failure }, `the audit trail of ${store} does not verify: ${result.failure.message}`);
        results.push(result);
      } catch (error) {
        this.logger?.warn({ store, err: (error as Error).message }, 'could not checkpoint the audit trail; will retry');
        results.push({ store, created: null });
      }
    }
    return results;
  }

  async #writeCheckpoint(store: StoreName, lastId: string, lastHash: Buffer): Promise<boolean> {
    const key = this.#keys[store].current;
    return this.#db(store).transaction().execute(async (trx) => {
      const { rows: [locked] } = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${CHECKPOINT_LOCK}) as ok`.execute(trx);
      if (!locked?.ok) return false;
      const { rows: [covered] } = await sql<{ n: string }>`select count(*)::text as n from audit_checkpoints where last_id >= ${lastId}::bigint`.execute(trx);
      if (Number(covered?.n ?? 0) > 0) return false;
      const createdAt = new Date();
      const signature = signCheckpoint(key.key, { store, lastId, lastHash, createdUs: String(createdAt.getTime() * 1000) });
      await trx.insertInto('audit_checkpoints').values({
        created_at: createdAt, last_id: lastId, last_hash: lastHash, key_id: key.id, signature,
      }).execute();
      return true;
    });
  }

  /**
   * After a master-key rotation: signs again, under the current key, every checkpoint
   * whose signature verifies under an older one, so that the old key can be destroyed.
   * A checkpoint that does not verify is left as it is (verify reports it).
   */
  async resignCheckpoints(store: StoreName): Promise<number> {
    const keys = this.#keys[store];
    const db = this.#db(store);
    let resigned = 0;
    for (const checkpoint of await readCheckpoints(db)) {
      if (checkpoint.keyId === keys.current.id || checkpointProblem(store, checkpoint, keys)) continue;
      const signature = signCheckpoint(keys.current.key, { store, lastId: checkpoint.lastId, lastHash: checkpoint.lastHash, createdUs: checkpoint.createdUs });
      await db.updateTable('audit_checkpoints').set({ key_id: keys.current.id, signature })
        .where('id', '=', checkpoint.id).where('key_id', '=', checkpoint.keyId).execute();
      resigned++;
    }
    return resigned;
  }

  /** How many records `exportPage` would go through. */
  async count(store: StoreName, since?: Date): Promise<number> {
    const { rows: [row] } = await sql<{ n: string }>`
      select count(*)::text as n from audit_events ${since ? sql`where occurred_at >= ${since}` : sql``}`.execute(this.#db(store));
    return Number(row?.n ?? 0);
  }

  /** One page of a store's records in chain order, with their hashes (so a copy can be checked). */
  async exportPage(store: StoreName, options: { since?: Date; after?: string; limit?: number } = {}): Promise<ExportPage> {
    const fields = CHAIN_FIELDS[AuditTrail.kindOf(store)];
    const limit = Math.min(Math.max(options.limit ?? 1000, 1), 10_000);
    const after = options.after && /^\d{1,19}$/.test(options.after) ? options.after : '0';
    const { rows } = await sql<Record<string, any>>`
      select id::text as id, ((extract(epoch from occurred_at) * 1000000)::bigint)::text as occurred_us,
             ${sql.raw(fields.map((name) => `${name}::text as ${name}`).join(', '))}, prev_hash, hash
      from audit_events
      where id > ${after}::bigint ${options.since ? sql`and occurred_at >= ${options.since}` : sql``}
      order by audit_events.id limit ${limit}`.execute(this.#db(store));
    const records = rows.map((row): ExportedRecord => ({
      store,
      id: Number(row.id),
      occurred_at: isoMicros(row.occurred_us),
      ...Object.fromEntries(fields.map((name) => [name, row[name] ?? null])),
      prev_hash: hex(row.prev_hash),
      hash: hex(row.hash),
    }));
    return { records, next: rows.length === limit ? rows[rows.length - 1]!.id : null };
  }
}
