import { sql, type Kysely, type RawBuilder } from 'kysely';
import {
  CHAIN_FIELDS, GENESIS_HASH, MOVED_OUT_ACTION, ZONE_FIELDS, chainHash, hex, parseMovedOutPurpose, redactionDigest, sameBytes, signCheckpoint,
  type ChainKind, type ChainRecord,
} from '../../domain/audit/chain.js';

/** What is wrong with a store's trail, at the first place it goes wrong. */
export interface ChainFailure {
  /**
   * - `edited`: a record's contents (or its hash) changed;
   * - `deleted`: records are missing between two others, or behind a checkpoint;
   * - `inserted`: a record was added that is not part of the chain;
   * - `reordered`: a record sits where it was not written;
   * - `truncated`: the chain ends before a signed checkpoint;
   * - `checkpoint`: a checkpoint's signature does not verify.
   */
  readonly kind: 'edited' | 'deleted' | 'inserted' | 'reordered' | 'truncated' | 'checkpoint';
  /** The record concerned (for `deleted`, the first missing id; for `checkpoint`, its `last_id`). */
  readonly id: string;
  readonly message: string;
}

export interface ChainReport {
  readonly store: string;
  readonly ok: boolean;
  /** Records verified (before the failure, if any). */
  readonly records: number;
  /** The last verified record. */
  readonly head: { readonly id: string; readonly hash: string } | null;
  /** Checkpoints whose signature verified and whose record the chain passes through. */
  readonly checkpoints: number;
  readonly failure?: ChainFailure;
}

/** The keys a store's checkpoints are signed with: derived keys by master key id, the current one first. */
export interface CheckpointKeys {
  readonly current: { readonly id: string; readonly key: Buffer };
  readonly byId: ReadonlyMap<string, Buffer>;
}

export interface StoredCheckpoint {
  readonly id: string;
  readonly createdUs: string;
  readonly lastId: string;
  readonly lastHash: Uint8Array;
  readonly keyId: string;
  readonly signature: Uint8Array;
}

export interface VerifyOptions {
  /** Rows per page read. */
  readonly batchSize?: number;
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Start after this record, trusted (a verified checkpoint): checks only the records
   * appended since, and that this record is still there with this hash.
   */
  readonly from?: { readonly id: string; readonly hash: Uint8Array; readonly checkpointId: string };
}

const micros = (column: string) => `((extract(epoch from ${column}) * 1000000)::bigint)::text`;
const US = sql.raw(micros('occurred_at'));
// Zone records may be copies (with an origin) or redacted by a move.
const ZONE_EXTRA = sql.raw(`, origin_store, origin_id::text as origin_id, ${micros('origin_at')} as origin_us, redacted_by::text as redacted_by`);

interface StoredRecord extends ChainRecord {
  /** The move record that redacted this one, if any (zone stores). */
  readonly redactedBy: string | null;
}

/** Reads records after `after` in chain (id) order, every value as the text that is encoded. */
async function readPage(db: Kysely<any>, kind: ChainKind, after: string, limit: number): Promise<StoredRecord[]> {
  const columns = sql.raw(CHAIN_FIELDS[kind].map((name) => `${name}::text as ${name}`).join(', '));
  const { rows } = await sql<Record<string, any>>`
    select id::text as id, ${US} as occurred_us, ${columns}${kind === 'zone' ? ZONE_EXTRA : sql.raw('')}, prev_hash, hash
    from audit_events where id > ${after}::bigint order by audit_events.id limit ${limit}`.execute(db);
  const names = kind === 'zone' ? [...ZONE_FIELDS, 'origin_store', 'origin_id', 'origin_us'] : CHAIN_FIELDS[kind];
  return rows.map((row) => ({
    id: row.id,
    occurredUs: row.occurred_us,
    fields: Object.fromEntries(names.map((name) => [name, row[name] ?? null])),
    prevHash: row.prev_hash ?? Buffer.alloc(0),
    hash: row.hash ?? Buffer.alloc(0),
    redactedBy: row.redacted_by ?? null,
  }));
}

/** A redacted record keeps nothing but its id, time, hashes and the move that redacted it. */
function isTombstone(row: StoredRecord): boolean {
  const f = row.fields;
  return f.action === 'redacted' && f.actor_kind === 'system'
    && ['person_id', 'field', 'actor_id', 'app_id', 'purpose', 'request_id', 'origin_store', 'origin_id', 'origin_us'].every((name) => f[name] === null)
    && row.redactedBy !== null && BigInt(row.redactedBy) > BigInt(row.id);
}

/**
 * Checks that a move record commits to exactly the records that name it as their redactor
 * (wherever they are in the chain, so also behind a checkpoint); null when it does.
 */
async function redactionProblem(db: Kysely<any>, move: StoredRecord): Promise<ChainFailure | null> {
  const claim = parseMovedOutPurpose(move.fields.purpose ?? null);
  const { rows } = await sql<{ id: string; hash: Uint8Array }>`
    select id::text as id, hash from audit_events where redacted_by = ${move.id}::bigint order by audit_events.id`.execute(db);
  if (claim && claim.count === rows.length && claim.digest === redactionDigest(rows)) return null;
  const id = rows[0]?.id ?? move.id;
  return {
    kind: 'edited', id,
    message: `record #${move.id} (a zone move) does not commit to the records redacted in its name: records were redacted outside the move, or the move record was edited`,
  };
}

