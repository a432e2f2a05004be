import { createHash } from 'node:crypto';
import { decryptFieldText, encryptField } from '../../crypto/field-cipher.js';
import { sessionField, type SessionSealedColumn } from '../sessions/session-service.js';
import { consentDecisionOf } from '../consent/consent-proofs.js';
import type { ConsentDecision } from '../consent/consent-store.js';
import type { AppDirectory } from '../apps/app-directory.js';
import type { AppOwners } from '../apps/app-owners.js';
import type { Actor, RequestActor } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { FIELD_CODES, isFieldCode, type FieldCode } from '../consent/fields.js';
import type { PersonRef, ZoneRegistry } from '../zones/zone-registry.js';
import type { PersonProfiles, Profile } from './person-profiles.js';
import { PERSON_FIELD_COLUMNS } from './person-store.js';
import { openDataKey, requireDataKey } from './data-key.js';
import { exportSections, sealedAt, type ExportSection, type PersonSealedColumn } from '../residency/person-data.js';

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
  private readonly profiles: PersonProfiles;
  private readonly apps: AppDirectory;
  private readonly owners: AppOwners;
  private readonly clock: Clock;

  constructor(options: { zones: ZoneRegistry; profiles: PersonProfiles; apps: AppDirectory; owners: AppOwners; clock: Clock }) {
    ({ zones: this.zones, profiles: this.profiles, apps: this.apps, owners: this.owners, clock: this.clock } = options);
  }

  profile(person: PersonRef, requestId: string): Promise<Profile | null> {
    return this.profiles.readFieldsOf(person, FIELD_CODES.filter((f) => f !== 'image'), { kind: 'person', id: person.id, requestId }, 'account centre');
  }

  async hasImage(person: PersonRef): Promise<boolean> {
    return this.zones.get(person.zone).people.hasImage(person.id);
  }

  async updateProfile(person: PersonRef, values: Partial<Record<EditableField, string>>, actor: RequestActor): Promise<void> {
    const zone = this.zones.get(person.zone);
    const changed = (Object.keys(values) as EditableField[]).filter((f) => values[f] !== undefined);
    if (changed.length === 0) return;
    await zone.people.transaction(async (writes) => {
      const dataKey = await requireDataKey(writes, zone, person.id);
      const sealed: Partial<Record<(typeof PERSON_FIELD_COLUMNS)[EditableField], Buffer>> = {};
      for (const field of changed) {
        const column = PERSON_FIELD_COLUMNS[field];
        sealed[column] = encryptField(dataKey, personField(person.id, column), values[field]!);
      }
      await writes.setSealedFields(person.id, sealed);
      await writes.audit({ ...actor, kind: 'person', id: person.id }, changed.map((field) => ({ action: 'person.field_changed', personId: person.id, field })));
    });
  }

  async connectedApps(person: PersonRef): Promise<ConnectedApp[]> {
    const grants = await this.zones.get(person.zone).people.grants(person.id);
    const apps = await Promise.all(grants.map(async (grant) => ({ grant, app: await this.apps.findApp(grant.appId) })));
    return apps.map(({ grant, app }) => ({
      appId: grant.appId,
      name: app?.name ?? 'A deleted app',
      fields: grant.fields.filter(isFieldCode),
      grantedAt: grant.grantedAt,
    }));
  }

  /**
   * Withdraws an app's access at once: the grant goes, and every access and refresh
   * token it holds for the person is revoked. False when the person never granted it.
   */
  async revokeApp(person: PersonRef, appId: string, actor: RequestActor): Promise<boolean> {
    const zone = this.zones.get(person.zone);
    const now = this.clock.now();
    return zone.people.transaction(async (writes) => {
      if (!(await writes.withdrawGrant(person.id, appId, now))) return false;
      await writes.audit({ ...actor, kind: 'person', id: person.id, appId }, [{ action: 'consent.revoked', personId: person.id }]);
      return true;
    });
  }

  /** Withdraws one field: the app's next read omits it. False when it was not granted. */
  async revokeField(person: PersonRef, appId: string, field: FieldCode, actor: RequestActor): Promise<boolean> {
    const zone = this.zones.get(person.zone);
    return zone.people.transaction(async (writes) => {
      const fields = await writes.lockGrant(person.id, appId);
      if (!fields || !fields.includes(field)) return false;
      await writes.setGrantFields(person.id, appId, fields.filter((f) => f !== field));
      await writes.audit({ ...actor, kind: 'person', id: person.id, appId }, [{ action: 'consent.field_revoked', personId: person.id, field }]);
      return true;
    });
  }

  /** Every consent decision with its proof, newest first; the sealed addresses are opened (a recorded read). */
  async consentHistory(person: PersonRef, reader: Actor): Promise<ConsentProof[]> {
    const zone = this.zones.get(person.zone);
    return zone.people.transaction(async (writes) => {
      const rows = await writes.consentRecords(person.id, 500);
      const dataKey = await openDataKey(writes, zone, person.id);
      if (rows.some((r) => r.ip_ct)) await writes.audit(reader, [{ action: 'field.read', personId: person.id, field: 'consent_address', purpose: 'consent history' }]);
      const names = new Map<string, string>();
      for (const appId of new Set(rows.map((r) => r.app_id))) names.set(appId, (await this.apps.findApp(appId))?.name ?? 'A deleted app');
      return rows.map((r) => ({ appId: r.app_id, appName: names.get(r.app_id)!, ...consentDecisionOf(r, dataKey) }));
    });
  }

  /** The records about the person, newest first (optionally those of one app). */
  async activity(person: PersonRef, options: { appId?: string; limit?: number } = {}): Promise<ActivityRecord[]> {
    const records = await this.zones.get(person.zone).activity.aboutPerson(person.id, { appId: options.appId, limit: options.limit ?? 500 });
    const names = new Map<string, string | null>();
    for (const appId of new Set(records.map((r) => r.appId).filter((id): id is string => id !== null))) {
      names.set(appId, (await this.apps.findApp(appId))?.name ?? null);
    }
    return records.map((r) => ({ ...r, appName: r.appId ? names.get(r.appId) ?? null : null }));
  }

  /**
   * The person's live sessions with the browser and network each started from (opened
   * from their seal: a recorded read by `reader`, the person or an export for them).
   */
  async sessions(person: PersonRef, currentToken: string | undefined, reader: Actor = { kind: 'person', id: person.id }): Promise<SessionSummary[]> {
    const current = sessionIdOf(currentToken);
    const zone = this.zones.get(person.zone);
    return zone.people.transaction(async (writes) => {
      const rows = await writes.liveSessions(person.id, this.clock.now());
      const sealed = rows.some((r) => r.sealedDevice || r.sealedNetwork);
      const dataKey = sealed ? await openDataKey(writes, zone, person.id) : null;
      if (sealed) await writes.audit(reader, [{ action: 'field.read', personId: person.id, field: 'session_origins', purpose: 'list of sessions' }]);
      const open = (idHash: Uint8Array, column: SessionSealedColumn, value: Uint8Array | null) =>
        dataKey && value ? decryptFieldText(dataKey, sessionField(idHash, column), value) : null;
      return rows.map((r) => {
        const id = Buffer.from(r.idHash).toString('hex');
        return {
          id, createdAt: r.createdAt, lastSeenAt: r.lastSeenAt, current: id === current,
          device: open(r.idHash, 'device_ct', r.sealedDevice), network: open(r.idHash, 'network_ct', r.sealedNetwork),
        };
      });
    });
  }

  /** Ends one of the person's sessions (never someone else's), or all but the current one. */
  async endSessions(person: PersonRef, which: { id: string } | { allBut: string | undefined }, actor: RequestActor): Promise<number> {
    const zone = this.zones.get(person.zone);
    if ('id' in which && !/^[0-9a-f]{64}$/.test(which.id)) return 0;
    return zone.people.transaction(async (writes) => {
      const ended = await writes.endSessionsWhere(person.id, 'id' in which
        ? { idHash: Buffer.from(which.id, 'hex') }
        : { allBut: Buffer.from(sessionIdOf(which.allBut) || '00', 'hex') });
      if (ended > 0) await writes.audit({ ...actor, kind: 'person', id: person.id }, [{ action: 'person.sessions_ended', personId: person.id, purpose: String(ended) }]);
      return ended;
    });
  }

  /**
   * Everything held about the person, decrypted, as one document (audited as an export).
   * `by` is who asked: the person themselves, or the operator answering their request.
   */
  async exportData(person: PersonRef, actor: RequestActor, by: Actor = { ...actor, kind: 'person', id: person.id }): Promise<Record<string, unknown>> {
    const zone = this.zones.get(person.zone);
    // One builder per section the person-data registry names; a table's rows reach the export only through its section.
    const sections: Record<ExportSection, () => Promise<unknown>> = {
      profile: async () => ({
        ...await this.profiles.readFieldsOf(person, FIELD_CODES.filter((f) => f !== 'image'), by, 'data export'),
        nickname: await this.profiles.nicknameOf(person),
      }),
      account: async () => {
        const account = await zone.people.accountFacts(person.id);
        return {
          createdAt: account?.createdAt, emailVerifiedAt: account?.emailVerifiedAt, passwordChangedAt: account?.passwordChangedAt,
          secondFactor: account?.secondFactor === true,
        };
      },
      apps: async () => (await zone.people.appUsers(person.id))
        .map((a) => ({ appId: a.appId, yourIdForThisApp: a.userId, since: a.createdAt })),
      grants: () => this.connectedApps(person),
      consents: () => this.consentHistory(person, by),
      sessions: async () => (await this.sessions(person, undefined, by))
        .map(({ createdAt, lastSeenAt, device, network }) => ({ createdAt, lastSeenAt, device, network })),
      audit: () => zone.activity.exportFor(person.id),
    };
    const names = exportSections();
    const built = await Promise.all(names.map((name) => sections[name]()));
    await zone.people.transaction((writes) => writes.audit(by, [{ action: 'person.exported', personId: person.id }]));
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
    await zone.people.erase(person.id, actor, [{ action: 'person.erased', personId: person.id }]);
    await this.owners.forgetOwner(person.id);
  }
}
