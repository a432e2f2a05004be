import type { WrappedDataKey } from '../../crypto/key-ring.js';
import type { Actor, AuditEvent } from '../audit/audit-log.js';
import type { StoredConsentRecord } from '../consent/consent-store.js';
import type { FieldCode } from '../consent/fields.js';
import type { ChallengePurpose } from './challenge-purpose.js';

/** A person's columns that hold a personal field, sealed under their data key. */
export const PERSON_FIELD_COLUMNS = {
  firstname: 'firstname_ct',
  surname: 'surname_ct',
  email: 'email_ct',
  image: 'image_ct',
  country: 'country_ct',
  language: 'language_ct',
} as const satisfies Record<FieldCode, string>;

/** A person's sealed fields with their wrapped data key, as loaded from the zone. */
export type SealedPerson = { id: string; master_key_id: string; wrapped_key: Uint8Array } & Record<(typeof PERSON_FIELD_COLUMNS)[FieldCode], Uint8Array | null>;

/** A new person's row: every personal field sealed, the email findable by its blind index. */
export interface NewPerson {
  readonly id: string;
  readonly emailIndex: Uint8Array;
  readonly sealed: Readonly<Record<'email_ct' | 'firstname_ct' | 'surname_ct' | 'country_ct' | 'language_ct', Uint8Array>>;
  readonly passwordHash: string;
  readonly emailVerifiedAt: Date | null;
}

/** A one-time proof as its zone keeps it: hashes only. */
export interface ChallengeRecord {
  readonly tokenHash: Uint8Array;
  readonly personId: string;
  readonly purpose: ChallengePurpose;
  readonly codeHash: Uint8Array | null;
  /** Sealed data the challenge carries (the new address of an email change). */
  readonly detail: Uint8Array | null;
  readonly expiresAt: Date;
}

/** What changes a person's own row and what hangs on it, in one transaction of their zone. */
export interface PersonWrites {
  insertPerson(person: NewPerson, key: WrappedDataKey): Promise<void>;
  wrappedDataKey(personId: string): Promise<WrappedDataKey | null>;
  /** The person's sealed fields and wrapped data key; undefined once they are gone. */
  sealedPerson(personId: string): Promise<SealedPerson | undefined>;
  /** One sealed column of the person's own row with their wrapped data key; undefined when nothing is stored. */
  sealedColumn(personId: string, column: 'nickname_ct' | 'image_ct'): Promise<{ sealed: Uint8Array; key: WrappedDataKey } | undefined>;
  setNickname(personId: string, nickname: { index: Uint8Array; sealed: Uint8Array } | null): Promise<void>;
  setEmail(personId: string, email: { index: Uint8Array; sealed: Uint8Array }, verifiedAt: Date): Promise<void>;
  markEmailVerified(personId: string, at: Date): Promise<void>;
  setPassword(personId: string, hash: string, changedAt: Date | null): Promise<void>;
  /** Signs the person out everywhere. */
  endSessions(personId: string): Promise<void>;
  /** Replaces the person's challenge of the record's purpose. */
  replaceChallenge(challenge: ChallengeRecord): Promise<void>;
  dropChallenges(personId: string, purposes: readonly ChallengePurpose[]): Promise<void>;
  /** Seals a new picture in (or, with null, removes it). */
  setImage(personId: string, sealed: Uint8Array | null): Promise<void>;
  /** The picture the app may read now (its grant includes `image`), with the wrapped data key. */
  imageGrantedTo(personId: string, appId: string): Promise<{ sealed: Uint8Array; key: WrappedDataKey } | undefined>;
  /** The authenticator secret and the last step used, locked until the transaction ends; undefined without one. */
  lockSecondFactor(personId: string): Promise<{ sealedSecret: Uint8Array; lastStep: number | null; key: WrappedDataKey } | undefined>;
  /** Sets (or, with null, removes) the authenticator secret. */
  setSecondFactor(personId: string, factor: { sealedSecret: Uint8Array; lastStep: number } | null): Promise<void>;
  setSecondFactorStep(personId: string, step: number): Promise<void>;
  /** Replaces every recovery code with these hashes (none: the codes go). */
  replaceRecoveryCodes(personId: string, hashes: readonly Uint8Array[]): Promise<void>;
  /** The hashes of the unused recovery codes, with the zone whose key made each (null: this zone). */
  recoveryCodes(personId: string): Promise<Array<{ hash: Uint8Array; keyZone: string | null }>>;
  useRecoveryCode(personId: string, hash: Uint8Array): Promise<void>;
  /** Replaces sealed profile fields (column → ciphertext). */
  setSealedFields(personId: string, sealed: Readonly<Partial<Record<(typeof PERSON_FIELD_COLUMNS)[FieldCode], Uint8Array>>>): Promise<void>;
  /**
   * Withdraws the app's grant and revokes every access and refresh token it holds for the
   * person; false when there was no grant.
   */
  withdrawGrant(personId: string, appId: string, now: Date): Promise<boolean>;
  /** The fields the person grants the app, locked until the transaction ends; undefined without a grant. */
  lockGrant(personId: string, appId: string): Promise<readonly string[] | undefined>;
  setGrantFields(personId: string, appId: string, fields: readonly string[]): Promise<void>;
  /** The person's consent records, newest first. */
  consentRecords(personId: string, limit: number): Promise<StoredConsentRecord[]>;
  /** The person's sessions unexpired at `now`, last seen first. */
  liveSessions(personId: string, now: Date): Promise<SessionRow[]>;
  /** Ends one of the person's sessions, or all but one; how many ended. */
  endSessionsWhere(personId: string, which: { idHash: Uint8Array } | { allBut: Uint8Array }): Promise<number>;
  audit(actor: Actor, events: readonly AuditEvent[]): Promise<void>;
}

