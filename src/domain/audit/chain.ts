import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The hash chain of a store's audit trail.
 *
 * Every record commits to the one before it:
 *
 *     hash = SHA-256(prev_hash || encode(record))
 *
 * where `prev_hash` is the previous record's `hash` (32 zero bytes for the first record
 * of a store) and `encode` is this canonical, unambiguous encoding:
 *
 *     encode(record) = item(TAG) || item(id) || item(occurred_at) || item(field_1) || … || item(field_n)
 *     item(NULL)     = 0x00
 *     item(text)     = 0x01 || uint32_be(byte length of UTF-8(text)) || UTF-8(text)
 *
 * - `TAG` names the layout and its version: `keygate.audit.zone.v1` or `keygate.audit.control.v1`.
 * - `id` is the record's id in decimal, `occurred_at` the number of microseconds since
 *   1970-01-01T00:00:00Z in decimal (PostgreSQL keeps microseconds; JavaScript dates do not).
 * - uuids are in their canonical lowercase form, as PostgreSQL prints them.
 * - The fields follow in the fixed order of `ZONE_FIELDS` or `CONTROL_FIELDS`.
 *
 * A zone record copied from another zone when its person moved (`origin_store` set) is
 * encoded under the tag `keygate.audit.zone.copy.v1`, with three more items after the
 * fields: `origin_store`, `origin_id` (decimal) and `origin_at` (microseconds, decimal).
 *
 * A moved person's records in the zone they left are *redacted*: their contents are
 * removed and `redacted_by` names the move record, which lists them (see
 * `redactionDigest`). A redacted record keeps its id, time and both hashes, so the chain
 * around it still links; its own hash can no longer be recomputed, which is why the move
 * record commits to it.
 *
 * Every item says whether it is present and how long it is, so no two different records
 * encode alike. Records are written by the SQL function `keygate_audit_append` (zone
 * migration 0006, control migration 0003), which implements this same encoding; this
 * module is the independent implementation that `keygate audit verify` recomputes with.
 */

export type ChainKind = 'zone' | 'control';

export const CHAIN_TAGS: Readonly<Record<ChainKind, string>> = {
  zone: 'keygate.audit.zone.v1',
  control: 'keygate.audit.control.v1',
};
const ZONE_COPY_TAG = 'keygate.audit.zone.copy.v1';

/** The columns of a zone record after `id` and `occurred_at`, in encoding order. */
export const ZONE_FIELDS = ['person_id', 'action', 'field', 'actor_kind', 'actor_id', 'app_id', 'purpose', 'request_id'] as const;
/** The columns of a control-plane record after `id` and `occurred_at`, in encoding order. */
export const CONTROL_FIELDS = ['app_id', 'action', 'detail', 'actor_kind', 'actor_id', 'request_id'] as const;

export const CHAIN_FIELDS: Readonly<Record<ChainKind, readonly string[]>> = { zone: ZONE_FIELDS, control: CONTROL_FIELDS };
/** What a copied zone record adds after its fields, in encoding order (`origin_us`: microseconds). */
export const ZONE_COPY_FIELDS = ['origin_store', 'origin_id', 'origin_us'] as const;

/** The `prev_hash` of a store's first record. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/** A stored record as the chain sees it: every value as text, exactly as encoded. */
export interface ChainRecord {
  /** Decimal. */
  readonly id: string;
  /** Microseconds since the epoch, decimal. */
  readonly occurredUs: string;
  readonly fields: Readonly<Record<string, string | null>>;
  readonly prevHash: Uint8Array;
  readonly hash: Uint8Array;
}

function item(value: string | null): Buffer {
  if (value === null) return Buffer.from([0]);
  const bytes = Buffer.from(value, 'utf8');
  const head = Buffer.alloc(5);
  head[0] = 1;
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/** The canonical encoding of a record (see above). */
export function encodeRecord(kind: ChainKind, record: Pick<ChainRecord, 'id' | 'occurredUs' | 'fields'>): Buffer {
  const copy = kind === 'zone' && (record.fields.origin_store ?? null) !== null;
  const items = [item(copy ? ZONE_COPY_TAG : CHAIN_TAGS[kind]), item(record.id), item(record.occurredUs)];
  for (const name of CHAIN_FIELDS[kind]) items.push(item(record.fields[name] ?? null));
  if (copy) for (const name of ZONE_COPY_FIELDS) items.push(item(record.fields[name] ?? null));
  return Buffer.concat(items);
}

/** The action of the record a zone move leaves in the zone the person left. */
export const MOVED_OUT_ACTION = 'person.zone_moved_out';

/**
 * What a move record commits to about the records it redacted:
 * SHA-256 over `id ":" hex(hash) "\n"` for each, in id order, as hex.
 */
export function redactionDigest(records: ReadonlyArray<{ readonly id: string; readonly hash: Uint8Array }>): string {
  const digest = createHash('sha256');
  for (const r of [...records].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))) digest.update(`${r.id}:${hex(r.hash)}\n`);
  return digest.digest('hex');
}

/** The `purpose` of a move record: where the person went, and which records it redacted. */
export const movedOutPurpose = (toZone: string, redacted: ReadonlyArray<{ readonly id: string; readonly hash: Uint8Array }>): string =>
  `to ${toZone}; redacted ${redacted.length} records, sha256 ${redactionDigest(redacted)}`;

export function parseMovedOutPurpose(purpose: string | null): { count: number; digest: string } | null {
  const match = /^to [a-z]+; redacted (\d+) records, sha256 ([0-9a-f]{64})$/.exec(purpose ?? '');
  return match ? { count: Number(match[1]), digest: match[2]! } : null;
}

/** `SHA-256(prev_hash || encode(record))`. */
export function chainHash(kind: ChainKind, prevHash: Uint8Array, record: Pick<ChainRecord, 'id' | 'occurredUs' | 'fields'>): Buffer {
  return createHash('sha256').update(prevHash).update(encodeRecord(kind, record)).digest();
}

export const sameBytes = (a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean =>
  !!a && !!b && a.length === b.length && timingSafeEqual(a, b);

export const hex = (bytes: Uint8Array | null | undefined): string => (bytes ? Buffer.from(bytes).toString('hex') : '');

/** Purpose of the key (derived from a store's master key) that signs that store's checkpoints. */
export const CHECKPOINT_KEY_PURPOSE = 'keygate/audit-checkpoints';

export interface CheckpointClaim {
  readonly store: string;
  /** Decimal. */
  readonly lastId: string;
  readonly lastHash: Uint8Array;
  /** Microseconds since the epoch, decimal. */
  readonly createdUs: string;
}

/**
 * A checkpoint's signature: HMAC-SHA256 under the store's checkpoint key over
 * item("keygate.audit.checkpoint.v1") || item(store) || item(last_id) || item(hex(last_hash)) || item(created_at),
 * with `item` as above. It proves that the chain once reached `last_id` with `last_hash`.
 */
export function signCheckpoint(key: Uint8Array, claim: CheckpointClaim): Buffer {
  const message = Buffer.concat([
    item('keygate.audit.checkpoint.v1'), item(claim.store), item(claim.lastId), item(hex(claim.lastHash)), item(claim.createdUs),
  ]);
  return createHmac('sha256', key).update(message).digest();
}
