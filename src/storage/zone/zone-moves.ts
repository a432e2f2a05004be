import { sql, type Kysely, type Transaction } from 'kysely';
import type { AuditCopy } from '../../domain/audit/audit-log.js';
import { PERSON_DATA, tablesMovedBy } from '../../domain/residency/person-data.js';
import {
  ZoneMoveError, type MoveDestination, type MoveSource, type MovedRecord, type PersonSnapshot, type ZoneMoveStore,
} from '../../domain/zones/zone-move-store.js';
import type { ZoneName } from '../../domain/zones/zones.js';
import { recordAudit, recordAuditCopies } from '../audit-append.js';
import type { Bytes, ZoneDatabase } from '../schema.js';

/** Tables copied row for row (see the registry): pending challenges stay behind and go with the old row. */
const MOVED_TABLES = tablesMovedBy('copy');
type MovedTable = (typeof MOVED_TABLES)[number];

// The treatments written by hand here, each for the one table it knows: a second table
// given one of them in the registry no longer compiles here, so it cannot be missed.
const _reindexed: Array<'people'> = tablesMovedBy('reindex');
const _rewrapped: Array<'person_keys'> = tablesMovedBy('rewrap');
const _keyedHashes: Array<'recovery_codes'> = tablesMovedBy('copy-naming-key-zone');
const _chained: Array<'audit_events'> = tablesMovedBy('audit-chain');

/** The rows of one person, as read from the zone they leave. */
interface PersonRows {
  readonly person: Record<string, unknown> & { id: string };
  readonly related: Readonly<Record<MovedTable, ReadonlyArray<Record<string, unknown>>>>;
  readonly recoveryCodes: ReadonlyArray<{ code_hash: Bytes; key_zone: string | null }>;
}

const rowsOf = (snapshot: PersonSnapshot) => snapshot.rows as PersonRows;

interface AuditRow {
  readonly id: string;
  readonly hash: Bytes;
  readonly person_id: string | null;
  readonly action: string;
  readonly field: string | null;
  readonly actor_kind: MovedRecord['actorKind'];
  readonly actor_id: string | null;
  readonly app_id: string | null;
  readonly purpose: string | null;
  readonly request_id: string | null;
  readonly first_at: string;
}

function moveSource(trx: Transaction<ZoneDatabase>): MoveSource {
  return {
    async readPerson(personId) {
      const person = await trx.selectFrom('people').selectAll().where('id', '=', personId).forUpdate().executeTakeFirst();
      const key = await trx.selectFrom('person_keys').select(['master_key_id', 'wrapped_key']).where('person_id', '=', personId).executeTakeFirst();
      if (!person || !key) return null;
      const related = {} as Record<MovedTable, Array<Record<string, unknown>>>;
      for (const table of MOVED_TABLES) related[table] = await trx.selectFrom(table).selectAll().where('person_id', '=', personId).execute();
      const recoveryCodes = await trx.selectFrom('recovery_codes').select(['code_hash', 'key_zone']).where('person_id', '=', personId).execute();
      const { rows: audit } = await sql<AuditRow>`
        select id::text as id, hash, person_id::text as person_id, action, field, actor_kind, actor_id, app_id::text as app_id, purpose, request_id,
               to_char(coalesce(origin_at, occurred_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as first_at
        from audit_events
        where redacted_by is null and (person_id = ${personId}::uuid or (actor_kind = 'person' and actor_id = ${personId}))
        order by audit_events.id`.execute(trx);
      const indexedValues = Object.fromEntries(Object.values(PERSON_DATA.people.blindIndexes)
        .map((index) => [index.of, (person as Record<string, unknown>)[index.of] as Bytes | null]));
      return {
        personId,
        key: { masterKeyId: key.master_key_id, wrappedKey: key.wrapped_key },
        indexedValues,
        audit: audit.map((r) => ({
          id: r.id, hash: r.hash, personId: r.person_id, action: r.action, field: r.field, actorKind: r.actor_kind, actorId: r.actor_id,
          appId: r.app_id, purpose: r.purpose, requestId: r.request_id, firstAt: r.first_at,
        })),
        rows: { person: person as PersonRows['person'], related, recoveryCodes } satisfies PersonRows,
      };
    },

    // The record names no one: after it, nothing in this zone refers to the person.
    async leave(personId, moved, redacted) {
      await recordAudit(trx, moved.actor, moved.events);
      if (redacted.length > 0) {
        // The chain lock taken by the append above is held: the newest record is the move's.
        const { rows: [move] } = await sql<{ id: string }>`select id::text as id from audit_events order by audit_events.id desc limit 1`.execute(trx);
        await sql`select set_config('keygate.audit_redaction', 'on', true)`.execute(trx);
        await sql`
          update audit_events set person_id = null, action = 'redacted', field = null, actor_kind = 'system', actor_id = null, app_id = null,
            purpose = null, request_id = null, origin_store = null, origin_id = null, origin_at = null, redacted_by = ${move!.id}::bigint
          where id = any(${redacted.map((r) => r.id)}::bigint[])`.execute(trx);
        await sql`select set_config('keygate.audit_redaction', 'off', true)`.execute(trx);
      }
      // The foreign keys cascade to every other row about the person.
      await trx.deleteFrom('people').where('id', '=', personId).execute();
    },
  };
}