export async function readCheckpoints(db: Kysely<any>, newestOnly = false): Promise<StoredCheckpoint[]> {
  const { rows } = await sql<Record<string, any>>`
    select id::text as id, ((extract(epoch from created_at) * 1000000)::bigint)::text as created_us,
           last_id::text as last_id, last_hash, key_id, signature
    from audit_checkpoints
    order by audit_checkpoints.last_id ${sql.raw(newestOnly ? 'desc' : 'asc')}, audit_checkpoints.id ${sql.raw(newestOnly ? 'desc' : 'asc')}
    ${sql.raw(newestOnly ? 'limit 1' : '')}`.execute(db);
  return rows.map((row) => ({
    id: row.id, createdUs: row.created_us, lastId: row.last_id, lastHash: row.last_hash, keyId: row.key_id, signature: row.signature,
  }));
}

/** Why a checkpoint's signature does not verify, or null when it does. */
export function checkpointProblem(store: string, checkpoint: StoredCheckpoint, keys: CheckpointKeys): string | null {
  const key = keys.byId.get(checkpoint.keyId);
  if (!key) return `checkpoint ${checkpoint.id} is signed under master key ${checkpoint.keyId}, which is not configured`;
  const expected = signCheckpoint(key, { store, lastId: checkpoint.lastId, lastHash: checkpoint.lastHash, createdUs: checkpoint.createdUs });
  return sameBytes(expected, checkpoint.signature) ? null : `checkpoint ${checkpoint.id} (up to #${checkpoint.lastId}) has an invalid signature: it was forged or altered`;
}

const idOf = async (db: Kysely<any>, query: RawBuilder<{ id: string }>): Promise<string | null> =>
  (await query.execute(db)).rows[0]?.id ?? null;

/**
 * Works out what happened where record `row` does not follow `previous` (the last record
 * that verified; null at the start). Only runs on a failure: its look-ups may scan.
 */
async function diagnoseBrokenLink(
  db: Kysely<any>, row: ChainRecord, previous: { id: string; hash: Uint8Array } | null, expectedPrev: Uint8Array, contentOk: boolean,
): Promise<ChainFailure> {
  // The record this one says it follows, and the record that really follows `previous`.
  const claimed = await idOf(db, sql<{ id: string }>`select id::text as id from audit_events where hash = ${row.prevHash} order by audit_events.id limit 1`);
  if (claimed !== null && BigInt(claimed) > BigInt(row.id)) {
    return { kind: 'reordered', id: row.id, message: `record #${row.id} is out of order: it was written after record #${claimed}` };
  }
  const successor = await idOf(db, sql<{ id: string }>`
    select id::text as id from audit_events where prev_hash = ${expectedPrev} and id > ${row.id}::bigint order by audit_events.id limit 1`);
  if (successor !== null) {
    return {
      kind: 'inserted', id: row.id,
      message: `record #${row.id} was inserted: the chain goes from ${previous ? `record #${previous.id}` : 'its start'} straight to record #${successor}`,
    };
  }
  if (claimed !== null && previous !== null && BigInt(claimed) < BigInt(previous.id)) {
    const first = (await idOf(db, sql<{ id: string }>`select id::text as id from audit_events where id > ${claimed}::bigint order by audit_events.id limit 1`)) ?? previous.id;
    return {
      kind: 'inserted', id: first,
      message: `record #${first} was inserted: record #${row.id} follows record #${claimed} directly, so what stands between them is not part of the chain`,
    };
  }
  if (!contentOk) {
    return { kind: 'edited', id: row.id, message: `record #${row.id} was edited: its contents and its link no longer match its hash` };
  }
  const gap = BigInt(row.id) - BigInt(previous?.id ?? '0') - 1n;
  if (gap <= 0n) {
    // No id between the two: nothing can be missing, so the record before was rewritten (hash recomputed).
    const edited = previous?.id ?? row.id;
    return { kind: 'edited', id: edited, message: `record #${edited} was edited and its hash recomputed: record #${row.id} still commits to the original` };
  }
  const first = (BigInt(previous?.id ?? '0') + 1n).toString();
  const last = (BigInt(row.id) - 1n).toString();
  return {
    kind: 'deleted', id: first,
    message: first === last
      ? `record #${first} was deleted: record #${row.id} commits to a record that is not there`
      : `records between #${previous?.id ?? 'the start'} and #${row.id} (#${first}–#${last}) were deleted: record #${row.id} commits to a record that is not there`,
  };
}

/**
 * Walks a store's chain in id order and stops at the first record that was edited,
 * deleted, inserted or reordered; checks every checkpoint's signature, and that the
 * chain passes through each checkpoint's record with the signed hash (so cutting off
 * the tail behind a checkpoint is detected).
 */