/** One of the person's sessions, its origins sealed. */
export interface SessionRow {
  readonly idHash: Uint8Array;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  readonly sealedDevice: Uint8Array | null;
  readonly sealedNetwork: Uint8Array | null;
}

/** An email or nickname another person holds: a unique blind index refused the write. */
export class AlreadyTaken extends Error {
  override name = 'AlreadyTaken';
}

/** The people of one zone. */
export interface PersonStore {
  /** Runs `work` in one transaction; throws `AlreadyTaken` when an email or nickname index is held by someone else. */
  transaction<T>(work: (writes: PersonWrites) => Promise<T>): Promise<T>;
  /** The person whose blind index (of their email or nickname) is `index`, with their password hash. */
  credentialsByIndex(column: 'email_index' | 'nickname_index', index: Uint8Array): Promise<{ personId: string; passwordHash: string } | undefined>;
  passwordHash(personId: string): Promise<string | undefined>;
  /** The person's data key as the zone keeps it, wrapped; null once they are erased. */
  wrappedDataKey(personId: string): Promise<WrappedDataKey | null>;
  accountState(personId: string): Promise<{ emailVerified: boolean; secondFactor: boolean } | undefined>;
  recoveryCodeCount(personId: string): Promise<number>;
  hasImage(personId: string): Promise<boolean>;
  /** What the person grants each app, most recent first. */
  grants(personId: string): Promise<Array<{ appId: string; fields: readonly string[]; grantedAt: Date }>>;
  /** The account's own facts, for an export. */
  accountFacts(personId: string): Promise<{ createdAt: Date; emailVerifiedAt: Date | null; passwordChangedAt: Date | null; secondFactor: boolean } | undefined>;
  /** The pairwise id the person has at each app. */
  appUsers(personId: string): Promise<Array<{ appId: string; userId: string; createdAt: Date }>>;
  /**
   * Erases every row about the person, table by table as the person-data registry says
   * (their data key first), and appends the records of it, in one transaction.
   */
  erase(personId: string, actor: Actor, events: readonly AuditEvent[]): Promise<void>;
  /** Whether the person has a pairwise id for the app (has been signed in to it). */
  usesApp(personId: string, appId: string): Promise<boolean>;
  /** Remembers a browser the person signed in from; false when it was known already. */
  rememberDevice(personId: string, deviceHash: Uint8Array): Promise<boolean>;
  /** How many browsers the person is known on, counting up to `atMost`. */
  knownDevices(personId: string, atMost: number): Promise<number>;
}

/** One-time proofs of a zone. */
export interface ChallengeStore {
  /** The unexpired challenge with this token's hash and purpose, with its wrong attempts. */
  find(tokenHash: Uint8Array, purpose: ChallengePurpose, now: Date): Promise<(ChallengeRecord & { attempts: number }) | undefined>;
  /** Deletes the challenge; true only for the call that deleted it. */
  use(tokenHash: Uint8Array): Promise<boolean>;
  /** Counts a wrong attempt; the one that reaches `limit` deletes the challenge. */
  countFailure(tokenHash: Uint8Array, limit: number): Promise<void>;
}
