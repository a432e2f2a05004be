import { sql, type Kysely } from 'kysely';
import { PREPARED } from '../../storage/prepared-statements.js';
import type { Bytes, ZoneDatabase } from '../../storage/schema.js';

/** A token's person as `/me` needs them: ids, what may be read now, and the sealed fields. */
export interface GrantedProfileRow {
  person_id: string;
  user_id: string;
  /** Fields of the token still granted by the person, in canonical order. */
  readable: string[];
  requested: string[] | null;
  master_key_id: string;
  wrapped_key: Bytes;
  firstname_ct: Bytes;
  surname_ct: Bytes;
  email_ct: Bytes;
  image_ct: Bytes | null;
  country_ct: Bytes;
  language_ct: Bytes;
}

export interface GrantedProfileRead {
  readonly jti: string;
  readonly appId: string;
  readonly now: Date;
  readonly purpose: string;
  readonly requestId: string | null;
}

/**
 * Loads what access tokens may read and records one `field.read` audit event per field
 * read, in a single statement: the reads and their audit trail commit together or not at
 * all, in one round trip (the hottest path of the API). Each token must be unrevoked and
 * unexpired, and only fields its person still grants are readable. The answer has one
 * entry per read, in order: undefined where the token, its grant or its person is gone
 * (then nothing is recorded for it).
 *
 * The records go through `keygate_audit_append`, the one writer of the zone's hash chain
 * (see domain/audit/audit-log.ts), called once for the whole statement with every read's
 * records. The function takes the chain lock and reads the last hash with a snapshot of
 * its own, so this statement's earlier snapshot does not matter; the lock is held until
 * the statement commits.
 */
export async function readGrantedProfiles(db: Kysely<ZoneDatabase>, reads: readonly GrantedProfileRead[]): Promise<Array<GrantedProfileRow | undefined>> {
  if (reads.length === 0) return [];
  const { rows } = await sql<GrantedProfileRow & { n: number }>`${PREPARED}
    with request as (
      select * from unnest(
        ${reads.map((r) => r.jti)}::uuid[], ${reads.map((r) => r.appId)}::uuid[], ${reads.map((r) => r.now.toISOString())}::timestamptz[],
        ${reads.map((r) => r.purpose)}::text[], ${reads.map((r) => r.requestId)}::text[]
      ) with ordinality as r(jti, app_id, now, purpose, request_id, n)
    ),
    access as (
      select r.n, r.app_id, r.purpose, r.request_id, t.person_id, u.user_id,
             array(select f from unnest(t.scope) with ordinality as s(f, k) where f = any(g.fields) order by k) as readable,
             (select c.requested from consent_records c where c.connect_id = t.connect_id limit 1) as requested
      from request r
      join access_tokens t on t.jti = r.jti and t.app_id = r.app_id
      join grants g on g.person_id = t.person_id and g.app_id = t.app_id
      join app_users u on u.person_id = t.person_id and u.app_id = t.app_id
      where t.revoked_at is null and t.expires_at > r.now
    ),
    found as (
      select a.*, p.firstname_ct, p.surname_ct, p.email_ct, p.image_ct, p.country_ct, p.language_ct, k.master_key_id, k.wrapped_key
      from access a join people p on p.id = a.person_id join person_keys k on k.person_id = p.id
    ),
    audited as (
      select keygate_audit_append((
        select coalesce(jsonb_agg(jsonb_build_object(
          'person_id', f.person_id, 'action', 'field.read', 'field', x.f, 'actor_kind', 'app',
          'actor_id', f.app_id::text, 'app_id', f.app_id::text, 'purpose', f.purpose, 'request_id', f.request_id) order by f.n, x.k), '[]'::jsonb)
        from found f cross join unnest(f.readable) with ordinality as x(f, k)
      )) as appended
    )
    select f.n::int as n, f.person_id, f.user_id, f.readable, f.requested, f.master_key_id, f.wrapped_key,
           f.firstname_ct, f.surname_ct, f.email_ct, f.image_ct, f.country_ct, f.language_ct,
           (select appended from audited) as audited
    from found f`.execute(db);
  const byPosition = new Map(rows.map((row) => [Number(row.n), row]));
  return reads.map((_, i) => byPosition.get(i + 1));
}

/** The reads waiting for a store's next statement, and whether one is running. */
interface ReadQueue {
  readonly pending: Array<{ read: GrantedProfileRead; done: (row: GrantedProfileRow | undefined) => void; fail: (error: unknown) => void }>;
  running: boolean;
}

/** One statement at a time per store, at most this many reads in it. */
const MAX_BATCH = 64;

/**
 * Reads granted profiles as they are asked for, gathering those that arrive while a
 * store is busy into the next statement (group commit): under load, many `/me` calls
 * share one round trip and one turn of the zone's chain lock; alone, a call runs at once.
 */
export class GrantedProfileReader {
  readonly #queues = new Map<Kysely<ZoneDatabase>, ReadQueue>();

  read(db: Kysely<ZoneDatabase>, read: GrantedProfileRead): Promise<GrantedProfileRow | undefined> {
    let queue = this.#queues.get(db);
    if (!queue) {
      queue = { pending: [], running: false };
      this.#queues.set(db, queue);
    }
    const waiting = queue;
    return new Promise((done, fail) => {
      waiting.pending.push({ read, done, fail });
      if (!waiting.running) void this.#drain(db, waiting);
    });
  }

  async #drain(db: Kysely<ZoneDatabase>, queue: ReadQueue): Promise<void> {
    queue.running = true;
    try {
      while (queue.pending.length > 0) {
        const batch = queue.pending.splice(0, MAX_BATCH);
        try {
          const rows = await readGrantedProfiles(db, batch.map((b) => b.read));
          batch.forEach((b, i) => b.done(rows[i]));
        } catch (error) {
          batch.forEach((b) => b.fail(error));
        }
      }
    } finally {
      queue.running = false;
    }
  }
}
