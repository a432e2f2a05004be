import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import { decryptFieldText, encryptField } from '../../crypto/field-cipher.js';
import { sessionField, type SessionSealedColumn } from '../sessions/session-service.js';
import { consentDecisionOf, type ConsentDecision } from '../consent/consent-proofs.js';
import type { AppDirectory } from '../apps/app-directory.js';
import type { AppOwners } from '../apps/app-owners.js';
import { type Actor } from '../audit/audit-log.js';
import { recordAudit } from '../../storage/audit-append.js';
import type { Clock } from '../clock.js';
import { FIELD_CODES, isFieldCode, type FieldCode } from '../consent/fields.js';
import type { PersonRef, ZoneRegistry } from '../zones/zone-registry.js';
import type { PeopleService, Profile } from './people-service.js';
import { openDataKey, requireDataKey } from './people-repo.js';
import { PERSON_FIELD_COLUMNS } from './person-store.js';
import { exportSections, PERSON_DATA, sealedAt, zoneTablesWhere, type ExportSection, type PersonSealedColumn, type ZoneTable } from '../residency/person-data.js';

type RequestActor = Omit<Actor, 'kind' | 'id'>;

export interface ConnectedApp {
  readonly appId: string;
  readonly name: string;
  readonly fields: readonly FieldCode[];
  readonly grantedAt: Date;
}

export interface ActivityRecord {
  readonly at: Date;
  readonly action: string;
  readonly field: string | null;
  readonly appId: string | null;
  readonly appName: string | null;
  readonly actorKind: string;
  readonly purpose: string | null;
}

/** The proof of one decision, as the person sees it. */
export interface ConsentProof extends ConsentDecision {
  readonly appId: string;
  readonly appName: string;
}

export interface SessionSummary {
  /** The SHA-256 of the session id (what the store keeps), hex: names a session without revealing it. */
  readonly id: string;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  readonly current: boolean;
  /** "Firefox on Windows"; null when the browser did not say (or for sessions from before this was kept). */
  readonly device: string | null;
  /** The network it started from, e.g. "network 203.0.113.0/24". */
  readonly network: string | null;
}

/** Fields a person edits in the account centre; email and country have flows of their own. */
export type EditableField = 'firstname' | 'surname' | 'language';

const sessionIdOf = (token: string | undefined) => (token ? createHash('sha256').update(token, 'utf8').digest('hex') : '');
const personField = (personId: string, column: PersonSealedColumn) => sealedAt('people', column, personId);

/**
 * What a signed-in person sees and controls about themselves: their profile, the apps
 * they let in (revocable at once, whole or field by field), who read their data, their
 * sessions, a full export and erasure. Every read of a personal field here is recorded
 * as the person's own read.
 */
export class AccountCentre {
  private readonly zones: ZoneRegistry;
  private readonly people: PeopleService;
  private readonly apps: AppDirectory;
  private readonly owners: AppOwners;
  private readonly clock: Clock;

  constructor(options: { zones: ZoneRegistry; people: PeopleService; apps: AppDirectory; owners: AppOwners; clock: Clock }) {
    ({ zones: this.zones, people: this.people, apps: this.apps, owners: this.owners, clock: this.clock } = options);
  }

  profile(person: PersonRef, requestId: string): Promise<Profile | null> {
    return this.people.readFieldsOf(person, FIELD_CODES.filter((f) => f !== 'image'), { kind: 'person', id: person.id, requestId }, 'account centre');
  }

  async hasImage(person: PersonRef): Promise<boolean> {
    const row = await this.zones.get(person.zone).db.selectFrom('people').select((eb) => eb('image_ct', 'is not', null).as('has')).where('id', '=', person.id).executeTakeFirst();
    return row?.has === true;
  }

