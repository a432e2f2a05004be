import type { SealedPrivateKey } from '../apps/app-store.js';
import type { Actor, ControlAuditEvent } from '../audit/audit-log.js';

/** One of Keygate's signing keys as the control plane keeps it. */
export interface SigningKeyRecord {
  readonly kid: string;
  readonly alg: 'RS256';
  /** The public half as published in the key set. */
  readonly publicJwk: Readonly<Record<string, string>>;
  readonly privateKey: SealedPrivateKey;
  readonly createdAt: Date;
  /** Published from creation; signs from here on. */
  readonly signsFrom: Date;
  /** Leaves the key set then; null while no successor has been made. */
  readonly retiresAt: Date | null;
}

export type NewSigningKey = Omit<SigningKeyRecord, 'createdAt' | 'retiresAt'>;

/** Where the signing keys live: the control plane, for they belong to no person. */
export interface SigningKeyStore {
  /** Every key not retired at `now`, the newest first. */
  unretired(now: Date): Promise<SigningKeyRecord[]>;
  /**
   * Adds `key` unless an unretired key exists already (another node made the first key):
   * then nothing changes and the answer is false. The audit records commit with it.
   */
  addFirst(key: NewSigningKey, now: Date, actor: Actor, events: readonly ControlAuditEvent[]): Promise<boolean>;
  /**
   * Adds `next` and gives every unretired key without a retirement time `retireAt`, with
   * the audit records, in one transaction; the kids of the keys given one.
   */
  rotate(next: NewSigningKey, retireAt: Date, actor: Actor, events: readonly ControlAuditEvent[]): Promise<string[]>;
}
