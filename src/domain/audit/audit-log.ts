import type { Kysely, Transaction } from 'kysely';
import type { AuditActorKind, ZoneDatabase } from '../../storage/schema.js';

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

/**
 * Appends audit records about a person to that person's zone. Always called with the
 * transaction of the operation it records, so that neither exists without the other.
 * Records hold ids and field names, never personal values.
 */
export async function recordAudit(trx: Transaction<ZoneDatabase> | Kysely<ZoneDatabase>, actor: Actor, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await trx.insertInto('audit_events').values(events.map((e) => ({
    person_id: e.personId,
    action: e.action,
    field: e.field ?? null,
    actor_kind: actor.kind,
    actor_id: actor.id,
    app_id: e.appId ?? actor.appId ?? null,
    purpose: e.purpose ?? null,
    request_id: actor.requestId ?? null,
  }))).execute();
}
