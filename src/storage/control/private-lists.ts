import type { Kysely, Selectable } from 'kysely';
import type { Actor, ControlAuditEvent } from '../../domain/audit/audit-log.js';
import type { ListedAddress, NewListedAddress, PrivateListStore } from '../../domain/apps/private-list-store.js';
import { recordControlAudit } from '../audit-append.js';
import type { ControlDatabase, ExtranetMembersTable } from '../schema.js';

const listed = (row: Selectable<ExtranetMembersTable>): ListedAddress => ({
  referenceId: row.reference_id,
  appId: row.app_id,
  emailIndex: row.email_index,
  sealedEmail: { masterKeyId: row.email_master_key_id, sealed: row.email_ct },
  locale: row.locale,
  invitedAt: row.invited_at,
  mailedAt: row.mailed_at,
});

export class PrivateListsRepo implements PrivateListStore {
  constructor(private readonly db: Kysely<ControlDatabase>) {}

  async referenceOf(appId: string, emailIndex: Uint8Array): Promise<string | undefined> {
    const row = await this.db.selectFrom('extranet_members').select('reference_id')
      .where('app_id', '=', appId).where('email_index', '=', emailIndex).executeTakeFirst();
    return row?.reference_id;
  }

  async insertIfAbsent(address: NewListedAddress): Promise<boolean> {
    const inserted = await this.db.insertInto('extranet_members').values({
      reference_id: address.referenceId, app_id: address.appId, email_index: address.emailIndex,
      email_ct: address.sealedEmail.sealed, email_master_key_id: address.sealedEmail.masterKeyId, locale: address.locale,
    }).onConflict((oc) => oc.columns(['app_id', 'email_index']).doNothing()).returning('reference_id').executeTakeFirst();
    return inserted !== undefined;
  }

  async withdraw(referenceId: string): Promise<void> {
    await this.db.deleteFrom('extranet_members').where('reference_id', '=', referenceId).execute();
  }

  async find(appId: string, referenceId: string): Promise<ListedAddress | undefined> {
    const row = await this.db.selectFrom('extranet_members').selectAll()
      .where('app_id', '=', appId).where('reference_id', '=', referenceId).executeTakeFirst();
    return row && listed(row);
  }

  async markMailed(referenceId: string, at: Date): Promise<void> {
    await this.db.updateTable('extranet_members').set({ mailed_at: at }).where('reference_id', '=', referenceId).execute();
  }

  remove(appId: string, referenceId: string, actor: Actor, events: readonly ControlAuditEvent[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx.deleteFrom('extranet_members').where('app_id', '=', appId).where('reference_id', '=', referenceId).executeTakeFirst();
      if (result.numDeletedRows === 0n) return false;
      await recordControlAudit(trx, actor, events);
      return true;
    });
  }

  async list(appId: string): Promise<ListedAddress[]> {
    return (await this.db.selectFrom('extranet_members').selectAll().where('app_id', '=', appId).orderBy('invited_at').execute()).map(listed);
  }

  async audit(actor: Actor, events: readonly ControlAuditEvent[]): Promise<void> {
    await recordControlAudit(this.db, actor, events);
  }
}
