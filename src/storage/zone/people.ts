import type { Kysely, Transaction } from 'kysely';
import { AlreadyTaken, type ChallengeRecord, type ChallengeStore, type PersonStore, type PersonWrites, type SealedPerson } from '../../domain/people/person-store.js';
import type { Actor, AuditEvent } from '../../domain/audit/audit-log.js';
import { PERSON_DATA, zoneTablesWhere, type ZoneTable } from '../../domain/residency/person-data.js';
import { recordAudit } from '../audit-append.js';
import { transactionRefusingDuplicates } from '../availability.js';
import type { ZoneDatabase } from '../schema.js';
import { wrappedDataKeyOf } from './person-keys.js';

type ZoneDb = Kysely<ZoneDatabase> | Transaction<ZoneDatabase>;

async function sealedPersonOf(db: ZoneDb, personId: string): Promise<SealedPerson | undefined> {
  return db.selectFrom('people')
    .innerJoin('person_keys', 'person_keys.person_id', 'people.id')
    .select([
      'people.id', 'people.firstname_ct', 'people.surname_ct', 'people.email_ct', 'people.image_ct',
      'people.country_ct', 'people.language_ct', 'person_keys.master_key_id', 'person_keys.wrapped_key',
    ])
    .where('people.id', '=', personId)
    .executeTakeFirst();
}

/**
 * The writes of a person's zone bound to one transaction. Modules of the domain whose own
 * queries have not moved behind a port yet reach these through the transaction they hold.
 */
