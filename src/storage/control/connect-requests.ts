import type { Kysely } from 'kysely';
import { scopeFromStored, storedScope } from '../../domain/consent/fields.js';
import type { ConnectRequest, ConnectRequestStore, NewConnectRequest } from '../../domain/connect/request-store.js';
import type { ZoneName } from '../../domain/zones/zones.js';
import { PREPARED } from '../prepared-statements.js';
import type { ControlDatabase } from '../schema.js';

export class ConnectRequestsRepo implements ConnectRequestStore {
  constructor(private readonly db: Kysely<ControlDatabase>) {}

  async insert(request: NewConnectRequest): Promise<void> {
    await this.db.insertInto('connect_requests').values({
      id: request.id,
      app_id: request.appId,
      protocol: request.protocol,
      request_id: request.requestId,
      scope: storedScope(request.scope),
      return_url: request.returnUrl,
      zone: null,
      key_id: request.keyId,
      code_challenge: request.codeChallenge,
      sign_in_after: request.signInAfter,
      protocol_params: JSON.stringify(request.protocolParams),
      expires_at: request.expiresAt,
    }).execute();
  }

  async find(id: string): Promise<ConnectRequest | null> {
    const row = await this.db.selectFrom('connect_requests').modifyFront(PREPARED).selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    return {
      id: row.id,
      appId: row.app_id,
      protocol: row.protocol,
      requestId: row.request_id,
      scope: scopeFromStored(row.scope),
      returnUrl: row.return_url,
      status: row.status,
      zone: row.zone as ZoneName | null,
      expiresAt: row.expires_at,
      keyId: row.key_id,
      codeChallenge: row.code_challenge,
      signInAfter: row.sign_in_after,
      protocolParams: row.protocol_params,
    };
  }

  async settle(id: string, status: Exclude<ConnectRequest['status'], 'pending'>, zone: ZoneName | null, now: Date): Promise<boolean> {
    const result = await this.db.updateTable('connect_requests')
      .set({ status, zone })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }
}