  async updateProfile(person: PersonRef, values: Partial<Record<EditableField, string>>, actor: RequestActor): Promise<void> {
    const zone = this.zones.get(person.zone);
    const changed = (Object.keys(values) as EditableField[]).filter((f) => values[f] !== undefined);
    if (changed.length === 0) return;
    await zone.db.transaction().execute(async (trx) => {
      const dataKey = await requireDataKey(trx, zone.ring, person.id);
      const update: Record<string, Buffer> = {};
      for (const field of changed) {
        const column = PERSON_FIELD_COLUMNS[field];
        update[column] = encryptField(dataKey, personField(person.id, column), values[field]!);
      }
      await trx.updateTable('people').set(update).where('id', '=', person.id).execute();
      await recordAudit(trx, { ...actor, kind: 'person', id: person.id }, changed.map((field) => ({ action: 'person.field_changed', personId: person.id, field })));
    });
  }

  async connectedApps(person: PersonRef): Promise<ConnectedApp[]> {
    const rows = await this.zones.get(person.zone).db.selectFrom('grants').select(['app_id', 'fields', 'granted_at'])
      .where('person_id', '=', person.id).orderBy('granted_at', 'desc').execute();
    const apps = await Promise.all(rows.map(async (row) => ({ row, app: await this.apps.findApp(row.app_id) })));
    return apps.map(({ row, app }) => ({
      appId: row.app_id,
      name: app?.name ?? 'A deleted app',
      fields: row.fields.filter(isFieldCode),
      grantedAt: row.granted_at,
    }));
  }

  /**
   * Withdraws an app's access at once: the grant goes, and every access and refresh
   * token it holds for the person is revoked. False when the person never granted it.
   */
  async revokeApp(person: PersonRef, appId: string, actor: RequestActor): Promise<boolean> {
    const zone = this.zones.get(person.zone);
    const now = this.clock.now();
    return zone.db.transaction().execute(async (trx) => {
      const removed = await trx.deleteFrom('grants').where('person_id', '=', person.id).where('app_id', '=', appId).executeTakeFirst();
      if (removed.numDeletedRows === 0n) return false;
      await trx.updateTable('access_tokens').set({ revoked_at: now }).where('person_id', '=', person.id).where('app_id', '=', appId).where('revoked_at', 'is', null).execute();
      await trx.updateTable('refresh_tokens').set({ revoked_at: now }).where('person_id', '=', person.id).where('app_id', '=', appId).where('revoked_at', 'is', null).execute();
      await recordAudit(trx, { ...actor, kind: 'person', id: person.id, appId }, [{ action: 'consent.revoked', personId: person.id }]);
      return true;
    });
  }

  /** Withdraws one field: the app's next read omits it. False when it was not granted. */
  async revokeField(person: PersonRef, appId: string, field: FieldCode, actor: RequestActor): Promise<boolean> {
    const zone = this.zones.get(person.zone);
    return zone.db.transaction().execute(async (trx) => {
      const grant = await trx.selectFrom('grants').select('fields').where('person_id', '=', person.id).where('app_id', '=', appId).forUpdate().executeTakeFirst();
      if (!grant || !grant.fields.includes(field)) return false;
      await trx.updateTable('grants').set({ fields: grant.fields.filter((f) => f !== field) })
        .where('person_id', '=', person.id).where('app_id', '=', appId).execute();
      await recordAudit(trx, { ...actor, kind: 'person', id: person.id, appId }, [{ action: 'consent.field_revoked', personId: person.id, field }]);
      return true;
    });
  }

  /** Every consent decision with its proof, newest first; the sealed addresses are opened (a recorded read). */
  async consentHistory(person: PersonRef, reader: Actor): Promise<ConsentProof[]> {
    const zone = this.zones.get(person.zone);
    return zone.db.transaction().execute(async (trx) => {
      const rows = await trx.selectFrom('consent_records').selectAll().where('person_id', '=', person.id).orderBy('decided_at', 'desc').limit(500).execute();
      const dataKey = await openDataKey(trx, zone.ring, person.id);
      if (rows.some((r) => r.ip_ct)) await recordAudit(trx, reader, [{ action: 'field.read', personId: person.id, field: 'consent_address', purpose: 'consent history' }]);
      const names = new Map<string, string>();
      for (const appId of new Set(rows.map((r) => r.app_id))) names.set(appId, (await this.apps.findApp(appId))?.name ?? 'A deleted app');
      return rows.map((r) => ({ appId: r.app_id, appName: names.get(r.app_id)!, ...consentDecisionOf(r, dataKey) }));
    });
  }

