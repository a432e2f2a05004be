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
    ),
    audit as (
      insert into audit_events (person_id, action, field, actor_kind, actor_id, app_id, purpose, request_id)
      select a.person_id, 'field.read', f, 'app', ${read.appId}, ${read.appId}::uuid, ${read.purpose}, ${read.requestId}
      from access a cross join unnest(a.readable) as f
      where exists (select 1 from person)
    )
    select a.person_id, a.user_id, a.readable, a.requested, p.master_key_id, p.wrapped_key,
           p.firstname_ct, p.surname_ct, p.email_ct, p.image_ct, p.country_ct, p.language_ct
    from access a join person p on p.id = a.person_id`.execute(db);
  return rows[0];
}
