import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { unwrapDataKey, wrapDataKey } from '../../crypto/key-ring.js';
import { decryptFieldText, encryptField } from '../../crypto/field-cipher.js';
import type { AuditActorKind, Bytes, ControlDatabase, ZoneDatabase } from '../../storage/schema.js';
import { type Actor, type AuditCopy } from '../audit/audit-log.js';
import { recordAudit, recordAuditCopies } from '../../storage/audit-append.js';
import { MOVED_OUT_ACTION, movedOutPurpose } from '../audit/chain.js';
import type { Clock } from '../clock.js';
import { NO_METRICS, type Metrics, type ZoneMoveOutcome } from '../metrics.js';
import type { PersonRef, Zone, ZoneRegistry } from './zone-registry.js';
import type { ZoneName } from './zones.js';
import { blindIndex } from '../../crypto/blind-index.js';
import { PERSON_DATA, sealedAt, tablesMovedBy } from '../residency/person-data.js';

type RequestActor = Omit<Actor, 'kind' | 'id'>;

/** The rows of one person, as read from the zone they leave. */
interface PersonRows {
  readonly person: Record<string, unknown> & { id: string };
  readonly key: { master_key_id: string; wrapped_key: Bytes };
  readonly related: Readonly<Record<MovedTable, ReadonlyArray<Record<string, unknown>>>>;
  readonly recoveryCodes: ReadonlyArray<{ code_hash: Bytes; key_zone: string | null }>;
  readonly audit: readonly SourceRecord[];
}

interface SourceRecord {
  readonly id: string;
  readonly hash: Bytes;
  readonly person_id: string | null;
  readonly action: string;
  readonly field: string | null;
  readonly actor_kind: AuditActorKind;
  readonly actor_id: string | null;
  readonly app_id: string | null;
  readonly purpose: string | null;
  readonly request_id: string | null;
  readonly first_at: string;
}

/** Tables copied row for row (see the registry): pending challenges stay behind and go with the old row. */
const MOVED_TABLES = tablesMovedBy('copy');
type MovedTable = (typeof MOVED_TABLES)[number];

// The treatments this module writes by hand, each for the one table it knows: a second
// table given one of them in the registry no longer compiles here, so it cannot be missed.
const _reindexed: Array<'people'> = tablesMovedBy('reindex');
const _rewrapped: Array<'person_keys'> = tablesMovedBy('rewrap');
const _keyedHashes: Array<'recovery_codes'> = tablesMovedBy('copy-naming-key-zone');
const _chained: Array<'audit_events'> = tablesMovedBy('audit-chain');

/** A move still open after this long is no longer running anywhere: it was interrupted. */
const SETTLED_AFTER_MS = 60_000;

export class ZoneMoveError extends Error {
  override name = 'ZoneMoveError';
}

export interface ZoneMoveFaults {
  /** Called when the new zone has everything and is about to commit (fault tests). */
  readonly beforeDestinationCommit?: () => Promise<void> | void;
  /** Called after the new zone committed and before the old one does (fault tests). */
  readonly afterDestinationCommit?: () => Promise<void> | void;
}

/**
 * Moving a person between zones when their country changes (DESIGN, "Data location").
 *
 * The new zone receives every row about the person in one transaction: the profile with
 * its blind indexes recomputed under the new zone's index key, the data key re-wrapped by
 * the new zone's master key (so every ciphertext moves as it is), grants, consents, codes,
 * tokens, sessions, devices and recovery codes, and a copy of every audit record about
 * them (chained as copies, naming the original's zone, id and time). Before it commits,
 * what arrived is compared with what was read. The old zone then, in one transaction
 * that was opened first and holds the person's row, records the move, redacts the
 * originals (their contents go; ids and hashes stay, so its chain still verifies) and
 * deletes every row. The new zone commits first: the journal in the control plane lets
 * `finishInterrupted` complete a move whose second commit never happened.
 */
