import type { Scope } from '../consent/fields.js';
import type { ZoneName } from '../zones/zones.js';

export type ConnectStatus = 'pending' | 'authorized' | 'canceled' | 'denied';

/** The protocol a request came in by, which decides how its answer goes back. */
export type AuthorizationProtocol = 'ukey1' | 'oidc';

/** A pending sign-in: what an app asked for, waiting for a person to decide. */
export interface ConnectRequest {
  readonly id: string;
  readonly appId: string;
  readonly protocol: AuthorizationProtocol;
  /** The Ukey1 app's own id of the request; null for other protocols. */
  readonly requestId: string | null;
  readonly scope: Scope;
  /** Where the answer goes: the Ukey1 return URL, or the OpenID Connect redirect URI. */
  readonly returnUrl: string;
  readonly status: ConnectStatus;
  readonly zone: ZoneName | null;
  readonly expiresAt: Date;
  /** The app key pair a signed /connect used (null: unsigned, the current key). */
  readonly keyId: string | null;
  /** PKCE (RFC 7636): the S256 challenge the code's exchange must answer; null without PKCE. */
  readonly codeChallenge: string | null;
  /** A sign-in older than this does not do: the person signs in again first (null: any live session). */
  readonly signInAfter: Date | null;
  /** The protocol's own parameters (OpenID Connect: state, nonce, …), nothing personal; only its front-end reads them. */
  readonly protocolParams: Readonly<Record<string, unknown>>;
}

export type NewConnectRequest = Omit<ConnectRequest, 'status' | 'zone'>;

/** Where pending requests are kept: the control plane, for they hold no personal data. */
export interface ConnectRequestStore {
  insert(request: NewConnectRequest): Promise<void>;
  /** The request with this id, whatever its state; null when unknown. */
  find(id: string): Promise<ConnectRequest | null>;
  /**
   * Moves a pending request that has not expired by `now` to `status` (recording the zone
   * that holds its code); false when it was decided already or has expired.
   */
  settle(id: string, status: Exclude<ConnectStatus, 'pending'>, zone: ZoneName | null, now: Date): Promise<boolean>;
}
