import type { Kysely } from 'kysely';
import type { ClientAssertionStore } from '../../domain/apps/client-assertions.js';
import type { ControlDatabase } from '../schema.js';

export class ClientAssertionsRepo implements ClientAssertionStore {
  constructor(private readonly db: Kysely<ControlDatabase>) {}

  async recordOnce(clientId: string, jti: string, expiresAt: Date): Promise<boolean> {
    const inserted = await this.db.insertInto('client_assertions')
      .values({ client_id: clientId, jti, expires_at: expiresAt })
      .onConflict((conflict) => conflict.columns(['client_id', 'jti']).doNothing())
      .returning('jti')
      .executeTakeFirst();
    return inserted !== undefined;
  }
}