export class ZoneMoves {
  // Moves run one at a time in a process: an embedded store is held whole by a
  // transaction, so two moves in opposite directions would wait on each other forever.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly zones: ZoneRegistry,
    private readonly control: Kysely<ControlDatabase>,
    private readonly clock: Clock,
    private readonly faults: ZoneMoveFaults = {},
    private readonly metrics: Metrics = NO_METRICS,
  ) {}

  #serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => {});
    return run;
  }

  /**
   * Sets the person's country. Within their zone only the field changes; otherwise the
   * person moves to the country's zone. Returns where the person is now.
   */
  async changeCountry(person: PersonRef, country: string, actor: RequestActor): Promise<PersonRef> {
    const to = this.zones.forCountry(country);
    if (to.name === person.zone) {
      await this.#setCountry(this.zones.get(person.zone), person.id, country, actor);
      return person;
    }
    return this.#serialised(async () => {
      await this.#finishInterruptedNow();
      return this.#move(person, to, country, actor);
    });
  }

  async #setCountry(zone: Zone, personId: string, country: string, actor: RequestActor): Promise<void> {
    await zone.db.transaction().execute(async (trx) => {
      const key = await trx.selectFrom('person_keys').select(['master_key_id', 'wrapped_key']).where('person_id', '=', personId).executeTakeFirst();
      if (!key) throw new ZoneMoveError('the person is not in this zone');
      const dataKey = unwrapDataKey(zone.ring, personId, { masterKeyId: key.master_key_id, wrappedKey: key.wrapped_key });
      await trx.updateTable('people').set({ country_ct: encryptField(dataKey, countryLocation(personId), country) }).where('id', '=', personId).execute();
      await recordAudit(trx, { ...actor, kind: 'person', id: personId }, [{ action: 'person.field_changed', personId, field: 'country' }]);
    });
  }

  async #move(person: PersonRef, to: Zone, country: string, actor: RequestActor): Promise<PersonRef> {
    const from = this.zones.get(person.zone);
    const moveId = randomUUID();
    await this.control.insertInto('zone_moves').values({
      id: moveId, person_id: person.id, from_zone: from.name, to_zone: to.name, started_at: this.clock.now(), finished_at: null, outcome: null,
    }).execute();
    try {
      await from.db.transaction().execute(async (source) => {
        const rows = await readPerson(source, person.id, { lock: true });
        if (!rows) throw new ZoneMoveError('the person is not in this zone');
        await to.db.transaction().execute(async (destination) => {
          await this.#arrive(destination, from, to, rows, country, actor);
          await this.faults.beforeDestinationCommit?.();
        });
        await this.faults.afterDestinationCommit?.();
        await leave(source, to, person.id, rows.audit, actor);
      });
    } catch (error) {
      // Nothing committed in the new zone unless the person is there now: then the move stands and is finished later.
      if (!(await personIn(to, person.id))) await this.#close(moveId, from.name, to.name, 'abandoned');
      throw error;
    }
    await this.#settleControlPlane(person.id, to);
    await this.#close(moveId, from.name, to.name, 'moved');
    return { id: person.id, zone: to.name };
  }

  /** Writes the person into the new zone and checks what arrived against what was read. */
  async #arrive(trx: Transaction<ZoneDatabase>, from: Zone, to: Zone, rows: PersonRows, country: string, actor: RequestActor): Promise<void> {
    const personId = rows.person.id;
    const dataKey = unwrapDataKey(from.ring, personId, { masterKeyId: rows.key.master_key_id, wrappedKey: rows.key.wrapped_key });
    await trx.insertInto('people').values({
      ...(rows.person as any),
      ...reindexed(to, dataKey, rows.person),
      country_ct: encryptField(dataKey, countryLocation(personId), country),
    }).execute();
    // The same data key, wrapped by the new zone's master key: ciphertexts move unchanged.
    const wrapped = wrapDataKey(to.ring, personId, dataKey);
    await trx.insertInto('person_keys').values({ person_id: personId, master_key_id: wrapped.masterKeyId, wrapped_key: wrapped.wrappedKey }).execute();
    for (const table of MOVED_TABLES) {
      if (rows.related[table].length > 0) await trx.insertInto(table).values(rows.related[table] as any).execute();
    }
    if (rows.recoveryCodes.length > 0) {
      await trx.insertInto('recovery_codes')
        .values(rows.recoveryCodes.map((r) => ({ person_id: personId, code_hash: r.code_hash, key_zone: r.key_zone ?? from.name }))).execute();
    }
    await copyAudit(trx, from, rows.audit);
    await recordAudit(trx, { ...actor, kind: 'person', id: personId }, [{ action: 'person.zone_moved_in', personId, purpose: `from ${from.name}; ${rows.audit.length} records copied` }]);
    await verifyArrival(trx, from, rows);
  }

  async #settleControlPlane(personId: string, to: Zone): Promise<void> {
    await this.control.updateTable('app_owners').set({ zone: to.name }).where('person_id', '=', personId).execute();
    // A sign-in half done (a second factor to give) goes on in the new zone.
    await this.control.updateTable('sign_in_flows').set({ zone: to.name }).where('person_id', '=', personId).execute();
  }

  /** Closes the journal entry of a move; `finished_later` is recorded as moved, by the clean-up. */
  async #close(moveId: string, from: ZoneName, to: ZoneName, outcome: ZoneMoveOutcome): Promise<void> {
    await this.control.updateTable('zone_moves')
      .set({ finished_at: this.clock.now(), outcome: outcome === 'abandoned' ? 'abandoned' : 'moved' }).where('id', '=', moveId).execute();
    this.metrics.zoneMove(from, to, outcome);
  }

  /**
   * Completes moves interrupted between their two commits (a crash, a lost connection):
   * the person is in the new zone, so the old zone's copy is redacted and deleted now.
   * A move that never committed in the new zone is closed as abandoned. Moves younger
   * than `olderThanMs` may still be running on another node and are left alone.
   */
  finishInterrupted(olderThanMs = SETTLED_AFTER_MS): Promise<number> {
    return this.#serialised(() => this.#finishInterruptedNow(olderThanMs));
  }

  async #finishInterruptedNow(olderThanMs = SETTLED_AFTER_MS): Promise<number> {
    const before = new Date(this.clock.now().getTime() - olderThanMs);
    const open = await this.control.selectFrom('zone_moves').selectAll().where('finished_at', 'is', null).where('started_at', '<', before).orderBy('started_at').execute();
    let finished = 0;
    for (const move of open) {
      const from = this.zones.get(move.from_zone as PersonRef['zone']);
      const to = this.zones.get(move.to_zone as PersonRef['zone']);
      if (!(await personIn(to, move.person_id))) {
        await this.#close(move.id, from.name, to.name, 'abandoned');
        continue;
      }
      await from.db.transaction().execute(async (source) => {
        const rows = await readPerson(source, move.person_id, { lock: true });
        if (!rows) return;
        // Records written in the old zone since the copy are copied before they are redacted.
        await to.db.transaction().execute(async (destination) => {
          const { rows: copied } = await sql<{ origin_id: string }>`
            select origin_id::text as origin_id from audit_events where origin_store = ${from.name} and person_id = ${move.person_id}::uuid`.execute(destination);
          const known = new Set(copied.map((c) => c.origin_id));
          await copyAudit(destination, from, rows.audit.filter((r) => !known.has(r.id)));
        });
        await leave(source, to, move.person_id, rows.audit, { requestId: null });
      });
      await this.#settleControlPlane(move.person_id, to);
      await this.#close(move.id, from.name, to.name, 'finished_later');
      finished++;
    }
    return finished;
  }
}

