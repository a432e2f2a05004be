import { sql, type Kysely, type Selectable, type Transaction, type Updateable } from 'kysely';
import type {
  AppAuditEntry, AppChanges, AppOwnerStore, AppRecord, AppStore, NewAppRecord, OwnerChanges, OwnerInvitationRecord,
} from '../../domain/apps/app-store.js';
import type { Actor, ControlAuditEvent } from '../../domain/audit/audit-log.js';
import type { PersonRef } from '../../domain/zones/zone-registry.js';
import { recordControlAudit } from '../audit-append.js';
import { PREPARED } from '../prepared-statements.js';
import type { AppsTable, ControlDatabase, OwnerInvitationsTable } from '../schema.js';

/** The NOTIFY channel on which every node hears the id of an app that changed. */
export const APP_CHANGES_CHANNEL = 'keygate_apps';

type RetiringJson = Array<{ key_id: string; secret_key: string; private_key_ct: string; private_key_master_key_id: string; retires_at: string }>;
type AppRow = Selectable<AppsTable> & { retiring: RetiringJson };

function appRecord(row: AppRow): AppRecord {
  return {
    id: row.id,
    name: row.name,
    secretKey: row.secret_key,
    privateKey: { masterKeyId: row.private_key_master_key_id, sealed: row.private_key_ct },
    origins: row.origins,
    returnUrls: row.return_urls,
    redirectUris: row.redirect_uris,
    postLogoutRedirectUris: row.post_logout_redirect_uris,
    backchannelLogoutUri: row.backchannel_logout_uri,
    clientJwks: row.client_jwks,
    publicClient: row.public_client,
    clientSecretHash: row.client_secret_hash,
    ipEntries: row.ip_entries,
    protections: { domain: row.domain_protection, returnUrl: row.return_url_protection, serverOnly: row.server_only, ip: row.ip_protection },
    private: row.private,
    permissions: row.permissions,
    legalBasis: row.legal_basis,
    legalBases: row.legal_bases,
    mandatoryApproved: row.mandatory_approved,
    createdAt: row.created_at,
    retiring: row.retiring.map((k) => ({
      keyId: k.key_id,
      secretKey: k.secret_key,
      privateKey: { masterKeyId: k.private_key_master_key_id, sealed: Buffer.from(k.private_key_ct, 'base64') },
      retiresAt: new Date(k.retires_at),
    })),
  };
}