async function copyAudit(trx: Transaction<ZoneDatabase>, from: ZoneName, records: readonly MovedRecord[]): Promise<void> {
  const copies: AuditCopy[] = records.map((r) => ({ ...r, originStore: from, originId: r.id, originAt: r.firstAt }));
  // In slices, so that one statement's parameters stay small for a person with a long history.
  for (let i = 0; i < copies.length; i += 500) await recordAuditCopies(trx, copies.slice(i, i + 500));
}

function moveDestination(trx: Transaction<ZoneDatabase>): MoveDestination {
  return {
    async arrive(snapshot, arrival) {
      const rows = rowsOf(snapshot);
      await trx.insertInto('people').values({ ...(rows.person as any), ...arrival.indexes, country_ct: arrival.sealedCountry }).execute();
      await trx.insertInto('person_keys').values({ person_id: snapshot.personId, master_key_id: arrival.key.masterKeyId, wrapped_key: arrival.key.wrappedKey }).execute();
      for (const table of MOVED_TABLES) {
        if (rows.related[table].length > 0) await trx.insertInto(table).values(rows.related[table] as any).execute();
      }
      if (rows.recoveryCodes.length > 0) {
        await trx.insertInto('recovery_codes')
          .values(rows.recoveryCodes.map((r) => ({ person_id: snapshot.personId, code_hash: r.code_hash, key_zone: r.key_zone ?? arrival.from }))).execute();
      }
    },
    copyAudit: (from, records) => copyAudit(trx, from, records),
    async copiedFrom(from, personId) {
      const { rows } = await sql<{ origin_id: string }>`
        select origin_id::text as origin_id from audit_events where origin_store = ${from} and person_id = ${personId}::uuid`.execute(trx);
      return new Set(rows.map((r) => r.origin_id));
    },
    async verifyArrival(snapshot, from) {
      const rows = rowsOf(snapshot);
      for (const table of MOVED_TABLES) {
        const count = await trx.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).where('person_id', '=', snapshot.personId).executeTakeFirstOrThrow();
        if (Number(count.n) !== rows.related[table].length) throw new ZoneMoveError(`the copy of ${table} is incomplete`);
      }
      const { rows: copies } = await sql<{ origin_id: string; person_id: string | null; action: string; field: string | null; actor_id: string | null; app_id: string | null; first_at: string }>`
        select origin_id::text as origin_id, person_id::text as person_id, action, field, actor_id, app_id::text as app_id,
               to_char(origin_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as first_at
        from audit_events where origin_store = ${from} and origin_id = any(${snapshot.audit.map((r) => r.id)}::bigint[])`.execute(trx);
      const byOrigin = new Map(copies.map((c) => [c.origin_id, c]));
      for (const original of snapshot.audit) {
        const copy = byOrigin.get(original.id);
        if (!copy || copy.person_id !== original.personId || copy.action !== original.action || copy.field !== original.field
          || copy.actor_id !== original.actorId || copy.app_id !== original.appId || copy.first_at !== original.firstAt) {
          throw new ZoneMoveError(`audit record #${original.id} was not copied faithfully`);
        }
      }
    },
    audit: (actor, events) => recordAudit(trx, actor, events),
  };
}

export class ZoneMovesRepo implements ZoneMoveStore {
  constructor(private readonly db: Kysely<ZoneDatabase>) {}

  asSource<T>(work: (source: MoveSource) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(moveSource(trx)));
  }

  asDestination<T>(work: (destination: MoveDestination) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(moveDestination(trx)));
  }

  async holds(personId: string): Promise<boolean> {
    return (await this.db.selectFrom('people').select('id').where('id', '=', personId).executeTakeFirst()) !== undefined;
  }
}
