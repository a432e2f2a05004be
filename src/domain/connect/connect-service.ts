import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { PREPARED } from '../../storage/prepared-statements.js';
import type { ConnectStatus, ControlDatabase } from '../../storage/schema.js';
import type { App } from '../apps/apps-service.js';
import { addSeconds, type Clock } from '../clock.js';
import { scopeFromStored, storedScope, type Scope } from '../consent/fields.js';
import { KeygateError } from '../errors.js';
import { isReturnUrlAllowed, parseReturnUrl } from '../protection/return-url.js';
import type { ZoneName } from '../zones/zones.js';

/** A pending sign-in: what an app asked for, waiting for a person to decide. */
export interface ConnectRequest {
  readonly id: string;
  readonly appId: string;
  readonly requestId: string;
  readonly scope: Scope;
  readonly returnUrl: string;
  readonly status: ConnectStatus;
  readonly zone: ZoneName | null;
  readonly expiresAt: Date;
  /** The app key pair a signed /connect used (null: unsigned, the current key). */
  readonly keyId: string | null;
}

export interface ConnectInput {
  readonly requestId: string;
  /** Already parsed by the protocol, and checked against what the app may ask for. */
  readonly scope: Scope;
  readonly returnUrl: string;
  /** Set when the call was signed: the redirect back is then signed with the same key pair. */
  readonly keyId?: string | null;
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
    private readonly db: Kysely<ControlDatabase>,
    private readonly clock: Clock,
    private readonly ttlMinutes: number,
    private readonly gatewayBaseUrl: string,
  ) {}

  /** Opens a connect request for `app` (spec, `POST /auth/v2/connect`). */
  async openConnect(app: App, input: ConnectInput): Promise<{ connectId: string; gateway: string }> {
    if (!isAcceptableReturnUrl(app, input.returnUrl)) throw new KeygateError('return_url_not_allowed');
    const id = randomUUID();
    await this.db.insertInto('connect_requests').values({
      id,
      app_id: app.id,
      request_id: input.requestId,
      scope: storedScope(input.scope),
      return_url: input.returnUrl,
      zone: null,
      key_id: input.keyId ?? null,
      expires_at: addSeconds(this.clock.now(), this.ttlMinutes * 60),
    }).execute();
    return { connectId: id, gateway: `${this.gatewayBaseUrl}/gateway/${id}` };
  }

  /** The connect request with this id, whatever its state; null when unknown. */
  async findConnect(connectId: string): Promise<ConnectRequest | null> {
    const row = await this.db.selectFrom('connect_requests').modifyFront(PREPARED).selectAll().where('id', '=', connectId).executeTakeFirst();
    if (!row) return null;
    return {
      id: row.id,
      appId: row.app_id,
      requestId: row.request_id,
      scope: scopeFromStored(row.scope),
      returnUrl: row.return_url,
      status: row.status,
      zone: row.zone as ZoneName | null,
      expiresAt: row.expires_at,
      keyId: row.key_id,
    };
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
  async settleConnect(connectId: string, status: Exclude<ConnectStatus, 'pending'>, zone: ZoneName | null): Promise<boolean> {
    const result = await this.db.updateTable('connect_requests')
      .set({ status, zone })
      .where('id', '=', connectId)
      .where('status', '=', 'pending')
      .where('expires_at', '>', this.clock.now())
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }
}
