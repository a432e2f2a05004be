import { randomUUID } from 'node:crypto';
import type { App } from '../apps/app.js';
import { addSeconds, type Clock } from '../clock.js';
import type { Scope } from '../consent/fields.js';
import { KeygateError } from '../errors.js';
import { isRegisteredRedirectUri } from '../protection/redirect-uri.js';
import { isReturnUrlAllowed, parseReturnUrl } from '../protection/return-url.js';
import type { ZoneName } from '../zones/zones.js';
import type { ConnectRequest, ConnectRequestStore, ConnectStatus } from './request-store.js';

export type { ConnectRequest } from './request-store.js';

export interface ConnectInput {
  readonly requestId: string;
  /** Already parsed by the protocol, and checked against what the app may ask for. */
  readonly scope: Scope;
  readonly returnUrl: string;
  /** Set when the call was signed: the redirect back is then signed with the same key pair. */
  readonly keyId?: string | null;
}

/** An authorization request of a protocol built on OAuth 2.0 (OpenID Connect). */
export interface AuthorizationInput {
  readonly protocol: 'oidc';
  readonly scope: Scope;
  /** Already found among the app's registered redirect URIs by the protocol; checked again here. */
  readonly redirectUri: string;
  /** PKCE: the S256 challenge, or null without PKCE. */
  readonly codeChallenge: string | null;
  readonly signIn: SignInRequirement;
  /** What the protocol needs back when the request ends (state, nonce, …): nothing personal. */
  readonly params: Readonly<Record<string, unknown>>;
}

/** How recent the person's sign-in must be: `fresh` asks for a new one; `maxAgeSeconds` bounds its age. */
export interface SignInRequirement {
  readonly fresh: boolean;
  readonly maxAgeSeconds: number | null;
}

/**
 * Return URL protection. Off, any URL the parser accepts (https, or http on loopback,
 * no credentials) will do; on, it must fall under one of the app's listed URLs.
 */
function isAcceptableReturnUrl(app: App, returnUrl: string): boolean {
  return app.protections.returnUrl ? isReturnUrlAllowed(returnUrl, app.returnUrls) : parseReturnUrl(returnUrl) !== null;
}

export class ConnectService {
  constructor(
    private readonly requests: ConnectRequestStore,
    private readonly clock: Clock,
    private readonly ttlMinutes: number,
    private readonly gatewayBaseUrl: string,
  ) {}

  /** Opens a connect request for `app` (spec, `POST /auth/v2/connect`). */
  async openConnect(app: App, input: ConnectInput): Promise<{ connectId: string; gateway: string }> {
    if (!isAcceptableReturnUrl(app, input.returnUrl)) throw new KeygateError('return_url_not_allowed');
    const id = randomUUID();
    await this.requests.insert({
      id,
      appId: app.id,
      protocol: 'ukey1',
      requestId: input.requestId,
      scope: input.scope,
      returnUrl: input.returnUrl,
      keyId: input.keyId ?? null,
      codeChallenge: null,
      signInAfter: null,
      protocolParams: {},
      expiresAt: addSeconds(this.clock.now(), this.ttlMinutes * 60),
    });
    return { connectId: id, gateway: this.gatewayFor(id) };
  }

  /**
   * Opens the request of an OpenID Connect authorization: the same pending request, the
   * same gateway pages, answered to a redirect URI that must be registered exactly.
   */
  async openAuthorization(app: App, input: AuthorizationInput): Promise<{ connectId: string; gateway: string }> {
    if (!isRegisteredRedirectUri(input.redirectUri, app.redirectUris)) throw new KeygateError('return_url_not_allowed');
    const id = randomUUID();
    await this.requests.insert({
      id,
      appId: app.id,
      protocol: input.protocol,
      requestId: null,
      scope: input.scope,
      returnUrl: input.redirectUri,
      keyId: null,
      codeChallenge: input.codeChallenge,
      signInAfter: this.signInAfter(input.signIn),
      protocolParams: input.params,
      expiresAt: addSeconds(this.clock.now(), this.ttlMinutes * 60),
    });
    return { connectId: id, gateway: this.gatewayFor(id) };
  }

  /** The earliest sign-in that meets `requirement` now (null: any). */
  signInAfter(requirement: SignInRequirement): Date | null {
    const now = this.clock.now();
    if (requirement.fresh) return now;
    return requirement.maxAgeSeconds === null ? null : addSeconds(now, -requirement.maxAgeSeconds);
  }

  /** Whether a session signed in at `authTime` may decide on `connect`, or must sign in again first. */
  static acceptsSignIn(connect: Pick<ConnectRequest, 'signInAfter'>, authTime: Date | null): boolean {
    return connect.signInAfter === null || (authTime !== null && authTime >= connect.signInAfter);
  }

  /** Where a person decides on the request `connectId`. */
  gatewayFor(connectId: string): string {
    return `${this.gatewayBaseUrl}/gateway/${connectId}`;
  }

  /** The connect request with this id, whatever its state; null when unknown. */
  findConnect(connectId: string): Promise<ConnectRequest | null> {
    return this.requests.find(connectId);
  }

  /** A request a person can still decide on: pending and not expired. */
  async findOpenConnect(connectId: string): Promise<ConnectRequest | null> {
    const connect = await this.findConnect(connectId);
    if (!connect || connect.status !== 'pending' || connect.expiresAt <= this.clock.now()) return null;
    return connect;
  }

  /**
   * Records the decision once: the first decision wins, a concurrent second one gets
   * `false`. An authorized request also records which zone now holds the code.
   */
  settleConnect(connectId: string, status: Exclude<ConnectStatus, 'pending'>, zone: ZoneName | null): Promise<boolean> {
    return this.requests.settle(connectId, status, zone, this.clock.now());
  }
}
