import { sql, type Kysely, type Selectable } from 'kysely';
import type { Actor, ControlAuditEvent } from '../../domain/audit/audit-log.js';
import type { NewSigningKey, SigningKeyRecord, SigningKeyStore } from '../../domain/signing/signing-key-store.js';
import { recordControlAudit } from '../audit-append.js';
import type { ControlDatabase, SigningKeysTable } from '../schema.js';

const record = (row: Selectable<SigningKeysTable>): SigningKeyRecord => ({
  kid: row.kid,
  alg: row.alg,
  publicJwk: row.public_jwk,
  privateKey: { masterKeyId: row.private_key_master_key_id, sealed: row.private_key_ct },
  createdAt: row.created_at,
  signsFrom: row.signs_from,
  retiresAt: row.retires_at,
});

const row = (key: NewSigningKey) => ({
  kid: key.kid,
  alg: key.alg,
  public_jwk: JSON.stringify(key.publicJwk),
  private_key_ct: key.privateKey.sealed,
  private_key_master_key_id: key.privateKey.masterKeyId,
  signs_from: key.signsFrom,
});

export class SigningKeysRepo implements SigningKeyStore {
  constructor(private readonly db: Kysely<ControlDatabase>) {}

  async unretired(now: Date): Promise<SigningKeyRecord[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll()
      .where((eb) => eb.or([eb('retires_at', 'is', null), eb('retires_at', '>', now)]))
      .orderBy('signs_from', 'desc').execute();
    return rows.map(record);
  }

  addFirst(key: NewSigningKey, now: Date, actor: Actor, events: readonly ControlAuditEvent[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      // Nodes starting together each try to make the first key: the lock lets one of them.
      await sql`lock table signing_keys in share row exclusive mode`.execute(trx);
      const existing = await trx.selectFrom('signing_keys').select('kid')
        .where((eb) => eb.or([eb('retires_at', 'is', null), eb('retires_at', '>', now)])).executeTakeFirst();
      if (existing) return false;
      await trx.insertInto('signing_keys').values(row(key)).execute();
      await recordControlAudit(trx, actor, events);
      return true;
    });
  }

  rotate(next: NewSigningKey, retireAt: Date, actor: Actor, events: readonly ControlAuditEvent[]): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      await sql`lock table signing_keys in share row exclusive mode`.execute(trx);
      const retired = await trx.updateTable('signing_keys').set({ retires_at: retireAt })
        .where('retires_at', 'is', null).returning('kid').execute();
      await trx.insertInto('signing_keys').values(row(next)).execute();
      await recordControlAudit(trx, actor, events);
      return retired.map((r) => r.kid);
    });
  }
}
