import { sql, type Kysely } from 'kysely';
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

/**
 * Loads what an access token may read and records one `field.read` audit event per
 * field, in a single statement: the read and its audit trail commit together or not at
 * all, in one round trip (the hottest path of the API). The token must be unrevoked and
 * unexpired, and only fields the person still grants are readable. Returns undefined when
 * the token, its grant or its person is gone; then nothing is recorded.
 *
 * The records go through `keygate_audit_append`, the one writer of the zone's hash chain
 * (see domain/audit/audit-log.ts): called from the select list, once for the single row
 * (a token has one person), after the read has found that person. The function takes the
 * chain lock and reads the last hash with a snapshot of its own, so this statement's
 * earlier snapshot does not matter; the lock is held until the statement commits.
 */
export async function readGrantedProfile(
  db: Kysely<ZoneDatabase>,
  read: { jti: string; appId: string; now: Date; purpose: string; requestId: string | null },
): Promise<GrantedProfileRow | undefined> {
  const { rows } = await sql<GrantedProfileRow>`
    with access as (
      select t.person_id, u.user_id,
             array(select f from unnest(t.scope) with ordinality as s(f, n) where f = any(g.fields) order by n) as readable,
             (select c.requested from consent_records c where c.connect_id = t.connect_id limit 1) as requested
      from access_tokens t
      join grants g on g.person_id = t.person_id and g.app_id = t.app_id
      join app_users u on u.person_id = t.person_id and u.app_id = t.app_id
      where t.jti = ${read.jti} and t.app_id = ${read.appId} and t.revoked_at is null and t.expires_at > ${read.now}
    ),
    person as (
      select p.id, p.firstname_ct, p.surname_ct, p.email_ct, p.image_ct, p.country_ct, p.language_ct, k.master_key_id, k.wrapped_key
      from people p join person_keys k on k.person_id = p.id
      where p.id = (select person_id from access)
    )
    select a.person_id, a.user_id, a.readable, a.requested, p.master_key_id, p.wrapped_key,
           p.firstname_ct, p.surname_ct, p.email_ct, p.image_ct, p.country_ct, p.language_ct,
           keygate_audit_append((
             select coalesce(jsonb_agg(jsonb_build_object(
               'person_id', a.person_id, 'action', 'field.read', 'field', r.f, 'actor_kind', 'app',
               'actor_id', ${read.appId}::text, 'app_id', ${read.appId}::text, 'purpose', ${read.purpose}::text,
               'request_id', ${read.requestId}::text) order by r.n), '[]'::jsonb)
             from unnest(a.readable) with ordinality as r(f, n)
           )) as audited
    from access a join person p on p.id = a.person_id`.execute(db);
  return rows[0];
}