  /** The records about the person, newest first (optionally those of one app). */
  async activity(person: PersonRef, options: { appId?: string; limit?: number } = {}): Promise<ActivityRecord[]> {
    let query = this.zones.get(person.zone).db.selectFrom('audit_events')
      // A record copied when the person moved zones shows when it first happened.
      .select((eb) => [eb.fn.coalesce('origin_at', 'occurred_at').as('occurred_at'), 'action', 'field', 'app_id', 'actor_kind', 'purpose'])
      .where('person_id', '=', person.id);
    if (options.appId) query = query.where('app_id', '=', options.appId);
    const rows = await query.orderBy('id', 'desc').limit(options.limit ?? 500).execute();
    const names = new Map<string, string | null>();
    for (const appId of new Set(rows.map((r) => r.app_id).filter((id): id is string => id !== null))) {
      names.set(appId, (await this.apps.findApp(appId))?.name ?? null);
    }
    return rows.map((r) => ({
      at: r.occurred_at, action: r.action, field: r.field, appId: r.app_id, appName: r.app_id ? names.get(r.app_id) ?? null : null, actorKind: r.actor_kind, purpose: r.purpose,
    }));
  }

  /**
   * The person's live sessions with the browser and network each started from (opened
   * from their seal: a recorded read by `reader`, the person or an export for them).
   */
  async sessions(person: PersonRef, currentToken: string | undefined, reader: Actor = { kind: 'person', id: person.id }): Promise<SessionSummary[]> {
    const current = sessionIdOf(currentToken);
    const zone = this.zones.get(person.zone);
    return zone.db.transaction().execute(async (trx) => {
      const rows = await trx.selectFrom('sessions').select(['id_hash', 'created_at', 'last_seen_at', 'device_ct', 'network_ct'])
        .where('person_id', '=', person.id).where('expires_at', '>', this.clock.now()).orderBy('last_seen_at', 'desc').execute();
      const sealed = rows.some((r) => r.device_ct || r.network_ct);
      const dataKey = sealed ? await openDataKey(trx, zone.ring, person.id) : null;
      if (sealed) await recordAudit(trx, reader, [{ action: 'field.read', personId: person.id, field: 'session_origins', purpose: 'list of sessions' }]);
      const open = (idHash: Uint8Array, column: SessionSealedColumn, value: Uint8Array | null) =>
        dataKey && value ? decryptFieldText(dataKey, sessionField(idHash, column), value) : null;
      return rows.map((r) => {
        const id = Buffer.from(r.id_hash).toString('hex');
        return {
          id, createdAt: r.created_at, lastSeenAt: r.last_seen_at, current: id === current,
          device: open(r.id_hash, 'device_ct', r.device_ct), network: open(r.id_hash, 'network_ct', r.network_ct),
        };
      });
    });
  }

  /** Ends one of the person's sessions (never someone else's), or all but the current one. */
  async endSessions(person: PersonRef, which: { id: string } | { allBut: string | undefined }, actor: RequestActor): Promise<number> {
    const zone = this.zones.get(person.zone);
    return zone.db.transaction().execute(async (trx) => {
      let query = trx.deleteFrom('sessions').where('person_id', '=', person.id);
      if ('id' in which) {
        if (!/^[0-9a-f]{64}$/.test(which.id)) return 0;
        query = query.where('id_hash', '=', Buffer.from(which.id, 'hex'));
      } else {
        query = query.where('id_hash', '<>', Buffer.from(sessionIdOf(which.allBut) || '00', 'hex'));
      }
      const ended = Number((await query.executeTakeFirst()).numDeletedRows);
      if (ended > 0) await recordAudit(trx, { ...actor, kind: 'person', id: person.id }, [{ action: 'person.sessions_ended', personId: person.id, purpose: String(ended) }]);
      return ended;
    });
  }

