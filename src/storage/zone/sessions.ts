import type { Kysely } from 'kysely';
import type { SessionRecord, SessionStore } from '../../domain/sessions/session-store.js';
import { recordAudit } from '../audit-append.js';
import type { ZoneDatabase } from '../schema.js';

export class SessionsRepo implements SessionStore {
  constructor(private readonly db: Kysely<ZoneDatabase>) {}

  async insert(session: SessionRecord): Promise<void> {
    await this.db.insertInto('sessions').values({
      id_hash: session.idHash,
      person_id: session.personId,
      last_seen_at: session.lastSeenAt,
      expires_at: session.expiresAt,
      device_ct: session.sealedDevice,
      network_ct: session.sealedNetwork,
      auth_time: session.authTime,
      amr: [...session.amr],
    }).execute();
  }

  async authentication(idHash: Uint8Array, now: Date) {
    const row = await this.db.selectFrom('sessions').select(['auth_time', 'amr'])
      .where('id_hash', '=', idHash).where('expires_at', '>', now).executeTakeFirst();
    return row && { authTime: row.auth_time, amr: row.amr };
  }

  async touch(idHash: Uint8Array, now: Date, idleSince: Date): Promise<string | undefined> {
    const row = await this.db.updateTable('sessions')
      .set({ last_seen_at: now })
      .where('id_hash', '=', idHash)
      .where('expires_at', '>', now)
      .where('last_seen_at', '>', idleSince)
      .returning('person_id')
      .executeTakeFirst();
    return row?.person_id;
  }

  end(idHash: Uint8Array, recordsFor: Parameters<SessionStore['end']>[1]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.deleteFrom('sessions').where('id_hash', '=', idHash).returning('person_id').executeTakeFirst();
      if (!row) return false;
      const records = recordsFor(row.person_id);
      if (records) await recordAudit(trx, records.actor, records.events);
      return true;
    });
  }
}