export async function verifyChain(db: Kysely<any>, store: string, kind: ChainKind, keys: CheckpointKeys, options: VerifyOptions = {}): Promise<ChainReport> {
  const batchSize = options.batchSize ?? 2000;
  const from = options.from;
  let records = 0;
  let verifiedCheckpoints = 0;
  let previous: { id: string; hash: Uint8Array } | null = null;
  const fail = (failure: ChainFailure): ChainReport => ({
    store, ok: false, records, head: previous && { id: previous.id, hash: hex(previous.hash) }, checkpoints: verifiedCheckpoints, failure,
  });

  const checkpoints = from ? [] : await readCheckpoints(db);
  for (const checkpoint of checkpoints) {
    const problem = checkpointProblem(store, checkpoint, keys);
    if (problem) return fail({ kind: 'checkpoint', id: checkpoint.lastId, message: problem });
  }

  let expectedPrev: Uint8Array = GENESIS_HASH;
  let after = '0';
  if (from) {
    const { rows } = await sql<{ hash: Uint8Array }>`select hash from audit_events where id = ${from.id}::bigint`.execute(db);
    if (!rows[0]) {
      return fail({ kind: 'truncated', id: from.id, message: `record #${from.id}, signed by checkpoint ${from.checkpointId}, is missing: the chain was cut behind it` });
    }
    if (!sameBytes(rows[0].hash, from.hash)) {
      return fail({ kind: 'edited', id: from.id, message: `record #${from.id} differs from what checkpoint ${from.checkpointId} signed: the chain was rewritten` });
    }
    previous = { id: from.id, hash: from.hash };
    expectedPrev = from.hash;
    after = from.id;
  }

  const { rows: [counted] } = await sql<{ n: string }>`select count(*)::text as n from audit_events where id > ${after}::bigint`.execute(db);
  const total = Number(counted?.n ?? 0);
  options.onProgress?.(0, total);
  let next = 0;
  // Redacted records seen whose move record is still ahead: by id, the move they name.
  const awaitingMove = new Map<string, string>();
  for (;;) {
    const page = await readPage(db, kind, after, batchSize);
    if (page.length === 0) break;
    for (const row of page) {
      const redacted = row.redactedBy !== null;
      if (redacted && !isTombstone(row)) {
        return fail({ kind: 'edited', id: row.id, message: `record #${row.id} was edited: it is marked as redacted by a zone move but is not a proper redaction` });
      }
      // A redacted record's hash cannot be recomputed; its move record commits to it instead.
      const contentOk = redacted || sameBytes(chainHash(kind, row.prevHash, row), row.hash);
      const linkOk = sameBytes(row.prevHash, expectedPrev);
      if (!linkOk) return fail(await diagnoseBrokenLink(db, row, previous, expectedPrev, contentOk));
      if (!contentOk) return fail({ kind: 'edited', id: row.id, message: `record #${row.id} was edited: its contents no longer match its hash` });
      if (redacted) awaitingMove.set(row.id, row.redactedBy!);
      if (kind === 'zone' && !redacted && row.fields.action === MOVED_OUT_ACTION) {
        const problem = await redactionProblem(db, row);
        if (problem) return fail(problem);
        for (const [id, move] of awaitingMove) if (move === row.id) awaitingMove.delete(id);
      }
      // Checkpoints at or before this record: the chain must pass through their record, with their hash.
      while (next < checkpoints.length && BigInt(checkpoints[next]!.lastId) <= BigInt(row.id)) {
        const checkpoint = checkpoints[next]!;
        if (checkpoint.lastId !== row.id) {
          return fail({
            kind: 'deleted', id: checkpoint.lastId,
            message: `record #${checkpoint.lastId}, signed by checkpoint ${checkpoint.id}, is missing: the chain after record #${previous?.id ?? 'its start'} was rewritten`,
          });
        }
        if (!sameBytes(checkpoint.lastHash, row.hash)) {
          return fail({ kind: 'edited', id: row.id, message: `record #${row.id} differs from what checkpoint ${checkpoint.id} signed: the chain was rewritten up to here` });
        }
        verifiedCheckpoints++;
        next++;
      }
      previous = { id: row.id, hash: row.hash };
      expectedPrev = row.hash;
      records++;
    }
    after = page[page.length - 1]!.id;
    options.onProgress?.(records, Math.max(total, records));
  }
  const unaccounted = awaitingMove.keys().next();
  if (!unaccounted.done) {
    return fail({ kind: 'edited', id: unaccounted.value, message: `record #${unaccounted.value} was redacted, but no zone move record accounts for it` });
  }
  if (next < checkpoints.length) {
    const checkpoint = checkpoints[next]!;
    return fail({
      kind: 'truncated', id: checkpoint.lastId,
      message: `the chain ends at ${previous ? `record #${previous.id}` : 'no record'}, but checkpoint ${checkpoint.id} signed it up to record #${checkpoint.lastId}: the records after ${previous ? `#${previous.id}` : 'its start'} were deleted`,
    });
  }
  return { store, ok: true, records, head: previous && { id: previous.id, hash: hex(previous.hash) }, checkpoints: verifiedCheckpoints + (from ? 1 : 0) };
}
