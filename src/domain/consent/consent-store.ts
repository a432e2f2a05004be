import type { CodeAuthentication } from '../tokens/lineage-store.js';
import type { WrappedDataKey } from '../../crypto/key-ring.js';
import type { Actor, AuditEvent } from '../audit/audit-log.js';
import type { FieldCode } from './fields.js';

/** The proof of a decision, as its zone keeps it: the client address sealed under the person's data key. */
export interface ConsentRecordEntry {
  readonly id: string;
  readonly personId: string;
  readonly appId: string;
  readonly connectId: string;
  readonly requested: readonly FieldCode[];
  readonly mandatory: readonly FieldCode[];
  readonly granted: readonly FieldCode[];
  readonly legalBasis: string | null;
  readonly decision: 'allowed' | 'canceled';
  readonly sealedAddress: Uint8Array | null;
}

/** A one-time code, kept by its hash. */
export interface NewAuthCode {
  readonly codeHash: Uint8Array;
  readonly connectId: string;
  readonly appId: string;
  readonly personId: string;
  readonly scope: readonly FieldCode[];
  readonly expiresAt: Date;
  /** How the person had signed in when they allowed the request (null: not known). */
  readonly authentication: CodeAuthentication | null;
}

/** What a decision writes to the person's zone, all in one transaction. */
export interface ConsentWrites {
  /** Gives the person an id for this app, unless they have one. */
  admitAppUser(personId: string, appId: string, userId: string): Promise<void>;
  /** Sets what the person grants the app now (replacing an earlier grant). */
  grant(personId: string, appId: string, fields: readonly FieldCode[], at: Date): Promise<void>;
  /** The person's data key as the zone keeps it, wrapped; null once they are erased. */
  wrappedDataKey(personId: string): Promise<WrappedDataKey | null>;
  recordConsent(record: ConsentRecordEntry): Promise<void>;
  /** What the person grants the app now, locked until the decision commits; undefined: nothing. */
  currentGrant(personId: string, appId: string): Promise<readonly string[] | undefined>;
  /** The person's id for the app, if they have one. */
  appUserId(personId: string, appId: string): Promise<string | undefined>;
  issueCode(code: NewAuthCode): Promise<void>;
  audit(actor: Actor, events: readonly AuditEvent[]): Promise<void>;
}

/** A second decision on the same request: its consent record or code exists already. */
export class AlreadyDecided extends Error {
  override name = 'AlreadyDecided';
}

/** What a consent record proves: what was asked and required (why), what was granted, when and from where. */
export interface ConsentDecision {
  readonly decidedAt: Date;
  readonly decision: 'allowed' | 'canceled';
  readonly requested: readonly string[];
  readonly mandatory: readonly string[];
  readonly legalBasis: string | null;
  readonly granted: readonly string[];
  readonly from: string | null;
}

/**
 * One consent decision as the app's developers see it: when, what was asked, required and
 * granted, and the decision, the person known only by the app's own id for them. Not the
 * client address: the owners need none to prove the consent, so it stays for the person's
 * own view and the audit.
 */
export interface AppConsentProof extends Omit<ConsentDecision, 'from'> {
  readonly userId: string;
}

/** A consent record's columns as its zone keeps them, its client address sealed. */
export interface StoredConsentRecord {
  readonly id: string;
  readonly app_id: string;
  readonly decided_at: Date;
  readonly decision: 'allowed' | 'canceled';
  readonly requested: readonly string[];
  readonly mandatory: readonly string[];
  readonly legal_basis: string | null;
  readonly granted: readonly string[];
  readonly ip_ct: Uint8Array | null;
}

/** A zone's grants, consent records and one-time codes. */
export interface ConsentStore {
  /** Runs `work` in one transaction; throws `AlreadyDecided` when the request's record or code exists. */
  decide<T>(work: (writes: ConsentWrites) => Promise<T>): Promise<T>;
  /** Deletes the code a decision wrote, when another decision settled the request first. */
  withdrawCode(connectId: string, personId: string): Promise<void>;
  /** The newest proofs of consents given to an app in this zone. */
  proofsForApp(appId: string, limit: number): Promise<AppConsentProof[]>;
}
