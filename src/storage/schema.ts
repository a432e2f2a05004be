import type { ChallengePurpose } from '../domain/people/challenge-purpose.js';
import type { ConnectStatus } from '../domain/connect/request-store.js';
import type { AuditActorKind } from '../domain/audit/audit-log.js';
import type { ColumnType, Generated } from 'kysely';

/** Bytes come back as Buffer from `pg` and as Uint8Array from PGlite. */
export type Bytes = Uint8Array;
type CreatedAt = ColumnType<Date, Date | undefined, never>;

// ---------------------------------------------------------------- control plane
// Holds what belongs to no person: apps and pending connect requests, with opaque ids only.

export interface AppsTable {
  id: string;
  name: string;
  /** Public half as base64 SPKI DER: the developer's "Secret Key". */
  secret_key: string;
  /** Private half, PKCS#8 DER sealed under the control plane's master key. */
  private_key_ct: Bytes;
  private_key_master_key_id: string;
  origins: string[];
  return_urls: string[];
  /** OpenID Connect redirect URIs, as registered (matched exactly). */
  redirect_uris: ColumnType<string[], string[] | undefined, string[]>;
  post_logout_redirect_uris: ColumnType<string[], string[] | undefined, string[]>;
  backchannel_logout_uri: ColumnType<string | null, string | null | undefined, string | null>;
  /** The public keys of a client that authenticates with private_key_jwt (a JWK set). */
  client_jwks: ColumnType<{ keys: Array<Record<string, unknown>> } | null, string | null | undefined, string | null>;
  public_client: ColumnType<boolean, boolean | undefined, boolean>;
  /** SHA-256 of a confidential client's secret; null for a public client or before one is made. */
  client_secret_hash: ColumnType<Bytes | null, Bytes | null | undefined, Bytes | null>;
  /** Field codes the app may request; a trailing `!` means it may make that field mandatory. */
  permissions: string[];
  /** Why the app needs its mandatory fields, shown on the consent screen. */
  legal_basis: string;
  created_at: CreatedAt;
  domain_protection: ColumnType<boolean, boolean | undefined, boolean>;
  return_url_protection: ColumnType<boolean, boolean | undefined, boolean>;
  server_only: ColumnType<boolean, boolean | undefined, boolean>;
  ip_protection: ColumnType<boolean, boolean | undefined, boolean>;
  /** IPv4/IPv6 addresses and CIDR subnets, canonical. */
  ip_entries: ColumnType<string[], string[] | undefined, string[]>;
  /** A private ("extranet") app admits only its owners and the people on its list. */
  private: ColumnType<boolean, boolean | undefined, boolean>;
  /** Fields the operator allowed this app to make mandatory beyond the default ones. */
  mandatory_approved: ColumnType<string[], string[] | undefined, string[]>;
  /** Legal basis per mandatory field; `legal_basis` where a field has none. */
  legal_bases: ColumnType<Record<string, string>, string | undefined, string>;
}

/** A replaced key pair, still accepted until `retires_at`. */
export interface AppRetiringKeysTable {
  key_id: string;
  app_id: string;
  secret_key: string;
  private_key_ct: Bytes;
  private_key_master_key_id: string;
  retires_at: Date;
}

export interface AppOwnersTable {
  app_id: string;
  person_id: string;
  zone: string;
  added_at: CreatedAt;
}

