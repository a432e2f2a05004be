import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Actor, AuditCopy, AuditEvent, ControlAuditEvent, ZoneAuditRecord } from '../domain/audit/audit-log.js';
import type { ControlDatabase, ZoneDatabase } from './schema.js';

type Executor<DB> = Transaction<DB> | Kysely<DB>;

/**
 * The key of the transaction advisory lock that serialises appends to a store's chain
 * (taken inside `keygate_audit_append`, see the migrations).
 */
export const AUDIT_CHAIN_LOCK = 1801937251;

/**
 * Appends rows through `keygate_audit_append`, the one writer of a store's chain: it takes
 * the store's chain lock, reads the last hash and inserts the rows chained to it, in the
 * caller's transaction (or, given a plain connection pool, in the single statement's own
 * transaction). The lock is held until that transaction ends.
 */
function append<DB>(db: Executor<DB>, rows: ReadonlyArray<Record<string, string | null>>): Promise<unknown> {
  return sql`select keygate_audit_append(${JSON.stringify(rows)}::jsonb)`.execute(db);
}

/** The columns of a zone audit record, in the order `keygate_audit_append` is given them. */
const ZONE_AUDIT_COLUMNS = {
  personId: 'person_id', action: 'action', field: 'field', actorKind: 'actor_kind', actorId: 'actor_id',
  appId: 'app_id', purpose: 'purpose', requestId: 'request_id',
} as const satisfies Record<keyof ZoneAuditRecord, string>;

/** A zone audit record as `keygate_audit_append` takes it (the one place its columns are named). */
function zoneAuditRow(record: ZoneAuditRecord): Record<string, string | null> {
  return Object.fromEntries(Object.entries(ZONE_AUDIT_COLUMNS).map(([key, column]) => [column, record[key as keyof ZoneAuditRecord]]));
}

/**
 * The same record built inside a statement, for hot paths whose person or field is only
 * known there (`jsonb_build_object` over SQL expressions, text-typed like the JSON rows).
 */
export function zoneAuditRowSql(record: { readonly [K in keyof ZoneAuditRecord]: RawBuilder<unknown> | string | null }): RawBuilder<unknown> {
  const pairs = Object.entries(ZONE_AUDIT_COLUMNS).map(([key, column]) => {
    const value = record[key as keyof ZoneAuditRecord];
    return sql`${sql.lit(column)}, ${typeof value === 'string' || value === null ? sql`${value}::text` : sql`(${value})::text`}`;
  });
  return sql`jsonb_build_object(${sql.join(pairs)})`;
}

/** Appends, in `trx`, the records a statement built with `zoneAuditRowSql` (a jsonb array). */
export const appendAuditRowsSql = (rows: RawBuilder<unknown>): RawBuilder<unknown> => sql`keygate_audit_append(${rows})`;

/**
 * Appends audit records about a person to that person's zone. Always called with the
 * transaction of the operation it records, so that neither exists without the other.
 * Records hold ids and field names, never personal values.
 */
export async function recordAudit(trx: Executor<ZoneDatabase>, actor: Actor, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await append(trx, events.map((e) => zoneAuditRow({
    personId: e.personId, action: e.action, field: e.field ?? null, actorKind: actor.kind, actorId: actor.id,
    appId: e.appId ?? actor.appId ?? null, purpose: e.purpose ?? null, requestId: actor.requestId ?? null,
  })));
}

/** Appends copies of records from another zone (a person's move), chained as copies. */
export async function recordAuditCopies(trx: Transaction<ZoneDatabase>, copies: readonly AuditCopy[]): Promise<void> {
  if (copies.length === 0) return;
  await append(trx, copies.map((c) => ({
    ...zoneAuditRow(c),
    origin_store: c.originStore,
    origin_id: c.originId,
    origin_at: c.originAt,
  })));
}

/**
 * Appends app-level records to the control plane's trail, in the caller's transaction.
 * Ids and codes only: the control plane holds nothing personal.
 */
export async function recordControlAudit(trx: Executor<ControlDatabase>, actor: Actor, events: readonly ControlAuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await append(trx, events.map((e) => ({
    app_id: e.appId,
    action: e.action,
    detail: e.detail ?? null,
    actor_kind: actor.kind,
    actor_id: actor.id,
    request_id: actor.requestId ?? null,
  })));
}
