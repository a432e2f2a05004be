import type { Actor, AuditEvent } from '../audit/audit-log.js';

/** The new pair's ids and times, chosen by the caller (who encodes the access token and returns the refresh token). */
export interface NewPair {
  readonly jti: string;
  readonly accessExpiresAt: Date;
  readonly refreshTokenHash: Uint8Array;
  readonly refreshExpiresAt: Date;
  readonly now: Date;
  readonly requestId: string | null;
}

/** When and how the person had signed in when they allowed the request a code was issued for. */
export interface CodeAuthentication {
  /** Null for a code kept from before this was recorded. */
  readonly authTime: Date | null;
  /** RFC 8176 method values. */
  readonly amr: readonly string[];
  /** The browser session it happened in, as OpenID Connect names it (`sid`); null when not known. */
  readonly sid: string | null;
}

/** Everything a new token pair descends from. */
export interface Lineage {
  readonly familyId: string;
  readonly codeHash: Uint8Array;
  readonly connectId: string;
  readonly personId: string;
  readonly scope: readonly string[];
  /** What the pair's refresh token carries, when it is more than the access token (a narrowed refresh). */
  readonly refreshScope?: readonly string[];
  readonly authentication: CodeAuthentication;
}

/** Who a pair was issued to, for which fields, and how they had signed in. */
export interface IssuedPair {
  readonly personId: string;
  readonly userId: string;
  readonly scope: readonly string[];
  readonly authentication: CodeAuthentication;
}

/** A refresh token's record, locked for the transaction that uses it. */
export interface RefreshTokenRecord extends Lineage {
  readonly tokenHash: Uint8Array;
  readonly expiresAt: Date;
  readonly usedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** What a live access token lets its app see: its person, its fields and what still is granted. */
export interface AccessRecord {
  readonly personId: string;
  readonly userId: string;
  readonly scope: readonly string[];
  readonly granted: readonly string[];
  /** What the app asked for when the person consented (null: a record older than that). */
  readonly requested: readonly string[] | null;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}

/** One `/me`-like read of a token's granted fields: who reads, for what, in which request. */
export interface GrantedProfileRead {
  readonly jti: string;
  readonly appId: string;
  readonly now: Date;
  readonly purpose: string;
  readonly requestId: string | null;
}

/** A token's person as a profile read needs them: ids, what may be read now, and the sealed fields. */
export interface GrantedProfileRow {
  readonly person_id: string;
  readonly master_key_id: string;
  readonly wrapped_key: Uint8Array;
  readonly firstname_ct: Uint8Array | null;
  readonly surname_ct: Uint8Array | null;
  readonly email_ct: Uint8Array | null;
  readonly image_ct: Uint8Array | null;
  readonly country_ct: Uint8Array | null;
  readonly language_ct: Uint8Array | null;
  /** Whether the address was confirmed (a fact about the email field, read with it). */
  readonly email_verified: boolean;
  readonly user_id: string;
  readonly issued_at: Date;
  readonly expires_at: Date;
  /** Fields of the token still granted by the person, in canonical order. */
  readonly readable: string[];
  readonly requested: string[] | null;
}

/** The steps of an exchange that cannot be done in one statement, all in one transaction. */
export interface LineageWrites {
  /** Marks an unused, unexpired code used; its person and scope, or undefined. */
  claimCode(claim: { codeHash: Uint8Array; connectId: string; appId: string }, now: Date): Promise<{ personId: string; scope: readonly string[]; authentication: CodeAuthentication } | undefined>;
  /** The person of a code of this request already used (a replay), or undefined. */
  usedCodePerson(codeHash: Uint8Array, connectId: string): Promise<string | undefined>;
  /** The code an access token of this app descends from, and its person; undefined when unknown. */
  lineageOfAccess(jti: string, appId: string): Promise<{ codeHash: Uint8Array; personId: string } | undefined>;
  /** Revokes every token descending from the code (a leaked code or refresh token). */
  revokeLineage(codeHash: Uint8Array, now: Date): Promise<void>;
  /** The refresh token's record, locked until the transaction ends. */
  lockRefreshToken(tokenHash: Uint8Array, appId: string): Promise<RefreshTokenRecord | undefined>;
  markRefreshTokenUsed(tokenHash: Uint8Array, now: Date): Promise<void>;
  /** What the person grants the app now; undefined when they withdrew the app. */
  grantedFields(personId: string, appId: string): Promise<readonly string[] | undefined>;
  /** Records the pair of `lineage` and its `token.issued` record; the person's id for the app. */
  recordPair(appId: string, lineage: Lineage, pair: NewPair, actor: Actor): Promise<string>;
  audit(actor: Actor, events: readonly AuditEvent[]): Promise<void>;
}

/** A zone's access and refresh tokens, and the reads they allow. */
export interface TokenLineageStore {
  /**
   * Claims a one-time code and issues the pair for it in a single statement (claim, both
   * tokens and the audit record commit together). Undefined, and nothing changed, when the
   * code cannot be claimed: unknown, expired, used, or its person is elsewhere.
   */
  claimCodeAndIssue(claim: { codeHash: Uint8Array; connectId: string; appId: string }, pair: NewPair & { familyId: string }): Promise<IssuedPair | undefined>;
  /**
   * Uses up a live refresh token and issues the next pair of its family in a single
   * statement, never with a field withdrawn since. Undefined, and nothing changed, when
   * the token is not live or its grant is gone.
   */
  useRefreshTokenAndIssue(use: { tokenHash: Uint8Array; appId: string; narrowTo?: readonly string[] }, pair: NewPair): Promise<IssuedPair | undefined>;
  /** Runs the slower steps of an exchange in one transaction. */
  inTransaction<T>(work: (writes: LineageWrites) => Promise<T>): Promise<T>;
  /** The live (unrevoked, unexpired) access token's record for this app; undefined otherwise. */
  findAccess(jti: string, appId: string, now: Date): Promise<AccessRecord | undefined>;
  /** The apps the person signed in to during the browser session `sid` (by its codes and refresh tokens), with the person's id for each. */
  clientsOfSession(personId: string, sid: string): Promise<Array<{ appId: string; userId: string }>>;
  /**
   * Reads what each token may read and records one `field.read` per field read, in one
   * statement: one entry per read, in order, undefined where the token, its grant or its
   * person is gone (nothing is then recorded for it).
   */
  readGrantedProfiles(reads: readonly GrantedProfileRead[]): Promise<Array<GrantedProfileRow | undefined>>;
}