const countryLocation = (personId: string) => sealedAt('people', 'country_ct', personId);

/** The person's blind indexes recomputed under `to`'s index key, from the sealed values they index. */
function reindexed(to: Zone, dataKey: Buffer, person: Record<string, unknown> & { id: string }): Record<string, Buffer | null> {
  const indexes: Record<string, Buffer | null> = {};
  for (const [column, index] of Object.entries(PERSON_DATA.people.blindIndexes)) {
    const sealed = person[index.of] as Bytes | null;
    indexes[column] = sealed ? blindIndex(to.indexKey, index.purpose, decryptFieldText(dataKey, sealedAt('people', index.of, person.id), sealed)) : null;
  }
  return indexes;
}

async function personIn(zone: Zone, personId: string): Promise<boolean> {
  return (await zone.db.selectFrom('people').select('id').where('id', '=', personId).executeTakeFirst()) !== undefined;
}

/** Every row about the person in a zone (holding their row against changes when `lock`). */
async function readPerson(trx: Transaction<ZoneDatabase>, personId: string, options: { lock: boolean }): Promise<PersonRows | null> {
  let query = trx.selectFrom('people').selectAll().where('id', '=', personId);
  if (options.lock) query = query.forUpdate();
  const person = await query.executeTakeFirst();
  const key = await trx.selectFrom('person_keys').select(['master_key_id', 'wrapped_key']).where('person_id', '=', personId).executeTakeFirst();
  if (!person || !key) return null;
  const related = {} as Record<MovedTable, Array<Record<string, unknown>>>;
  for (const table of MOVED_TABLES) related[table] = await trx.selectFrom(table).selectAll().where('person_id', '=', personId).execute();
  const recoveryCodes = await trx.selectFrom('recovery_codes').select(['code_hash', 'key_zone']).where('person_id', '=', personId).execute();
  const { rows: audit } = await sql<SourceRecord>`
    select id::text as id, hash, person_id::text as person_id, action, field, actor_kind, actor_id, app_id::text as app_id, purpose, request_id,
           to_char(coalesce(origin_at, occurred_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as first_at
    from audit_events
    where redacted_by is null and (person_id = ${personId}::uuid or (actor_kind = 'person' and actor_id = ${personId}))
    order by audit_events.id`.execute(trx);
  return { person: person as PersonRows['person'], key, related, recoveryCodes, audit };
}

