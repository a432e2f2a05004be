import { createHash, type KeyObject } from 'node:crypto';
import type { FieldCode } from '../consent/fields.js';

/** One RSA key pair of an app: the current one, or a replaced one still inside its grace period. */
export interface AppKey {
  /** Short stable id (a digest of the Secret Key): the JWT `kid`, and what a connect request remembers. */
  readonly id: string;
  readonly secretKey: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** When a replaced key stops working; null for the current key. */
  readonly retiresAt: Date | null;
}

export interface AppProtections {
  readonly domain: boolean;
  readonly returnUrl: boolean;
  readonly serverOnly: boolean;
  readonly ip: boolean;
}

/** An app's settings: what its owners set and what the operator allowed it. */
export interface AppSettings {
  readonly id: string;
  readonly name: string;
  readonly origins: readonly string[];
  readonly returnUrls: readonly string[];
  /** Where an OpenID Connect authorization may send the person back to, matched exactly. */
  readonly redirectUris: readonly string[];
  /** An OpenID Connect client without a secret (a browser or native app): it must use PKCE. */
  readonly publicClient: boolean;
  /** SHA-256 of the confidential client's secret; null when it has none. */
  readonly clientSecretHash: Uint8Array | null;
  /** Where the person may be sent after signing out at the client's request, matched exactly. */
  readonly postLogoutRedirectUris: readonly string[];
  /** Where the client hears, server to server, that a session it signed in with ended; null: it does not. */
  readonly backchannelLogoutUri: string | null;
  /** The public keys (a JWK set) a client proves itself with at the token endpoint (private_key_jwt); null: none. */
  readonly clientJwks: { readonly keys: ReadonlyArray<Readonly<Record<string, unknown>>> } | null;
  readonly ipEntries: readonly string[];
  readonly protections: AppProtections;
  readonly private: boolean;
  readonly permissions: readonly string[];
  readonly legalBasis: string;
  readonly legalBases: Readonly<Record<string, string>>;
  readonly mandatoryApproved: readonly string[];
  readonly createdAt: Date;
}

/** An app as the protocol needs it: settings plus usable key objects. */
export interface App extends AppSettings {
  /** The current key first, then replaced keys that have not retired yet. */
  readonly keys: readonly AppKey[];
  /** The current key pair (shorthands for `keys[0]`). */
  readonly secretKey: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export const DEFAULT_LEGAL_BASIS = 'Needed to provide the service you are signing in to (performance of a contract, GDPR Art. 6(1)(b)).';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID.test(value);

export const appKeyId = (secretKey: string): string => createHash('sha256').update(secretKey).digest('base64url').slice(0, 22);

// Current keys are bound to their app's row, replaced ones to their own row.
export const currentKeyLocation = (appId: string) => ({ table: 'apps', column: 'private_key_ct', rowId: appId });
export const retiringKeyLocation = (keyId: string) => ({ table: 'app_retiring_keys', column: 'private_key_ct', rowId: keyId });

/** The same app as one caller sees it: what the gateway signs for that caller uses the key it holds. */
export function withSigningKey(app: App, key: AppKey): App {
  return key === app.keys[0] ? app : { ...app, secretKey: key.secretKey, privateKey: key.privateKey, publicKey: key.publicKey };
}

/** The legal basis shown for a mandatory field. */
export const legalBasisFor = (app: App, field: FieldCode): string => app.legalBases[field] ?? app.legalBasis;
