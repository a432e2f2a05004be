import { sql, type Kysely, type Transaction } from 'kysely';
import type { AuditActorKind, ControlDatabase, ZoneDatabase } from '../../storage/schema.js';

/** Who did something, and in which request: attached to every audit record. */
export interface Actor {
  readonly kind: AuditActorKind;
  readonly id: string | null;
  readonly appId?: string | null;
  readonly requestId?: string | null;
}

export interface AuditEvent {
  readonly action: string;
  readonly personId: string | null;
  readonly field?: string;
  readonly purpose?: string;
  readonly appId?: string | null;
}

/** A control-plane record: about an app, never about a person. */
export interface ControlAuditEvent {
  readonly action: string;
  readonly appId: string | null;
  /** A code, field codes or an opaque id: never personal data, never an address. */
  readonly detail?: string | null;
}

/**
 * The key of the transaction advisory lock that serialises appends to a store's chain
 * (taken inside `keygate_audit_append`, see the migrations).
 */
export const AUDIT_CHAIN_LOCK = 1801937251;

type Executor<DB> = Transaction<DB> | Kysely<DB>;

/**
 * Appends rows through `keygate_audit_append`, the one writer of a store's chain: it takes
 * the store's chain lock, reads the last hash and inserts the rows chained to it, in the
 * caller's transaction (or, given a plain connection pool, in the single statement's own
 * transaction). The lock is held until that transaction ends.
 */
function append<DB>(db: Executor<DB>, rows: ReadonlyArray<Record<string, string | null>>): Promise<unknown> {
  return sql`select keygate_audit_append(${JSON.stringify(rows)}::jsonb)`.execute(db);
}

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

/** What a zone's audit record holds, as its columns. */
interface ZoneAuditRecord {
  readonly personId: string | null;
  readonly action: string;
  readonly field: string | null;
  readonly actorKind: AuditActorKind;
  readonly actorId: string | null;
  readonly appId: string | null;
  readonly purpose: string | null;
  readonly requestId: string | null;
}

/** A zone audit record as `keygate_audit_append` takes it (the one place its columns are named). */
function zoneAuditRow(r: ZoneAuditRecord): Record<string, string | null> {
  return {
    person_id: r.personId, action: r.action, field: r.field, actor_kind: r.actorKind, actor_id: r.actorId,
    app_id: r.appId, purpose: r.purpose, request_id: r.requestId,
  };
}

/** A record about a person being copied from the zone they leave, with where and when it was first written. */
export interface AuditCopy extends ZoneAuditRecord {
  readonly originStore: string;
  readonly originId: string;
  /** ISO 8601 in UTC with microseconds, as PostgreSQL keeps it (a Date would drop them). */
  readonly originAt: string;
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

/** The actor of operator commands (the CLI, locally or through the operator socket). */
export const OPERATOR: Actor = Object.freeze({ kind: 'operator', id: null });
/** Keygate itself, or a caller that did not say who acted. */
export const SYSTEM: Actor = Object.freeze({ kind: 'system', id: null });
