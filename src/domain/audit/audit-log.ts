/** Who may act: a person, an app, an operator at the CLI, or Keygate itself. */
export type AuditActorKind = 'person' | 'app' | 'operator' | 'system';

/** Who did something, and in which request: attached to every audit record. */
export interface Actor {
  readonly kind: AuditActorKind;
  readonly id: string | null;
  readonly appId?: string | null;
  readonly requestId?: string | null;
}

/** The request behind an action, before the service names who acted. */
export type RequestActor = Omit<Actor, 'kind' | 'id'>;

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

/** The control plane's trail, for records about apps and requests that concern no person. */
export interface ControlTrail {
  /** Appends the records in their own transaction. */
  audit(actor: Actor, events: readonly ControlAuditEvent[]): Promise<void>;
}

/** What a zone's audit record holds (the store writes it through the chain's one writer). */
export interface ZoneAuditRecord {
  readonly personId: string | null;
  readonly action: string;
  readonly field: string | null;
  readonly actorKind: AuditActorKind;
  readonly actorId: string | null;
  readonly appId: string | null;
  readonly purpose: string | null;
  readonly requestId: string | null;
}

/** A record about a person being copied from the zone they leave, with where and when it was first written. */
export interface AuditCopy extends ZoneAuditRecord {
  readonly originStore: string;
  readonly originId: string;
  /** ISO 8601 in UTC with microseconds, as PostgreSQL keeps it (a Date would drop them). */
  readonly originAt: string;
}

/** The actor of operator commands (the CLI, locally or through the operator socket). */
export const OPERATOR: Actor = Object.freeze({ kind: 'operator', id: null });
/** Keygate itself, or a caller that did not say who acted. */
export const SYSTEM: Actor = Object.freeze({ kind: 'system', id: null });