  /**
   * Everything held about the person, decrypted, as one document (audited as an export).
   * `by` is who asked: the person themselves, or the operator answering their request.
   */
  async exportData(person: PersonRef, actor: RequestActor, by: Actor = { ...actor, kind: 'person', id: person.id }): Promise<Record<string, unknown>> {
    const db = this.zones.get(person.zone).db;
    // One builder per section the person-data registry names; a table's rows reach the export only through its section.
    const sections: Record<ExportSection, () => Promise<unknown>> = {
      profile: async () => ({
        ...await this.people.readFieldsOf(person, FIELD_CODES.filter((f) => f !== 'image'), by, 'data export'),
        nickname: await this.people.nicknameOf(person),
      }),
      account: async () => {
        const account = await db.selectFrom('people').select(['created_at', 'email_verified_at', 'password_changed_at', 'totp_secret_ct']).where('id', '=', person.id).executeTakeFirst();
        return {
          createdAt: account?.created_at, emailVerifiedAt: account?.email_verified_at, passwordChangedAt: account?.password_changed_at,
          secondFactor: account?.totp_secret_ct !== null && account?.totp_secret_ct !== undefined,
        };
      },
      apps: async () => (await db.selectFrom('app_users').select(['app_id', 'user_id', 'created_at']).where('person_id', '=', person.id).execute())
        .map((a) => ({ appId: a.app_id, yourIdForThisApp: a.user_id, since: a.created_at })),
      grants: () => this.connectedApps(person),
      consents: () => this.consentHistory(person, by),
      sessions: async () => (await this.sessions(person, undefined, by))
        .map(({ createdAt, lastSeenAt, device, network }) => ({ createdAt, lastSeenAt, device, network })),
      audit: () => db.selectFrom('audit_events')
        .select(['id', 'occurred_at', 'action', 'field', 'actor_kind', 'app_id', 'purpose', 'request_id', 'origin_store', 'origin_id', 'origin_at'])
        .where('person_id', '=', person.id).orderBy('id').execute(),
    };
    const names = exportSections();
    const built = await Promise.all(names.map((name) => sections[name]()));
    await db.transaction().execute((trx) => recordAudit(trx, by, [{ action: 'person.exported', personId: person.id }]));
    return {
      exportedAt: this.clock.now().toISOString(),
      zone: person.zone,
      ...Object.fromEntries(names.map((name, i) => [name, built[i]])),
    };
  }

  /**
   * Erases the person: their data key is destroyed first (so every ciphertext of theirs,
   * in this database and in any backup, is unreadable), then every row about them; their
   * apps lose access at once. Audit records stay (they hold ids, not data) and record the erasure.
   */
  async erase(person: PersonRef, actor: Actor): Promise<void> {
    const zone = this.zones.get(person.zone);
    await zone.db.transaction().execute(async (trx) => {
      // Each table the registry says to delete, explicitly rather than through the foreign keys' cascade.
      const anyTable = trx as unknown as Transaction<Record<ZoneTable, Record<string, unknown>>>;
      for (const treatment of ['shred-first', 'delete', 'delete-last'] as const) {
        for (const table of zoneTablesWhere((entry) => entry.erase === treatment)) {
          await anyTable.deleteFrom(table).where(PERSON_DATA[table].person!, '=', person.id).execute();
        }
      }
      await recordAudit(trx, actor, [{ action: 'person.erased', personId: person.id }]);
    });
    await this.owners.forgetOwner(person.id);
  }
}