function appChanges(trx: Transaction<ControlDatabase>, appId: string): AppChanges {
  const updated = async (values: Updateable<AppsTable>) =>
    (await trx.updateTable('apps').set(values).where('id', '=', appId).executeTakeFirst()).numUpdatedRows > 0n;
  return {
    rename: (name) => updated({ name }),
    async remove() {
      return (await trx.deleteFrom('apps').where('id', '=', appId).executeTakeFirst()).numDeletedRows > 0n;
    },
    setProtections: ({ protections, origins, returnUrls, ipEntries }) => updated({
      origins: [...origins],
      return_urls: [...returnUrls],
      ip_entries: [...ipEntries],
      domain_protection: protections.domain,
      return_url_protection: protections.returnUrl,
      server_only: protections.serverOnly,
      ip_protection: protections.ip,
    }),
    setPrivate: (isPrivate) => updated({ private: isPrivate }),
    setRedirectUris: (uris) => updated({ redirect_uris: [...uris] }),
    setClientJwks: (jwks) => updated({ client_jwks: jwks === null ? null : JSON.stringify(jwks) }),
    setLogout: ({ postLogoutRedirectUris, backchannelLogoutUri }) => updated({
      post_logout_redirect_uris: [...postLogoutRedirectUris], backchannel_logout_uri: backchannelLogoutUri,
    }),
    async setClientSecretHash(hash) {
      const result = await trx.updateTable('apps').set({ client_secret_hash: hash })
        .where('id', '=', appId).where('public_client', '=', false).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async lockMandatoryApproved() {
      const row = await trx.selectFrom('apps').select('mandatory_approved').where('id', '=', appId).forUpdate().executeTakeFirst();
      return row?.mandatory_approved;
    },
    async setPermissions(permissions, legalBases) {
      await updated({ permissions: [...permissions], legal_bases: JSON.stringify(legalBases) });
    },
    async approveMandatory(fields) {
      const result = await trx.updateTable('apps')
        .set({ mandatory_approved: sql`array(select distinct unnest(mandatory_approved || ${[...fields]}::text[]))` })
        .where('id', '=', appId).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async lockCurrentKey() {
      const row = await trx.selectFrom('apps').select(['secret_key', 'private_key_ct', 'private_key_master_key_id'])
        .where('id', '=', appId).forUpdate().executeTakeFirst();
      return row && { secretKey: row.secret_key, privateKey: { masterKeyId: row.private_key_master_key_id, sealed: row.private_key_ct } };
    },
    async keepRetiringKey(key) {
      await trx.insertInto('app_retiring_keys').values({
        key_id: key.keyId,
        app_id: appId,
        secret_key: key.secretKey,
        private_key_ct: key.privateKey.sealed,
        private_key_master_key_id: key.privateKey.masterKeyId,
        retires_at: key.retiresAt,
      }).onConflict((oc) => oc.column('key_id').doNothing()).execute();
    },
    async setCurrentKey(secretKey, privateKey) {
      await updated({ secret_key: secretKey, private_key_ct: privateKey.sealed, private_key_master_key_id: privateKey.masterKeyId });
    },
    async retireOldKeys() {
      return (await trx.deleteFrom('app_retiring_keys').where('app_id', '=', appId).returning('key_id').execute()).map((k) => k.key_id);
    },
    audit: (actor, events) => recordControlAudit(trx, actor, events),
  };
}

export class AppsRepo implements AppStore {
  constructor(private readonly db: Kysely<ControlDatabase>) {}

  async load(appId: string, now: Date): Promise<AppRecord | null> {
    const row = await this.db.selectFrom('apps').modifyFront(PREPARED).selectAll('apps')
      .select(sql<RetiringJson>`(
        select coalesce(json_agg(json_build_object(
          'key_id', k.key_id, 'secret_key', k.secret_key, 'private_key_ct', encode(k.private_key_ct, 'base64'),
          'private_key_master_key_id', k.private_key_master_key_id, 'retires_at', k.retires_at) order by k.retires_at desc), '[]'::json)
        from app_retiring_keys k where k.app_id = apps.id and k.retires_at > ${now})`.as('retiring'))
      .where('id', '=', appId).executeTakeFirst();
    return row ? appRecord(row as AppRow) : null;
  }

  async changeVersion(): Promise<string> {
    const row = await this.db.selectFrom('app_changes').select('version').executeTakeFirst();
    return String(row?.version ?? '');
  }

  async isOriginListedByAnyApp(origin: string): Promise<boolean> {
    const row = await this.db.selectFrom('apps').select('id')
      .where(sql<boolean>`origins @> array[${origin}]::text[]`).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async anyAppOpenToEveryOrigin(): Promise<boolean> {
    const row = await this.db.selectFrom('apps').select('id')
      .where('domain_protection', '=', false).where('server_only', '=', false).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async create(app: NewAppRecord, owner: PersonRef | null, actor: Actor, events: readonly ControlAuditEvent[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('apps').values({
        id: app.id,
        name: app.name,
        secret_key: app.secretKey,
        private_key_ct: app.privateKey.sealed,
        private_key_master_key_id: app.privateKey.masterKeyId,
        origins: [...app.origins],
        return_urls: [...app.returnUrls],
        redirect_uris: [...app.redirectUris],
        public_client: app.publicClient,
        client_secret_hash: app.clientSecretHash,
        permissions: [...app.permissions],
        legal_basis: app.legalBasis,
        domain_protection: app.domainProtection,
      }).execute();
      if (owner) await trx.insertInto('app_owners').values({ app_id: app.id, person_id: owner.id, zone: owner.zone }).execute();
      await recordControlAudit(trx, actor, events);
    });
  }

  /*
   * A change moves the counter that bounds how stale another node's cache can be when a
   * notice is lost, and sends the notice, which PostgreSQL delivers only if the change commits.
   */
  change<T>(appId: string, work: (changes: AppChanges) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      const result = await work(appChanges(trx, appId));
      await sql`update app_changes set version = version + 1`.execute(trx);
      await sql`select pg_notify(${APP_CHANGES_CHANNEL}, ${appId.toLowerCase()})`.execute(trx);
      return result;
    });
  }

  async audit(actor: Actor, events: readonly ControlAuditEvent[]): Promise<void> {
    // One statement: its own transaction.
    await recordControlAudit(this.db, actor, events);
  }

  async auditTrail(appId: string, limit: number): Promise<AppAuditEntry[]> {
    const rows = await this.db.selectFrom('audit_events').select(['occurred_at', 'action', 'detail', 'actor_kind'])
      .where('app_id', '=', appId).orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({ at: r.occurred_at, action: r.action, detail: r.detail, actorKind: r.actor_kind }));
  }
}

