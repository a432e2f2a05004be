import type { Kysely, Transaction } from 'kysely';
import { AlreadyDecided, type AppConsentProof, type ConsentStore, type ConsentWrites } from '../../domain/consent/consent-store.js';
import { recordAudit } from '../audit-append.js';
import { transactionRefusingDuplicates } from '../availability.js';
import type { ZoneDatabase } from '../schema.js';
import { wrappedDataKeyOf } from './person-keys.js';

function consentWrites(trx: Transaction<ZoneDatabase>): ConsentWrites {
  return {
    async admitAppUser(personId, appId, userId) {
      await trx.insertInto('app_users')
        .values({ person_id: personId, app_id: appId, user_id: userId })
        .onConflict((oc) => oc.columns(['person_id', 'app_id']).doNothing())
        .execute();
    },
    async grant(personId, appId, fields, at) {
      await trx.insertInto('grants')
        .values({ person_id: personId, app_id: appId, fields: [...fields], granted_at: at })
        .onConflict((oc) => oc.columns(['person_id', 'app_id']).doUpdateSet({ fields: [...fields], granted_at: at }))
        .execute();
    },
    wrappedDataKey: (personId) => wrappedDataKeyOf(trx, personId),
    async recordConsent(record) {
      await trx.insertInto('consent_records').values({
        id: record.id,
        person_id: record.personId,
        app_id: record.appId,
        connect_id: record.connectId,
        requested: [...record.requested],
        mandatory: [...record.mandatory],
        granted: [...record.granted],
        legal_basis: record.legalBasis,
        decision: record.decision,
        ip_ct: record.sealedAddress,
      }).execute();
    },
    async currentGrant(personId, appId) {
      const row = await trx.selectFrom('grants').select('fields').where('person_id', '=', personId).where('app_id', '=', appId).forUpdate().executeTakeFirst();
      return row?.fields;
    },
    async appUserId(personId, appId) {
      const row = await trx.selectFrom('app_users').select('user_id').where('person_id', '=', personId).where('app_id', '=', appId).executeTakeFirst();
      return row?.user_id;
    },
    async issueCode(code) {
      await trx.insertInto('auth_codes').values({
        code_hash: code.codeHash,
        connect_id: code.connectId,
        app_id: code.appId,
        person_id: code.personId,
        scope: [...code.scope],
        expires_at: code.expiresAt,
        used_at: null,
        auth_time: code.authentication?.authTime ?? null,
        amr: [...(code.authentication?.amr ?? [])],
        sid: code.authentication?.sid ?? null,
      }).execute();
    },
    audit: (actor, events) => recordAudit(trx, actor, events),
  };
}

export class ConsentRepo implements ConsentStore {
  constructor(private readonly db: Kysely<ZoneDatabase>) {}

  decide<T>(work: (writes: ConsentWrites) => Promise<T>): Promise<T> {
    // A consent record or code of this request exists: another decision got there first.
    return transactionRefusingDuplicates(this.db, consentWrites, work, (cause) => new AlreadyDecided('the request was decided already', { cause }));
  }

  async withdrawCode(connectId: string, personId: string): Promise<void> {
    await this.db.deleteFrom('auth_codes').where('connect_id', '=', connectId).where('person_id', '=', personId).execute();
  }

  async proofsForApp(appId: string, limit: number): Promise<AppConsentProof[]> {
    const rows = await this.db.selectFrom('consent_records as c')
      .innerJoin('app_users as u', (join) => join.onRef('u.person_id', '=', 'c.person_id').onRef('u.app_id', '=', 'c.app_id'))
      .select(['u.user_id', 'c.decided_at', 'c.decision', 'c.requested', 'c.mandatory', 'c.legal_basis', 'c.granted'])
      .where('c.app_id', '=', appId).orderBy('c.decided_at', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      userId: r.user_id, decidedAt: r.decided_at, decision: r.decision, requested: r.requested, mandatory: r.mandatory, legalBasis: r.legal_basis, granted: r.granted,
    }));
  }
}
