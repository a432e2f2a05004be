import { createHash, randomUUID, type KeyObject } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { generateAppKeyPair, privateKeyFromDer, publicKeyFromSecretKey } from '../../crypto/app-keys.js';
import type { KeyRing } from '../../crypto/key-ring.js';
import { PREPARED } from '../../storage/prepared-statements.js';
import type { AppsTable, ControlDatabase } from '../../storage/schema.js';
import { addSeconds, type Clock } from '../clock.js';
import { DEFAULT_PERMISSIONS, isFieldCode, type FieldCode } from '../consent/fields.js';
import type { PersonRef } from '../zones/zone-registry.js';
import { OPERATOR, SYSTEM, type Actor } from '../audit/audit-log.js';
import { recordControlAudit } from '../../storage/audit-append.js';
import {
  AppSettingsError, validateFieldPermissions, validateGraceDays, validateIpEntries, validateName, validateOrigins, validateReturnUrls,
} from './app-settings.js';

/** One RSA key pair of an app: the current one, or a replaced one still inside its grace period. */
export interface AppKey {
  /** Short stable id (a digest of the Secret Key): the JWT `kid`, and what a connect request remembers. */
  readonly id: string;
  readonly secretKey: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** When a replaced key stops working; null for the current key. */
  readonly retiresAt: Date | null;
}

export interface AppProtections {
  readonly domain: boolean;
  readonly returnUrl: boolean;
  readonly serverOnly: boolean;
  readonly ip: boolean;
}

/** An app as the protocol needs it: settings plus usable key objects. */
export interface App {
  readonly id: string;
  readonly name: string;
  readonly origins: readonly string[];
  readonly returnUrls: readonly string[];
  readonly ipEntries: readonly string[];
  readonly protections: AppProtections;
  readonly private: boolean;
  readonly permissions: readonly string[];
  readonly legalBasis: string;
  readonly legalBases: Readonly<Record<string, string>>;
  readonly mandatoryApproved: readonly string[];
  readonly createdAt: Date;
  /** The current key first, then replaced keys that have not retired yet. */
  readonly keys: readonly AppKey[];
  /** The current key pair (shorthands for `keys[0]`). */
  readonly secretKey: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface NewApp {
  readonly name: string;
  readonly origins: readonly string[];
  readonly returnUrls: readonly string[];
  readonly legalBasis?: string;
  /** The developer who creates the app from the dashboard; the CLI creates apps without one. */
  readonly owner?: PersonRef;
  /** Refuse an app without origins (the dashboard: domain protection starts on). */
  readonly requireOrigins?: boolean;
}

export interface ProtectionSettings {
  readonly protections: AppProtections;
  readonly origins: readonly string[];
  readonly returnUrls: readonly string[];
  readonly ipEntries: readonly string[];
}

/** Kept for callers that only need to know that the input was refused. */
export { AppSettingsError as AppValidationError } from './app-settings.js';

export const DEFAULT_LEGAL_BASIS = 'Needed to provide the service you are signing in to (performance of a contract, GDPR Art. 6(1)(b)).';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID.test(value);

export const appKeyId = (secretKey: string): string => createHash('sha256').update(secretKey).digest('base64url').slice(0, 22);

// Current keys are bound to their app's row, replaced ones to their own row.
const currentKeyLocation = (appId: string) => ({ table: 'apps', column: 'private_key_ct', rowId: appId });
const retiringKeyLocation = (keyId: string) => ({ table: 'app_retiring_keys', column: 'private_key_ct', rowId: keyId });

// Parsing a private key costs several times the RSA operation it serves, so parsed keys
// are kept per key pair (they outlive an app's cached settings: a changed setting does
// not make the key worth parsing again).
const MAX_CACHED_KEYS = 10_000;

// Every Ukey1 call needs its app; caching it saves a control-plane round trip per call.
// Bounded so that many apps cannot grow a node without limit (least recently used goes).
const MAX_CACHED_APPS = 5_000;
// How stale a cached app may be when a change notice from another node is lost: the
// change counter is read at most this often, and a moved counter empties the cache.
const CHANGE_CHECK_EVERY_MS = 1000;

type AppRow = Selectable<AppsTable> & {
  retiring: Array<{ key_id: string; secret_key: string; private_key_ct: string; private_key_master_key_id: string; retires_at: string }>;
};

/** The NOTIFY channel on which every node hears the id of an app that changed. */
export const APP_CHANGES_CHANNEL = 'keygate_apps';

export class AppsService {
  readonly #keys = new Map<string, { privateKey: KeyObject; publicKey: KeyObject }>();
  /** Apps by lower-case id, least recently used first. Unknown ids are not cached. */
  readonly #apps = new Map<string, App>();
  /**
   * Moves on every invalidation: a load that began before one must not cache what it
   * read, which may predate the change.
   */
  #generation = 0;
  #checkedChangesAt = Number.NEGATIVE_INFINITY;
  #seenChanges: string | undefined;
  #checkingChanges: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<ControlDatabase>,
    private readonly ring: KeyRing,
    private readonly rsaBits: number,
    private readonly clock: Clock,
  ) {}