export function personWrites(trx: Transaction<ZoneDatabase>): PersonWrites {
  return {
    async insertPerson(person, key) {
      await trx.insertInto('people').values({
        id: person.id,
        email_index: person.emailIndex,
        ...person.sealed,
        password_hash: person.passwordHash,
        email_verified_at: person.emailVerifiedAt,
      }).execute();
      await trx.insertInto('person_keys').values({ person_id: person.id, master_key_id: key.masterKeyId, wrapped_key: key.wrappedKey }).execute();
    },
    wrappedDataKey: (personId) => wrappedDataKeyOf(trx, personId),
    sealedPerson: (personId) => sealedPersonOf(trx, personId),
    async sealedColumn(personId, column) {
      const row = await trx.selectFrom('people').innerJoin('person_keys', 'person_keys.person_id', 'people.id')
        .select([`people.${column} as sealed`, 'person_keys.master_key_id', 'person_keys.wrapped_key']).where('people.id', '=', personId).executeTakeFirst();
      return row?.sealed ? { sealed: row.sealed, key: { masterKeyId: row.master_key_id, wrappedKey: row.wrapped_key } } : undefined;
    },
    async setNickname(personId, nickname) {
      await trx.updateTable('people').set({ nickname_index: nickname?.index ?? null, nickname_ct: nickname?.sealed ?? null }).where('id', '=', personId).execute();
    },
    async setEmail(personId, email, verifiedAt) {
      await trx.updateTable('people').set({ email_index: email.index, email_ct: email.sealed, email_verified_at: verifiedAt }).where('id', '=', personId).execute();
    },
    async markEmailVerified(personId, at) {
      await trx.updateTable('people').set({ email_verified_at: at }).where('id', '=', personId).where('email_verified_at', 'is', null).execute();
    },
    async setPassword(personId, hash, changedAt) {
      await trx.updateTable('people').set(changedAt ? { password_hash: hash, password_changed_at: changedAt } : { password_hash: hash }).where('id', '=', personId).execute();
    },
    async endSessions(personId) {
      await trx.deleteFrom('sessions').where('person_id', '=', personId).execute();
    },
    async replaceChallenge(challenge: ChallengeRecord) {
      await trx.deleteFrom('challenges').where('person_id', '=', challenge.personId).where('purpose', '=', challenge.purpose).execute();
      await trx.insertInto('challenges').values({
        token_hash: challenge.tokenHash,
        person_id: challenge.personId,
        purpose: challenge.purpose,
        code_hash: challenge.codeHash,
        detail_ct: challenge.detail,
        expires_at: challenge.expiresAt,
      }).execute();
    },
    async dropChallenges(personId, purposes) {
      if (purposes.length === 0) return;
      await trx.deleteFrom('challenges').where('person_id', '=', personId).where('purpose', 'in', [...purposes]).execute();
    },
    async setImage(personId, sealed) {
      await trx.updateTable('people').set({ image_ct: sealed }).where('id', '=', personId).execute();
    },
    async imageGrantedTo(personId, appId) {
      const row = await trx.selectFrom('people')
        .innerJoin('person_keys', 'person_keys.person_id', 'people.id')
        .innerJoin('grants', (join) => join.onRef('grants.person_id', '=', 'people.id').on('grants.app_id', '=', appId))
        .select(['people.image_ct', 'person_keys.master_key_id', 'person_keys.wrapped_key', 'grants.fields'])
        .where('people.id', '=', personId).executeTakeFirst();
      if (!row?.image_ct || !row.fields.includes('image')) return undefined;
      return { sealed: row.image_ct, key: { masterKeyId: row.master_key_id, wrappedKey: row.wrapped_key } };
    },
    async lockSecondFactor(personId) {
      const row = await trx.selectFrom('people').innerJoin('person_keys', 'person_keys.person_id', 'people.id')
        .select(['people.totp_secret_ct', 'people.totp_last_step', 'person_keys.master_key_id', 'person_keys.wrapped_key'])
        .where('people.id', '=', personId).forUpdate().executeTakeFirst();
      if (!row?.totp_secret_ct) return undefined;
      return {
        sealedSecret: row.totp_secret_ct,
        lastStep: row.totp_last_step === null ? null : Number(row.totp_last_step),
        key: { masterKeyId: row.master_key_id, wrappedKey: row.wrapped_key },
      };
    },
    async setSecondFactor(personId, factor) {
      await trx.updateTable('people').set({ totp_secret_ct: factor?.sealedSecret ?? null, totp_last_step: factor?.lastStep ?? null }).where('id', '=', personId).execute();
    },
    async setSecondFactorStep(personId, step) {
      await trx.updateTable('people').set({ totp_last_step: step }).where('id', '=', personId).execute();
    },
    async replaceRecoveryCodes(personId, hashes) {
      await trx.deleteFrom('recovery_codes').where('person_id', '=', personId).execute();
      if (hashes.length > 0) await trx.insertInto('recovery_codes').values(hashes.map((hash) => ({ person_id: personId, code_hash: hash }))).execute();
    },
    async recoveryCodes(personId) {
      return (await trx.selectFrom('recovery_codes').select(['code_hash', 'key_zone']).where('person_id', '=', personId).execute())
        .map((r) => ({ hash: r.code_hash, keyZone: r.key_zone }));
    },
    async useRecoveryCode(personId, hash) {
      await trx.deleteFrom('recovery_codes').where('person_id', '=', personId).where('code_hash', '=', hash).execute();
    },
    async setSealedFields(personId, sealed) {
      if (Object.keys(sealed).length > 0) await trx.updateTable('people').set(sealed).where('id', '=', personId).execute();
    },
    async withdrawGrant(personId, appId, now) {
      const removed = await trx.deleteFrom('grants').where('person_id', '=', personId).where('app_id', '=', appId).executeTakeFirst();
      if (removed.numDeletedRows === 0n) return false;
      await trx.updateTable('access_tokens').set({ revoked_at: now }).where('person_id', '=', personId).where('app_id', '=', appId).where('revoked_at', 'is', null).execute();
      await trx.updateTable('refresh_tokens').set({ revoked_at: now }).where('person_id', '=', personId).where('app_id', '=', appId).where('revoked_at', 'is', null).execute();
      return true;
    },
    async lockGrant(personId, appId) {
      return (await trx.selectFrom('grants').select('fields').where('person_id', '=', personId).where('app_id', '=', appId).forUpdate().executeTakeFirst())?.fields;
    },
    async setGrantFields(personId, appId, fields) {
      await trx.updateTable('grants').set({ fields: [...fields] }).where('person_id', '=', personId).where('app_id', '=', appId).execute();
    },
    consentRecords(personId, limit) {
      return trx.selectFrom('consent_records')
        .select(['id', 'app_id', 'decided_at', 'decision', 'requested', 'mandatory', 'legal_basis', 'granted', 'ip_ct'])
        .where('person_id', '=', personId).orderBy('decided_at', 'desc').limit(limit).execute();
    },
    async liveSessions(personId, now) {
      const rows = await trx.selectFrom('sessions').select(['id_hash', 'created_at', 'last_seen_at', 'device_ct', 'network_ct'])
        .where('person_id', '=', personId).where('expires_at', '>', now).orderBy('last_seen_at', 'desc').execute();
      return rows.map((r) => ({ idHash: r.id_hash, createdAt: r.created_at, lastSeenAt: r.last_seen_at, sealedDevice: r.device_ct, sealedNetwork: r.network_ct }));
    },
    async endSessionsWhere(personId, which) {
      const query = trx.deleteFrom('sessions').where('person_id', '=', personId);
      const deleted = await ('idHash' in which ? query.where('id_hash', '=', which.idHash) : query.where('id_hash', '<>', which.allBut)).executeTakeFirst();
      return Number(deleted.numDeletedRows);
    },
    audit: (actor, events) => recordAudit(trx, actor, events),
  };
}

export class PeopleRepo implements PersonStore {
  constructor(private readonly db: Kysely<ZoneDatabase>) {}

  transaction<T>(work: (writes: PersonWrites) => Promise<T>): Promise<T> {
    return transactionRefusingDuplicates(this.db, personWrites, work, (cause) => new AlreadyTaken('an email or nickname index is held by another person', { cause }));
  }