async function copyAudit(trx: Transaction<ZoneDatabase>, from: Zone, records: readonly SourceRecord[]): Promise<void> {
  const copies: AuditCopy[] = records.map((r) => ({
    personId: r.person_id, action: r.action, field: r.field, actorKind: r.actor_kind, actorId: r.actor_id, appId: r.app_id,
    purpose: r.purpose, requestId: r.request_id, originStore: from.name, originId: r.id, originAt: r.first_at,
  }));
  // In slices, so that one statement's parameters stay small for a person with a long history.
  for (let i = 0; i < copies.length; i += 500) await recordAuditCopies(trx, copies.slice(i, i + 500));
}

/** Compares what the new zone holds now with what was read from the old one; throws (so nothing commits) on any difference. */
async function verifyArrival(trx: Transaction<ZoneDatabase>, from: Zone, rows: PersonRows): Promise<void> {
  const personId = rows.person.id;
  for (const table of MOVED_TABLES) {
    const count = await trx.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).where('person_id', '=', personId).executeTakeFirstOrThrow();
    if (Number(count.n) !== rows.related[table].length) throw new ZoneMoveError(`the copy of ${table} is incomplete`);
  }
  const { rows: copies } = await sql<{ origin_id: string; person_id: string | null; action: string; field: string | null; actor_id: string | null; app_id: string | null; first_at: string }>`
    select origin_id::text as origin_id, person_id::text as person_id, action, field, actor_id, app_id::text as app_id,
           to_char(origin_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as first_at
    from audit_events where origin_store = ${from.name} and origin_id = any(${rows.audit.map((r) => r.id)}::bigint[])`.execute(trx);
  const byOrigin = new Map(copies.map((c) => [c.origin_id, c]));
  for (const original of rows.audit) {
    const copy = byOrigin.get(original.id);
    if (!copy || copy.person_id !== original.person_id || copy.action !== original.action || copy.field !== original.field
      || copy.actor_id !== original.actor_id || copy.app_id !== original.app_id || copy.first_at !== original.first_at) {
      throw new ZoneMoveError(`audit record #${original.id} was not copied faithfully`);
    }
  }
}

/**
 * The old zone's half: a record of the move that commits to the records it redacts, the
 * redaction, and the deletion of every row about the person (the foreign keys cascade).
 * The record names no one: after it, nothing in this zone refers to the person.
 */
async function leave(trx: Transaction<ZoneDatabase>, to: Zone, personId: string, audit: readonly SourceRecord[], actor: RequestActor): Promise<void> {
  await recordAudit(trx, { ...actor, kind: 'person', id: null }, [{ action: MOVED_OUT_ACTION, personId: null, purpose: movedOutPurpose(to.name, audit) }]);
  if (audit.length > 0) {
    // The chain lock taken by the append above is held: the newest record is ours.
    const { rows: [move] } = await sql<{ id: string }>`select id::text as id from audit_events order by audit_events.id desc limit 1`.execute(trx);
    await sql`select set_config('keygate.audit_redaction', 'on', true)`.execute(trx);
    await sql`
      update audit_events set person_id = null, action = 'redacted', field = null, actor_kind = 'system', actor_id = null, app_id = null,
        purpose = null, request_id = null, origin_store = null, origin_id = null, origin_at = null, redacted_by = ${move!.id}::bigint
      where id = any(${audit.map((r) => r.id)}::bigint[])`.execute(trx);
    await sql`select set_config('keygate.audit_redaction', 'off', true)`.execute(trx);
  }
  await trx.deleteFrom('people').where('id', '=', personId).execute();
}
