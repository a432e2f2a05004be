import type { Actor, AuditEvent } from '../audit/audit-log.js';

/** A session as its person's zone keeps it: by the hash of its cookie, device and network sealed. */
export interface SessionRecord {
  readonly idHash: Uint8Array;
  readonly personId: string;
  readonly lastSeenAt: Date;
  readonly expiresAt: Date;
  readonly sealedDevice: Uint8Array | null;
  readonly sealedNetwork: Uint8Array | null;
  readonly authTime: Date;
  readonly amr: readonly string[];
}

/** A zone's gateway sessions. */
export interface SessionStore {
  insert(session: SessionRecord): Promise<void>;
  /** When and how a session unexpired at `now` was authenticated. */
  authentication(idHash: Uint8Array, now: Date): Promise<{ authTime: Date; amr: readonly string[] } | undefined>;
  /**
   * Marks a session seen at `now` if it is unexpired and was seen after `idleSince`;
   * its person's id, or undefined.
   */
  touch(idHash: Uint8Array, now: Date, idleSince: Date): Promise<string | undefined>;
  /**
   * Deletes a session and, in the same transaction, appends what `recordsFor` gives for its
   * person; false when there was no such session.
   */
  end(idHash: Uint8Array, recordsFor: (personId: string) => { actor: Actor; events: readonly AuditEvent[] } | null): Promise<boolean>;
}