  async credentialsByIndex(column: 'email_index' | 'nickname_index', index: Uint8Array) {
    const row = await this.db.selectFrom('people').select(['id', 'password_hash']).where(column, '=', index).executeTakeFirst();
    return row && { personId: row.id, passwordHash: row.password_hash };
  }

  wrappedDataKey(personId: string) {
    return wrappedDataKeyOf(this.db, personId);
  }

  async passwordHash(personId: string) {
    return (await this.db.selectFrom('people').select('password_hash').where('id', '=', personId).executeTakeFirst())?.password_hash;
  }

  async accountState(personId: string) {
    const row = await this.db.selectFrom('people').select(['email_verified_at', 'totp_secret_ct']).where('id', '=', personId).executeTakeFirst();
    return row && { emailVerified: row.email_verified_at !== null, secondFactor: row.totp_secret_ct !== null };
  }

  async hasImage(personId: string) {
    const row = await this.db.selectFrom('people').select((eb) => eb('image_ct', 'is not', null).as('has')).where('id', '=', personId).executeTakeFirst();
    return row?.has === true;
  }

  async grants(personId: string) {
    const rows = await this.db.selectFrom('grants').select(['app_id', 'fields', 'granted_at']).where('person_id', '=', personId).orderBy('granted_at', 'desc').execute();
    return rows.map((r) => ({ appId: r.app_id, fields: r.fields, grantedAt: r.granted_at }));
  }

  async accountFacts(personId: string) {
    const row = await this.db.selectFrom('people').select(['created_at', 'email_verified_at', 'password_changed_at', 'totp_secret_ct']).where('id', '=', personId).executeTakeFirst();
    return row && { createdAt: row.created_at, emailVerifiedAt: row.email_verified_at, passwordChangedAt: row.password_changed_at, secondFactor: row.totp_secret_ct !== null };
  }

  async appUsers(personId: string) {
    const rows = await this.db.selectFrom('app_users').select(['app_id', 'user_id', 'created_at']).where('person_id', '=', personId).execute();
    return rows.map((r) => ({ appId: r.app_id, userId: r.user_id, createdAt: r.created_at }));
  }

  async erase(personId: string, actor: Actor, events: readonly AuditEvent[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // Each table the registry says to delete, explicitly rather than through the foreign keys' cascade.
      const anyTable = trx as unknown as Transaction<Record<ZoneTable, Record<string, unknown>>>;
      for (const treatment of ['shred-first', 'delete', 'delete-last'] as const) {
        for (const table of zoneTablesWhere((entry) => entry.erase === treatment)) {
          await anyTable.deleteFrom(table).where(PERSON_DATA[table].person!, '=', personId).execute();
        }
      }
      await recordAudit(trx, actor, events);
    });
  }

  async recoveryCodeCount(personId: string) {
    const row = await this.db.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<string>().as('n')).where('person_id', '=', personId).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async usesApp(personId: string, appId: string) {
    const row = await this.db.selectFrom('app_users').select('user_id').where('person_id', '=', personId).where('app_id', '=', appId).executeTakeFirst();
    return row !== undefined;
  }

  async rememberDevice(personId: string, deviceHash: Uint8Array) {
    const inserted = await this.db.insertInto('known_devices').values({ person_id: personId, device_hash: deviceHash })
      .onConflict((oc) => oc.columns(['person_id', 'device_hash']).doNothing()).returning('person_id').executeTakeFirst();
    return inserted !== undefined;
  }

  async knownDevices(personId: string, atMost: number) {
    return (await this.db.selectFrom('known_devices').select('device_hash').where('person_id', '=', personId).limit(atMost).execute()).length;
  }
}

export class ChallengesRepo implements ChallengeStore {
  constructor(private readonly db: Kysely<ZoneDatabase>) {}

  async find(tokenHash: Uint8Array, purpose: ChallengeRecord['purpose'], now: Date) {
    const row = await this.db.selectFrom('challenges').selectAll()
      .where('token_hash', '=', tokenHash).where('purpose', '=', purpose).where('expires_at', '>', now).executeTakeFirst();
    return row && {
      tokenHash: row.token_hash, personId: row.person_id, purpose: row.purpose, codeHash: row.code_hash, detail: row.detail_ct,
      expiresAt: row.expires_at, attempts: row.attempts,
    };
  }

  async use(tokenHash: Uint8Array) {
    const deleted = await this.db.deleteFrom('challenges').where('token_hash', '=', tokenHash).executeTakeFirst();
    return deleted.numDeletedRows === 1n;
  }

  async countFailure(tokenHash: Uint8Array, limit: number) {
    const updated = await this.db.updateTable('challenges').set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('token_hash', '=', tokenHash).returning('attempts').executeTakeFirst();
    if (updated && updated.attempts >= limit) await this.db.deleteFrom('challenges').where('token_hash', '=', tokenHash).execute();
  }
}
