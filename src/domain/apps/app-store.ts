import type { Actor, ControlAuditEvent } from '../audit/audit-log.js';
import type { PersonRef } from '../zones/zone-registry.js';
import type { AppProtections, AppSettings } from './app.js';

/** A private key as the control plane keeps it: sealed under one of its master keys. */
export interface SealedPrivateKey {
  readonly masterKeyId: string;
  readonly sealed: Uint8Array;
}

/** A replaced key pair that keeps working until it retires. */
export interface RetiringKeyRecord {
  readonly keyId: string;
  readonly secretKey: string;
  readonly privateKey: SealedPrivateKey;
  readonly retiresAt: Date;
}

/** An app as the control plane keeps it: settings, the current key pair and the live replaced ones. */
export interface AppRecord extends AppSettings {
  readonly secretKey: string;
  readonly privateKey: SealedPrivateKey;
  /** Newest first. */
  readonly retiring: readonly RetiringKeyRecord[];
}

/** A new app: its first settings (the others take their defaults) and key pair. */
export type NewAppRecord = Pick<AppRecord, 'id' | 'name' | 'secretKey' | 'privateKey' | 'origins' | 'returnUrls' | 'redirectUris' | 'publicClient' | 'clientSecretHash' | 'permissions' | 'legalBasis'> & {
  readonly domainProtection: boolean;
};

/** The four protections and the lists they check against, saved together. */
/** Where an OpenID Connect client's people go, and what it hears, when they sign out. */
export interface LogoutSettings {
  readonly postLogoutRedirectUris: readonly string[];
  readonly backchannelLogoutUri: string | null;
}

export interface ProtectionSettings {
  readonly protections: AppProtections;
  readonly origins: readonly string[];
  readonly returnUrls: readonly string[];
  readonly ipEntries: readonly string[];
}

/** The writes of one change to an app, in one transaction. Each `false` or `undefined`: no such app. */
export interface AppChanges {
  rename(name: string): Promise<boolean>;
  remove(): Promise<boolean>;
  setProtections(values: ProtectionSettings): Promise<boolean>;
  setPrivate(isPrivate: boolean): Promise<boolean>;
  /** Replaces a confidential client's secret; false when the app is gone or is a public client. */
  setClientSecretHash(hash: Uint8Array): Promise<boolean>;
  setRedirectUris(uris: readonly string[]): Promise<boolean>;
  setClientJwks(jwks: { readonly keys: ReadonlyArray<Readonly<Record<string, unknown>>> } | null): Promise<boolean>;
  setLogout(settings: LogoutSettings): Promise<boolean>;
  /** The fields the operator lets the app make mandatory, locked until the change commits. */
  lockMandatoryApproved(): Promise<readonly string[] | undefined>;
  setPermissions(permissions: readonly string[], legalBases: Readonly<Record<string, string>>): Promise<void>;
  approveMandatory(fields: readonly string[]): Promise<boolean>;
  /** The current key pair, locked until the change commits. */
  lockCurrentKey(): Promise<{ secretKey: string; privateKey: SealedPrivateKey } | undefined>;
  /** Keeps a replaced key pair until it retires (once: the same key again changes nothing). */
  keepRetiringKey(key: RetiringKeyRecord): Promise<void>;
  setCurrentKey(secretKey: string, privateKey: SealedPrivateKey): Promise<void>;
  /** Ends every replaced key's grace period; their ids. */
  retireOldKeys(): Promise<string[]>;
  audit(actor: Actor, events: readonly ControlAuditEvent[]): Promise<void>;
}

export interface AppAuditEntry {
  readonly at: Date;
  readonly action: string;
  readonly detail: string | null;
  readonly actorKind: string;
}

/** Apps in the control plane. */
export interface AppStore {
  /** The app with its replaced keys that are live at `now`; null when unknown. */
  load(appId: string, now: Date): Promise<AppRecord | null>;
  /** A counter every change moves: a node that sees it move forgets what it cached. */
  changeVersion(): Promise<string>;
  isOriginListedByAnyApp(origin: string): Promise<boolean>;
  /** Whether some app that browsers may call has domain protection off. */
  anyAppOpenToEveryOrigin(): Promise<boolean>;
  /** Registers an app (and its first owner) with its audit records, in one transaction. */
  create(app: NewAppRecord, owner: PersonRef | null, actor: Actor, events: readonly ControlAuditEvent[]): Promise<void>;
  /** Runs one change to an app in a transaction that, on commit, tells every node the app changed. */
  change<T>(appId: string, work: (changes: AppChanges) => Promise<T>): Promise<T>;
  /** Appends app records in their own transaction. */
  audit(actor: Actor, events: readonly ControlAuditEvent[]): Promise<void>;
  /** The app's own records, newest first. */
  auditTrail(appId: string, limit: number): Promise<AppAuditEntry[]>;
}

/** An invitation to own an app, kept by its token's hash. */
export interface OwnerInvitationRecord {
  readonly id: string;
  readonly tokenHash: Uint8Array;
  readonly appId: string;
  /** The invited account. */
  readonly personId: string;
  readonly invitedBy: string;
  readonly expiresAt: Date;
}

/** The writes of one change to an app's owners, in one transaction. */
export interface OwnerChanges {
  /** Whether the person owns the app, as this transaction sees it. */
  owns(appId: string, personId: string): Promise<boolean>;
  /** The app's owners' ids, locked until the change commits. */
  lockOwners(appId: string): Promise<string[]>;
  /** Adds an owner; false when they were one already. */
  add(appId: string, owner: PersonRef): Promise<boolean>;
  remove(appId: string, personId: string): Promise<void>;
  /** Drops the owner invitations someone sent for the app. */
  dropInvitationsBy(appId: string, personId: string): Promise<void>;
  /** Records an invitation, replacing the invited account's earlier one to the same app. */
  replaceInvitation(invitation: OwnerInvitationRecord): Promise<void>;
  /** The unexpired invitation with this token's hash, locked until the change commits. */
  lockInvitation(tokenHash: Uint8Array, now: Date): Promise<OwnerInvitationRecord | undefined>;
  deleteInvitation(id: string): Promise<void>;
  /** Removes the person from every app they own and every invitation to or from them; the apps. */
  forgetPerson(personId: string): Promise<string[]>;
  audit(actor: Actor, events: readonly ControlAuditEvent[]): Promise<void>;
}

/** Who owns which app, in the control plane (opaque person ids and their zones). */
export interface AppOwnerStore {
  isOwner(appId: string, personId: string): Promise<boolean>;
  appsOwnedBy(personId: string): Promise<Array<{ id: string; name: string; createdAt: Date }>>;
  ownersOf(appId: string): Promise<PersonRef[]>;
  change<T>(work: (changes: OwnerChanges) => Promise<T>): Promise<T>;
  /** The unexpired invitation with this token's hash whose inviter still owns the app, with the app's name. */
  liveInvitation(tokenHash: Uint8Array, now: Date): Promise<(OwnerInvitationRecord & { appName: string }) | undefined>;
  audit(actor: Actor, events: readonly ControlAuditEvent[]): Promise<void>;
}