  /**
   * Registers an app with a fresh RSA key pair; returns its App ID and Secret Key.
   *
   * Every method that changes an app records what changed in the control plane's audit
   * trail, in the same transaction (ids and codes only). `actor` says who acted; without
   * it the record names the owner creating the app, or the system.
   */
  async createApp(input: NewApp, actor?: Actor): Promise<{ appId: string; secretKey: string }> {
    const name = validateName(input.name);
    const origins = validateOrigins(input.origins);
    const returnUrls = validateReturnUrls(input.returnUrls);
    if (returnUrls.length === 0) throw new AppSettingsError('returnUrls', 'At least one return URL is required.', 'returnUrls.required');
    if (input.requireOrigins && origins.length === 0) throw new AppSettingsError('origins', 'At least one origin is required: domain protection starts on.', 'origins.required');
    const id = randomUUID();
    const { secretKey, privateKeyDer } = await generateAppKeyPair(this.rsaBits);
    const { keyId, sealed } = this.ring.seal(currentKeyLocation(id), privateKeyDer);
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('apps').values({
        id,
        name,
        secret_key: secretKey,
        private_key_ct: sealed,
        private_key_master_key_id: keyId,
        origins,
        return_urls: returnUrls,
        permissions: [...DEFAULT_PERMISSIONS],
        legal_basis: input.legalBasis?.trim() || DEFAULT_LEGAL_BASIS,
        // Secure by default: on whenever there is a list to check (an app registered
        // without origins, from the CLI, is a server-side app until origins are added).
        domain_protection: origins.length > 0,
      }).execute();
      if (input.owner) await trx.insertInto('app_owners').values({ app_id: id, person_id: input.owner.id, zone: input.owner.zone }).execute();
      await recordControlAudit(trx, actor ?? (input.owner ? { kind: 'person', id: input.owner.id } : SYSTEM), [
        { action: 'app.created', appId: id, detail: `key=${appKeyId(secretKey)}` },
      ]);
    });
    return { appId: id, secretKey };
  }

  /**
   * The app with this id and its live keys; malformed ids are simply unknown. Served from
   * this node's cache when it can be: every change made here drops the entry at once,
   * other nodes are told by a notice, and a lost notice is covered within a second.
   */
  async findApp(appId: string): Promise<App | null> {
    if (!isUuid(appId)) return null;
    const id = appId.toLowerCase();
    await this.#checkChanges();
    const cached = this.#apps.get(id);
    if (cached) {
      this.#apps.delete(id);
      this.#apps.set(id, cached);
      return this.#withLiveKeys(cached);
    }
    const generation = this.#generation;
    const app = await this.#loadApp(id);
    if (app && generation === this.#generation) {
      if (this.#apps.size >= MAX_CACHED_APPS) this.#apps.delete(this.#apps.keys().next().value!);
      this.#apps.set(id, app);
    }
    return app && this.#withLiveKeys(app);
  }

  /** Drops this app from the cache: another node changed it. */
  forgetApp(appId: string): void {
    this.#generation += 1;
    this.#apps.delete(appId.toLowerCase());
  }

  /** Empties the cache: changes may have been missed (a listening connection was lost). */
  forgetAllApps(): void {
    this.#generation += 1;
    this.#apps.clear();
  }

  async #loadApp(id: string): Promise<App | null> {
    const now = this.clock.now();
    const row = await this.db.selectFrom('apps').modifyFront(PREPARED).selectAll('apps')
      .select(sql<AppRow['retiring']>`(
        select coalesce(json_agg(json_build_object(
          'key_id', k.key_id, 'secret_key', k.secret_key, 'private_key_ct', encode(k.private_key_ct, 'base64'),
          'private_key_master_key_id', k.private_key_master_key_id, 'retires_at', k.retires_at) order by k.retires_at desc), '[]'::json)
        from app_retiring_keys k where k.app_id = apps.id and k.retires_at > ${now})`.as('retiring'))
      .where('id', '=', id).executeTakeFirst();
    return row ? this.#toApp(row as AppRow) : null;
  }

  /** A replaced key stops working when it retires, even while its app is cached. */
  #withLiveKeys(app: App): App {
    const now = this.clock.now().getTime();
    const live = app.keys.filter((k) => k.retiresAt === null || k.retiresAt.getTime() > now);
    return live.length === app.keys.length ? app : { ...app, keys: live };
  }

  /** Reads the change counter when the last reading is a second old; one reading at a time. */
  async #checkChanges(): Promise<void> {
    if (performance.now() - this.#checkedChangesAt < CHANGE_CHECK_EVERY_MS) return;
    this.#checkingChanges ??= (async () => {
      try {
        const row = await this.db.selectFrom('app_changes').select('version').executeTakeFirst();
        const version = String(row?.version ?? '');
        if (version !== this.#seenChanges) {
          this.forgetAllApps();
          this.#seenChanges = version;
        }
        this.#checkedChangesAt = performance.now();
      } finally {
        this.#checkingChanges = undefined;
      }
    })();
    await this.#checkingChanges;
  }

  /**
   * Part of every transaction that changes what `App` holds: tells the other nodes on
   * commit (a notice sent in a transaction is delivered only if it commits) and moves the
   * counter that bounds staleness when a notice is lost.
   */
  async #announceChange(trx: Kysely<ControlDatabase>, appId: string): Promise<void> {
    await sql`update app_changes set version = version + 1`.execute(trx);
    await sql`select pg_notify(${APP_CHANGES_CHANNEL}, ${appId.toLowerCase()})`.execute(trx);
  }

  /** Runs a transaction that changes an app, announcing the change and dropping it here once committed. */
  async #changeApp<T>(appId: string, work: (trx: Kysely<ControlDatabase>) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        const result = await work(trx);
        await this.#announceChange(trx, appId);
        return result;
      });
    } finally {
      // Also after a failure: whether it committed is not always known (a lost connection).
      this.forgetApp(appId);
    }
  }

  /** Whether any app lists this origin: enough to answer a CORS preflight, which names no app. */
  async isOriginListedByAnyApp(origin: string): Promise<boolean> {
    const row = await this.db.selectFrom('apps').select('id')
      .where(sql<boolean>`origins @> array[${origin}]::text[]`).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  /** Whether some app that browsers may call has domain protection off (a preflight may then be answered with `*`). */
  async anyAppOpenToEveryOrigin(): Promise<boolean> {
    const row = await this.db.selectFrom('apps').select('id')
      .where('domain_protection', '=', false).where('server_only', '=', false).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async rename(appId: string, name: string, actor: Actor = SYSTEM): Promise<void> {
    const validated = validateName(name);
    await this.#changeApp(appId, async (trx) => {
      const result = await trx.updateTable('apps').set({ name: validated }).where('id', '=', appId).executeTakeFirst();
      if (result.numUpdatedRows > 0n) await recordControlAudit(trx, actor, [{ action: 'app.renamed', appId }]);
    });
  }

  async deleteApp(appId: string, actor: Actor = SYSTEM): Promise<void> {
    await this.#changeApp(appId, async (trx) => {
      const result = await trx.deleteFrom('apps').where('id', '=', appId).executeTakeFirst();
      if (result.numDeletedRows > 0n) await recordControlAudit(trx, actor, [{ action: 'app.deleted', appId }]);
    });
  }

  /**
   * Saves the four protections and their lists together, validated as a whole: a
   * protection turned on needs a list to check against.
   */
  async updateProtections(appId: string, input: ProtectionSettings, actor: Actor = SYSTEM): Promise<void> {
    const origins = validateOrigins(input.origins);
    const returnUrls = validateReturnUrls(input.returnUrls);
    const ipEntries = validateIpEntries(input.ipEntries);
    if (returnUrls.length === 0) throw new AppSettingsError('returnUrls', 'At least one return URL is required: it is where people come back to.', 'returnUrls.requiredBack');
    if (input.protections.domain && origins.length === 0) throw new AppSettingsError('origins', 'Domain protection needs at least one origin.', 'origins.requiredForDomain');
    if (input.protections.ip && ipEntries.length === 0) throw new AppSettingsError('ipEntries', 'IP protection needs at least one address or subnet.', 'ipEntries.requiredForIp');
    const { domain, returnUrl, serverOnly, ip } = input.protections;
    const onOff = (on: boolean) => (on ? 'on' : 'off');
    // Which protections are on and how long each list is; never the entries (addresses).
    const detail = `domain=${onOff(domain)},return_url=${onOff(returnUrl)},server_only=${onOff(serverOnly)},ip=${onOff(ip)};`
      + `origins=${origins.length},return_urls=${returnUrls.length},ip_entries=${ipEntries.length}`;
    await this.#changeApp(appId, async (trx) => {
      const result = await trx.updateTable('apps').set({
        origins,
        return_urls: returnUrls,
        ip_entries: ipEntries,
        domain_protection: domain,
        return_url_protection: returnUrl,
        server_only: serverOnly,
        ip_protection: ip,
      }).where('id', '=', appId).executeTakeFirst();
      if (result.numUpdatedRows > 0n) await recordControlAudit(trx, actor, [{ action: 'app.protections_changed', appId, detail }]);
    });
  }

  async updateFields(
    appId: string, requested: readonly FieldCode[], mandatory: readonly FieldCode[], legalBases: Partial<Record<FieldCode, string>>, actor: Actor = SYSTEM,
  ): Promise<void> {
    await this.#changeApp(appId, async (trx) => {
      const row = await trx.selectFrom('apps').select('mandatory_approved').where('id', '=', appId).forUpdate().executeTakeFirstOrThrow();
      const { permissions, legalBases: bases } = validateFieldPermissions(requested, mandatory, legalBases, row.mandatory_approved);
      await trx.updateTable('apps').set({ permissions, legal_bases: JSON.stringify(bases) }).where('id', '=', appId).execute();
      await recordControlAudit(trx, actor, [{ action: 'app.fields_changed', appId, detail: permissions.join(',') }]);
    });
  }

  /** Operator: lets the app make these fields (e.g. `email`, `image`) mandatory. */
  async allowMandatory(appId: string, fields: readonly string[], actor: Actor = OPERATOR): Promise<boolean> {
    const codes = fields.filter(isFieldCode);
    if (codes.length !== fields.length || codes.length === 0) {
      const unknown = fields.filter((f) => !isFieldCode(f)).join(', ') || '(none given)';
      throw new AppSettingsError('permissions', `Unknown field: ${unknown}.`, 'permissions.unknown', { fields: unknown });
    }
    return this.#changeApp(appId, async (trx) => {
      const result = await trx.updateTable('apps')
        .set({ mandatory_approved: sql`array(select distinct unnest(mandatory_approved || ${codes}::text[]))` })
        .where('id', '=', appId).executeTakeFirst();
      if (result.numUpdatedRows !== 1n) return false;
      await recordControlAudit(trx, actor, [{ action: 'app.mandatory_allowed', appId, detail: codes.join(',') }]);
      return true;
    });
  }

  /**
   * Issues a new key pair. The replaced one keeps working for `graceDays` (0 = it stops
   * at once), so that a deployment can switch keys without downtime.
   */
  async rotateKey(appId: string, graceDays: number, actor: Actor = SYSTEM): Promise<{ secretKey: string }> {
    validateGraceDays(graceDays);
    const { secretKey, privateKeyDer } = await generateAppKeyPair(this.rsaBits);
    const { keyId: masterKeyId, sealed } = this.ring.seal(currentKeyLocation(appId), privateKeyDer);
    await this.#changeApp(appId, async (trx) => {
      const old = await trx.selectFrom('apps').select(['secret_key', 'private_key_ct', 'private_key_master_key_id'])
        .where('id', '=', appId).forUpdate().executeTakeFirstOrThrow();
      if (graceDays > 0) {
        const oldKeyId = appKeyId(old.secret_key);
        const der = this.ring.open(old.private_key_master_key_id, currentKeyLocation(appId), old.private_key_ct);
        const resealed = this.ring.seal(retiringKeyLocation(oldKeyId), der);
        await trx.insertInto('app_retiring_keys').values({
          key_id: oldKeyId,
          app_id: appId,
          secret_key: old.secret_key,
          private_key_ct: resealed.sealed,
          private_key_master_key_id: resealed.keyId,
          retires_at: addSeconds(this.clock.now(), graceDays * 24 * 60 * 60),
        }).onConflict((oc) => oc.column('key_id').doNothing()).execute();
      }
      await trx.updateTable('apps').set({ secret_key: secretKey, private_key_ct: sealed, private_key_master_key_id: masterKeyId })
        .where('id', '=', appId).execute();
      await recordControlAudit(trx, actor, [
        { action: 'app.key_rotated', appId, detail: `key=${appKeyId(secretKey)},previous=${appKeyId(old.secret_key)},grace_days=${graceDays}` },
      ]);
    });
    return { secretKey };
  }

  /** Ends every replaced key's grace period now (a leaked old key). */
  async retireOldKeys(appId: string, actor: Actor = SYSTEM): Promise<void> {
    await this.#changeApp(appId, async (trx) => {
      const retired = await trx.deleteFrom('app_retiring_keys').where('app_id', '=', appId).returning('key_id').execute();
      if (retired.length > 0) await recordControlAudit(trx, actor, [{ action: 'app.old_keys_retired', appId, detail: retired.map((k) => `key=${k.key_id}`).join(',') }]);
    });
  }

  async setPrivate(appId: string, isPrivate: boolean, actor: Actor = SYSTEM): Promise<void> {
    await this.#changeApp(appId, async (trx) => {
      const result = await trx.updateTable('apps').set({ private: isPrivate }).where('id', '=', appId).executeTakeFirst();
      if (result.numUpdatedRows > 0n) await recordControlAudit(trx, actor, [{ action: 'app.private_changed', appId, detail: isPrivate ? 'on' : 'off' }]);
    });
  }

  /**
   * Records that the API refused a call for one of the app's protections (the code
   * only: no address, nothing about the caller).
   */
  async recordRefusal(appId: string, code: string, requestId: string | null): Promise<void> {
    // One statement: its own transaction.
    await recordControlAudit(this.db, { kind: 'system', id: null, requestId }, [{ action: 'api.refused', appId, detail: code }]);
  }

  // ------------------------------------------------------------------ owners

  async isOwner(appId: string, personId: string): Promise<boolean> {
    if (!isUuid(appId)) return false;
    const row = await this.db.selectFrom('app_owners').select('person_id')
      .where('app_id', '=', appId.toLowerCase()).where('person_id', '=', personId).executeTakeFirst();
    return row !== undefined;
  }

  /** The apps a person owns, by name. */
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

  async addOwner(appId: string, owner: PersonRef, actor: Actor = SYSTEM): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const added = await trx.insertInto('app_owners').values({ app_id: appId, person_id: owner.id, zone: owner.zone })
        .onConflict((oc) => oc.columns(['app_id', 'person_id']).doNothing()).returning('person_id').execute();
      // Owners are opaque person ids, already held by the control plane.
      if (added.length > 0) await recordControlAudit(trx, actor, [{ action: 'app.owner_added', appId, detail: owner.id }]);
    });
  }

  /** Removes an owner; the last owner cannot leave (the app would be unmanageable). */
  async removeOwner(appId: string, personId: string, actor: Actor = SYSTEM): Promise<'removed' | 'last_owner' | 'not_an_owner'> {
    if (!isUuid(personId)) return 'not_an_owner';
    return this.db.transaction().execute(async (trx) => {
      const owners = await trx.selectFrom('app_owners').select('person_id').where('app_id', '=', appId).forUpdate().execute();
      if (!owners.some((o) => o.person_id === personId)) return 'not_an_owner';
      if (owners.length <= 1) return 'last_owner';
      await trx.deleteFrom('app_owners').where('app_id', '=', appId).where('person_id', '=', personId).execute();
      // What a removed owner asked for goes with them.
      await trx.deleteFrom('owner_invitations').where('app_id', '=', appId).where('invited_by', '=', personId).execute();
      await recordControlAudit(trx, actor, [{ action: 'app.owner_removed', appId, detail: personId }]);
      return 'removed';
    });
  }

  /** The app's own audit records in the control plane, newest first: what its owners see in the dashboard. */
  async auditTrail(appId: string, limit = 100): Promise<Array<{ at: Date; action: string; detail: string | null; actorKind: string }>> {
    const rows = await this.db.selectFrom('audit_events').select(['occurred_at', 'action', 'detail', 'actor_kind'])
      .where('app_id', '=', appId).orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({ at: r.occurred_at, action: r.action, detail: r.detail, actorKind: r.actor_kind }));
  }

  /** An erased person owns nothing any more, and is invited to own nothing. */
  async forgetOwner(personId: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('owner_invitations').where((eb) => eb.or([eb('person_id', '=', personId), eb('invited_by', '=', personId)])).execute();
      const removed = await trx.deleteFrom('app_owners').where('person_id', '=', personId).returning('app_id').execute();
      await recordControlAudit(trx, { kind: 'system', id: null }, removed.map((r) => ({ action: 'app.owner_removed', appId: r.app_id, detail: personId })));
    });
  }

  #parsedKeys(secretKey: string, open: () => Buffer) {
    let keys = this.#keys.get(secretKey);
    if (!keys) {
      keys = { privateKey: privateKeyFromDer(open()), publicKey: publicKeyFromSecretKey(secretKey) };
      if (this.#keys.size >= MAX_CACHED_KEYS) this.#keys.delete(this.#keys.keys().next().value!);
      this.#keys.set(secretKey, keys);
    }
    return keys;
  }

  #toApp(row: AppRow): App {
    const current: AppKey = {
      id: appKeyId(row.secret_key),
      secretKey: row.secret_key,
      retiresAt: null,
      ...this.#parsedKeys(row.secret_key, () => this.ring.open(row.private_key_master_key_id, currentKeyLocation(row.id), row.private_key_ct)),
    };
    const retiring: AppKey[] = row.retiring.map((k) => ({
      id: k.key_id,
      secretKey: k.secret_key,
      retiresAt: new Date(k.retires_at),
      ...this.#parsedKeys(k.secret_key, () => this.ring.open(k.private_key_master_key_id, retiringKeyLocation(k.key_id), Buffer.from(k.private_key_ct, 'base64'))),
    }));
    return {
      id: row.id,
      name: row.name,
      origins: row.origins,
      returnUrls: row.return_urls,
      ipEntries: row.ip_entries,
      protections: { domain: row.domain_protection, returnUrl: row.return_url_protection, serverOnly: row.server_only, ip: row.ip_protection },
      private: row.private,
      permissions: row.permissions,
      legalBasis: row.legal_basis,
      legalBases: row.legal_bases,
      mandatoryApproved: row.mandatory_approved,
      createdAt: row.created_at,
      keys: [current, ...retiring],
      secretKey: current.secretKey,
      privateKey: current.privateKey,
      publicKey: current.publicKey,
    };
  }
}

/** The same app as one caller sees it: what the gateway signs for that caller uses the key it holds. */
export function withSigningKey(app: App, key: AppKey): App {
  return key === app.keys[0] ? app : { ...app, secretKey: key.secretKey, privateKey: key.privateKey, publicKey: key.publicKey };
}

/** The legal basis shown for a mandatory field. */
export const legalBasisFor = (app: App, field: FieldCode): string => app.legalBases[field] ?? app.legalBasis;