const invitation = (row: Selectable<OwnerInvitationsTable>): OwnerInvitationRecord => ({
  id: row.id, tokenHash: row.token_hash, appId: row.app_id, personId: row.person_id, invitedBy: row.invited_by, expiresAt: row.expires_at,
});

function ownerChanges(trx: Transaction<ControlDatabase>): OwnerChanges {
  return {
    async owns(appId, personId) {
      const row = await trx.selectFrom('app_owners').select('person_id').where('app_id', '=', appId).where('person_id', '=', personId).executeTakeFirst();
      return row !== undefined;
    },
    async replaceInvitation(record) {
      await trx.deleteFrom('owner_invitations').where('app_id', '=', record.appId).where('person_id', '=', record.personId).execute();
      await trx.insertInto('owner_invitations').values({
        id: record.id, token_hash: record.tokenHash, app_id: record.appId, person_id: record.personId, invited_by: record.invitedBy, expires_at: record.expiresAt,
      }).execute();
    },
    async lockInvitation(tokenHash, now) {
      const row = await trx.selectFrom('owner_invitations').selectAll()
        .where('token_hash', '=', tokenHash).where('expires_at', '>', now).forUpdate().executeTakeFirst();
      return row && invitation(row);
    },
    async deleteInvitation(id) {
      await trx.deleteFrom('owner_invitations').where('id', '=', id).execute();
    },
    async lockOwners(appId) {
      return (await trx.selectFrom('app_owners').select('person_id').where('app_id', '=', appId).forUpdate().execute()).map((o) => o.person_id);
    },
    async add(appId, owner) {
      const added = await trx.insertInto('app_owners').values({ app_id: appId, person_id: owner.id, zone: owner.zone })
        .onConflict((oc) => oc.columns(['app_id', 'person_id']).doNothing()).returning('person_id').execute();
      return added.length > 0;
    },
    async remove(appId, personId) {
      await trx.deleteFrom('app_owners').where('app_id', '=', appId).where('person_id', '=', personId).execute();
    },
    async dropInvitationsBy(appId, personId) {
      await trx.deleteFrom('owner_invitations').where('app_id', '=', appId).where('invited_by', '=', personId).execute();
    },
    async forgetPerson(personId) {
      await trx.deleteFrom('owner_invitations').where((eb) => eb.or([eb('person_id', '=', personId), eb('invited_by', '=', personId)])).execute();
      return (await trx.deleteFrom('app_owners').where('person_id', '=', personId).returning('app_id').execute()).map((r) => r.app_id);
    },
    audit: (actor, events) => recordControlAudit(trx, actor, events),
  };
}

export class AppOwnersRepo implements AppOwnerStore {
  constructor(private readonly db: Kysely<ControlDatabase>) {}

  async isOwner(appId: string, personId: string): Promise<boolean> {
    const row = await this.db.selectFrom('app_owners').select('person_id')
      .where('app_id', '=', appId).where('person_id', '=', personId).executeTakeFirst();
    return row !== undefined;
  }

  async appsOwnedBy(personId: string): Promise<Array<{ id: string; name: string; createdAt: Date }>> {
    const rows = await this.db.selectFrom('app_owners').innerJoin('apps', 'apps.id', 'app_owners.app_id')
      .select(['apps.id', 'apps.name', 'apps.created_at']).where('app_owners.person_id', '=', personId)
      .orderBy('apps.name').orderBy('apps.id').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
  }

  async ownersOf(appId: string): Promise<PersonRef[]> {
    const rows = await this.db.selectFrom('app_owners').select(['person_id', 'zone']).where('app_id', '=', appId).orderBy('added_at').execute();
    return rows.map((r) => ({ id: r.person_id, zone: r.zone as PersonRef['zone'] }));
  }

  change<T>(work: (changes: OwnerChanges) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(ownerChanges(trx)));
  }

  async liveInvitation(tokenHash: Uint8Array, now: Date): Promise<(OwnerInvitationRecord & { appName: string }) | undefined> {
    const row = await this.db.selectFrom('owner_invitations').innerJoin('apps', 'apps.id', 'owner_invitations.app_id')
      .innerJoin('app_owners', (join) => join.onRef('app_owners.app_id', '=', 'owner_invitations.app_id').onRef('app_owners.person_id', '=', 'owner_invitations.invited_by'))
      .selectAll('owner_invitations').select('apps.name as app_name')
      .where('owner_invitations.token_hash', '=', tokenHash).where('owner_invitations.expires_at', '>', now)
      .executeTakeFirst();
    return row && { ...invitation(row), appName: row.app_name };
  }

  async audit(actor: Actor, events: readonly ControlAuditEvent[]): Promise<void> {
    await recordControlAudit(this.db, actor, events);
  }
}