export interface ExtranetMembersTable {
  reference_id: string;
  app_id: string;
  email_index: Bytes;
  email_ct: Bytes;
  email_master_key_id: string;
  invited_at: CreatedAt;
  /** The language the invitation was asked in (`en_GB`, `cs_CZ`). */
  locale: ColumnType<string, string | undefined, string>;
  /** When an invitation was last mailed; null: none went out (the address's mail limit). */
  mailed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** An invitation to become an owner of an app, until the invited account accepts or declines it. */
export interface OwnerInvitationsTable {
  id: string;
  /** SHA-256 of the token in the invitation's link. */
  token_hash: Bytes;
  app_id: string;
  /** The invited account, by opaque id (as in app_owners). */
  person_id: string;
  /** The owner who invited: the invitation holds only while they own the app. */
  invited_by: string;
  created_at: CreatedAt;
  expires_at: Date;
}

export type { ConnectStatus };

/** The ids of private_key_jwt assertions already used, until they expire. */
export interface ClientAssertionsTable {
  client_id: string;
  jti: string;
  expires_at: Date;
}

export interface ConnectRequestsTable {
  id: string;
  app_id: string;
  /** Null for an OpenID Connect request (the Ukey1 request id is the app's). */
  request_id: string | null;
  scope: string[];
  return_url: string;
  status: ColumnType<ConnectStatus, ConnectStatus | undefined, ConnectStatus>;
  /** Routing only: which zone holds the person and the code once the request is decided. */
  zone: string | null;
  created_at: CreatedAt;
  expires_at: Date;
  /** The key pair a signed /connect used; the redirect is signed with it. Null: the current one. */
  key_id: ColumnType<string | null, string | null | undefined, string | null>;
  protocol: ColumnType<'ukey1' | 'oidc', 'ukey1' | 'oidc' | undefined, never>;
  /** The PKCE challenge (S256) the code's exchange must answer. */
  code_challenge: ColumnType<string | null, string | null | undefined, never>;
  sign_in_after: ColumnType<Date | null, Date | null | undefined, never>;
  /** The protocol's own parameters, read by its front-end only. */
  protocol_params: ColumnType<Record<string, unknown>, string | undefined, never>;
}

/** What happened to an app, or an API refusal: ids and codes only (hash-chained, see domain/audit/chain.ts). */
export interface ControlAuditEventsTable {
  id: Generated<string>;
  occurred_at: CreatedAt;
  app_id: string | null;
  action: string;
  /** A code, a field list or an opaque id; never personal data or an address. */
  detail: string | null;
  actor_kind: AuditActorKind;
  actor_id: string | null;
  request_id: string | null;
  /** Written only by the SQL function `keygate_audit_append`. */
  prev_hash: ColumnType<Bytes, never, never>;
  hash: ColumnType<Bytes, never, never>;
}

/** A signed statement that a store's audit chain reached `last_id` with `last_hash`. */
export interface AuditCheckpointsTable {
  id: Generated<string>;
  created_at: Date;
  last_id: ColumnType<string, string | number, string | number>;
  last_hash: Bytes;
  /** The master key the signing key is derived from. */
  key_id: string;
  signature: Bytes;
}

/** A person's move between zones: started, then finished (moved) or given up before it committed (abandoned). */
export interface ZoneMovesTable {
  id: string;
  person_id: string;
  from_zone: string;
  to_zone: string;
  started_at: Date;
  finished_at: Date | null;
  outcome: 'moved' | 'abandoned' | null;
}

/** A sign-in in progress (see `domain/authn/sign-in-flows.ts`). */
export interface SignInFlowsTable {
  id_hash: Bytes;
  return_to: string;
  person_id: string | null;
  zone: string | null;
  methods: ColumnType<string[], string[] | undefined, string[]>;
  step: 'identify' | 'confirm_email' | 'second_factor';
  created_at: CreatedAt;
  expires_at: Date;
}

/** The single row counting changes to apps, read by nodes to bound how stale their cached apps can be. */
export interface AppChangesTable {
  only_row: ColumnType<boolean, never, never>;
  /** A bigint: drivers return it as a string. */
  version: ColumnType<string, never, never>;
}

/** Keygate's own signing keys (see migration 0009): published while unretired, signing from `signs_from`. */
export interface SigningKeysTable {
  kid: string;
  alg: 'RS256';
  public_jwk: ColumnType<Record<string, string>, string, never>;
  private_key_ct: Bytes;
  private_key_master_key_id: string;
  created_at: CreatedAt;
  signs_from: Date;
  retires_at: Date | null;
}

export interface ControlDatabase {
  signing_keys: SigningKeysTable;
  app_changes: AppChangesTable;
  sign_in_flows: SignInFlowsTable;
  zone_moves: ZoneMovesTable;
  audit_events: ControlAuditEventsTable;
  audit_checkpoints: AuditCheckpointsTable;
  apps: AppsTable;
  app_retiring_keys: AppRetiringKeysTable;
  app_owners: AppOwnersTable;
  owner_invitations: OwnerInvitationsTable;
  extranet_members: ExtranetMembersTable;
  connect_requests: ConnectRequestsTable;
  client_assertions: ClientAssertionsTable;
}

// ---------------------------------------------------------------- zone
// Everything that holds or refers to a person; one database per legal zone.

export interface PeopleTable {
  id: string;
  email_index: Bytes;
  email_ct: Bytes;
  firstname_ct: Bytes;
  surname_ct: Bytes;
  country_ct: Bytes;
  language_ct: Bytes;
  image_ct: Bytes | null;
  password_hash: string;
  created_at: CreatedAt;
  email_verified_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  nickname_index: ColumnType<Bytes | null, Bytes | null | undefined, Bytes | null>;
  nickname_ct: ColumnType<Bytes | null, Bytes | null | undefined, Bytes | null>;
  totp_secret_ct: ColumnType<Bytes | null, Bytes | null | undefined, Bytes | null>;
  totp_last_step: ColumnType<string | number | null, number | null | undefined, number | null>;
  password_changed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export type { ChallengePurpose };

export interface ChallengesTable {
  token_hash: Bytes;
  person_id: string;
  purpose: ChallengePurpose;
  code_hash: Bytes | null;
  attempts: ColumnType<number, number | undefined, number>;
  created_at: CreatedAt;
  expires_at: Date;
  /** What the challenge is about (the new address of an email change), sealed under the person's data key. */
  detail_ct: ColumnType<Bytes | null, Bytes | null | undefined, Bytes | null>;
}

export interface RecoveryCodesTable {
  person_id: string;
  code_hash: Bytes;
  /** The zone whose key made the hash, for codes moved from another zone; null: this one. */
  key_zone: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface KnownDevicesTable {
  person_id: string;
  device_hash: Bytes;
  first_seen_at: CreatedAt;
}

export interface PersonKeysTable {
  person_id: string;
  master_key_id: string;
  wrapped_key: Bytes;
}

export interface AppUsersTable {
  person_id: string;
  app_id: string;
  /** The person's id as one app sees it: pairwise, so apps cannot correlate people. */
  user_id: string;
  created_at: CreatedAt;
}

export interface GrantsTable {
  person_id: string;
  app_id: string;
  fields: string[];
  granted_at: Date;
}

export interface ConsentRecordsTable {
  id: string;
  person_id: string;
  app_id: string;
  connect_id: string;
  requested: string[];
  mandatory: string[];
  granted: string[];
  legal_basis: string | null;
  decision: 'allowed' | 'canceled';
  decided_at: CreatedAt;
  /** The client address of the decision, sealed under the person's data key. */
  ip_ct: ColumnType<Bytes | null, Bytes | null | undefined, Bytes | null>;
}

export interface AuthCodesTable {
  code_hash: Bytes;
  connect_id: string;
  app_id: string;
  person_id: string;
  scope: string[];
  expires_at: Date;
  used_at: Date | null;
  /** When the person had signed in when they allowed the request (null: a code from before this was kept). */
  auth_time: ColumnType<Date | null, Date | null | undefined, never>;
  amr: ColumnType<string[], string[] | undefined, never>;
  sid: ColumnType<string | null, string | null | undefined, never>;
}

/** What every token records of the code it descends from (its lineage) and of its life. */
interface TokenLineageColumns {
  code_hash: Bytes;
  connect_id: string;
  person_id: string;
  app_id: string;
  scope: string[];
  issued_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

export interface AccessTokensTable extends TokenLineageColumns {
  jti: string;
  family_id: string | null;
}

export interface RefreshTokensTable extends TokenLineageColumns {
  token_hash: Bytes;
  family_id: string;
  used_at: Date | null;
  /** Carried from the code down the family: every ID token of a refresh states the original sign-in. */
  auth_time: ColumnType<Date | null, Date | null | undefined, never>;
  amr: ColumnType<string[], string[] | undefined, never>;
  sid: ColumnType<string | null, string | null | undefined, never>;
}

export interface SessionsTable {
  id_hash: Bytes;
  person_id: string;
  created_at: CreatedAt;
  last_seen_at: Date;
  expires_at: Date;
  /** "Firefox on Windows", sealed under the person's data key. */
  device_ct: ColumnType<Bytes | null, Bytes | null | undefined, Bytes | null>;
  /** The network signed in from ("203.0.113.0/24"), sealed under the person's data key. */
  network_ct: ColumnType<Bytes | null, Bytes | null | undefined, Bytes | null>;
  /** When the person last proved who they are for this session. */
  auth_time: ColumnType<Date, Date | undefined, never>;
  /** How (RFC 8176 values: `pwd`, `otp`, `mfa`, …). */
  amr: ColumnType<string[], string[] | undefined, never>;
}

export type { AuditActorKind };

export interface AuditEventsTable {
  id: Generated<number>;
  occurred_at: CreatedAt;
  person_id: string | null;
  action: string;
  field: string | null;
  actor_kind: AuditActorKind;
  actor_id: string | null;
  app_id: string | null;
  purpose: string | null;
  request_id: string | null;
  /** A copy made when its person moved zones: the store, id and time of the original. */
  origin_store: ColumnType<string | null, never, never>;
  origin_id: ColumnType<string | null, never, never>;
  origin_at: ColumnType<Date | null, never, never>;
  /** Set on a record redacted by a zone move: the id of that move's record. */
  redacted_by: ColumnType<string | null, never, never>;
  /** Written only by the SQL function `keygate_audit_append` (see domain/audit/chain.ts). */
  prev_hash: ColumnType<Bytes, never, never>;
  hash: ColumnType<Bytes, never, never>;
}

export interface ZoneDatabase {
  people: PeopleTable;
  person_keys: PersonKeysTable;
  app_users: AppUsersTable;
  grants: GrantsTable;
  consent_records: ConsentRecordsTable;
  auth_codes: AuthCodesTable;
  access_tokens: AccessTokensTable;
  refresh_tokens: RefreshTokensTable;
  sessions: SessionsTable;
  audit_events: AuditEventsTable;
  audit_checkpoints: AuditCheckpointsTable;
  challenges: ChallengesTable;
  recovery_codes: RecoveryCodesTable;
  known_devices: KnownDevicesTable;
}
