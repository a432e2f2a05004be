import type { WrappedDataKey } from '../../crypto/key-ring.js';
import type { Actor, AuditEvent, ZoneAuditRecord } from '../audit/audit-log.js';
import type { ZoneName } from './zones.js';

/** An audit record about the person in the zone they leave: what its copy keeps, and its hash. */
export interface MovedRecord extends ZoneAuditRecord {
  readonly id: string;
  readonly hash: Uint8Array;
  /** When it first happened, ISO 8601 in UTC with microseconds (a copy keeps its original's time). */
  readonly firstAt: string;
}

/**
 * Every row about a person, read from the zone they leave. The move decides on their data
 * key, the sealed values their blind indexes are made from and their audit records; the
 * other rows it carries as they are.
 */
export interface PersonSnapshot {
  readonly personId: string;
  readonly key: WrappedDataKey;
  /** Sealed values by column, for the columns the blind indexes are computed from. */
  readonly indexedValues: Readonly<Record<string, Uint8Array | null>>;
  readonly audit: readonly MovedRecord[];
  /** The rows themselves, which only the store reads. */
  readonly rows: unknown;
}

/** What the new zone changes in the person's rows as they arrive. */
export interface Arrival {
  readonly from: ZoneName;
  /** Blind indexes recomputed under the new zone's index key, by column. */
  readonly indexes: Readonly<Record<string, Uint8Array | null>>;
  readonly sealedCountry: Uint8Array;
  /** The same data key, wrapped by the new zone's master key. */
  readonly key: WrappedDataKey;
}

/** The old zone's half of a move, in one transaction that holds the person's row. */
export interface MoveSource {
  /** Every row about the person, their row locked until the transaction ends; null when they are not here. */
  readPerson(personId: string): Promise<PersonSnapshot | null>;
  /**
   * Appends the move's record, redacts `redacted` (contents go, ids and hashes stay, each
   * pointing at that record) and deletes every row about the person.
   */
  leave(personId: string, moved: { actor: Actor; events: readonly AuditEvent[] }, redacted: readonly MovedRecord[]): Promise<void>;
}

/** The new zone's half of a move, in one transaction. */
export interface MoveDestination {
  /** Writes every row of the snapshot with the arrival's changes. */
  arrive(snapshot: PersonSnapshot, arrival: Arrival): Promise<void>;
  /** Appends copies of the records, chained as copies naming `from` and each original. */
  copyAudit(from: ZoneName, records: readonly MovedRecord[]): Promise<void>;
  /** The ids of the records of `from` already copied here for the person. */
  copiedFrom(from: ZoneName, personId: string): Promise<Set<string>>;
  /** Compares what arrived with the snapshot; throws on any difference (so nothing commits). */
  verifyArrival(snapshot: PersonSnapshot, from: ZoneName): Promise<void>;
  audit(actor: Actor, events: readonly AuditEvent[]): Promise<void>;
}

/** A zone's side of moving people in and out. */
export interface ZoneMoveStore {
  asSource<T>(work: (source: MoveSource) => Promise<T>): Promise<T>;
  asDestination<T>(work: (destination: MoveDestination) => Promise<T>): Promise<T>;
  /** Whether the person's row is in this zone. */
  holds(personId: string): Promise<boolean>;
}

/** A move as the control plane's journal keeps it until it is closed. */
export interface MoveEntry {
  readonly id: string;
  readonly personId: string;
  readonly from: ZoneName;
  readonly to: ZoneName;
  readonly startedAt: Date;
}

/** The control plane's journal of moves, and the control-plane rows that name a person's zone. */
export interface ZoneMoveJournal {
  open(move: MoveEntry): Promise<void>;
  close(moveId: string, outcome: 'moved' | 'abandoned', at: Date): Promise<void>;
  /** Moves still open that started before `before`, oldest first. */
  openBefore(before: Date): Promise<MoveEntry[]>;
  /** Points the control plane's references to the person (owners, sign-ins in progress) at their new zone. */
  settle(personId: string, zone: ZoneName): Promise<void>;
}

export class ZoneMoveError extends Error {
  override name = 'ZoneMoveError';
}
