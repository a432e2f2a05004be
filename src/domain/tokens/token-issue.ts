import { sql, type Kysely } from 'kysely';
import { PREPARED } from '../../storage/prepared-statements.js';
import type { Bytes, ZoneDatabase } from '../../storage/schema.js';

/** The new pair's ids and times, chosen by the caller (who signs the JWT and returns the refresh token). */
export interface NewPair {
  readonly jti: string;
  readonly familyId?: string;
  readonly accessExpiresAt: Date;
  readonly refreshTokenHash: Bytes;
  readonly refreshExpiresAt: Date;
  readonly now: Date;
  readonly requestId: string | null;
}

export interface IssuedRow {
  readonly person_id: string;
  readonly user_id: string;
  readonly scope: string[];
}

// The access and refresh tokens of `holder`, and its `token.issued` record through the
// one writer of the chain (which takes the chain lock until this statement commits).
const issuePair = (appId: string, pair: NewPair, familyColumn: ReturnType<typeof sql>) => sql`
    access as (
      insert into access_tokens (jti, code_hash, connect_id, family_id, person_id, app_id, scope, issued_at, expires_at)
      select ${pair.jti}::uuid, h.code_hash, h.connect_id, ${familyColumn}, h.person_id, ${appId}::uuid, h.scope, ${pair.now}, ${pair.accessExpiresAt}
      from holder h
      returning person_id
    ),
    refresh as (
      insert into refresh_tokens (token_hash, family_id, code_hash, connect_id, person_id, app_id, scope, issued_at, expires_at)
      select ${pair.refreshTokenHash}, ${familyColumn}, h.code_hash, h.connect_id, h.person_id, ${appId}::uuid, h.scope, ${pair.now}, ${pair.refreshExpiresAt}
      from holder h
      returning person_id
    )
    select h.person_id, h.user_id, h.scope,
           keygate_audit_append(jsonb_build_array(jsonb_build_object(
             'person_id', h.person_id, 'action', 'token.issued', 'actor_kind', 'app', 'actor_id', ${appId}::text,
             'app_id', ${appId}::text, 'request_id', ${pair.requestId}::text))) as audited
    from holder h
    where exists (select 1 from access) and exists (select 1 from refresh)`;

/**
 * Claims a one-time code and issues the pair for it in a single statement: the claim,
 * both tokens and the audit record commit together, in one round trip, holding the
 * zone's chain lock only for that statement. Returns undefined when the code cannot be
 * claimed (unknown, expired or used: the caller finds out which).
 */
export async function claimCodeAndIssue(
  db: Kysely<ZoneDatabase>, claim: { codeHash: Bytes; connectId: string; appId: string }, pair: NewPair & { familyId: string },
): Promise<IssuedRow | undefined> {
  // Nothing is claimed unless the pair can be issued: a failure here changes nothing.
  const { rows } = await sql<IssuedRow>`${PREPARED}
    with holder as (
      update auth_codes c set used_at = ${pair.now}
      from app_users u
      where c.code_hash = ${claim.codeHash} and c.connect_id = ${claim.connectId}::uuid and c.app_id = ${claim.appId}::uuid
        and c.used_at is null and c.expires_at > ${pair.now}
        and u.person_id = c.person_id and u.app_id = c.app_id
      returning c.person_id, c.scope, c.code_hash, c.connect_id, u.user_id
    ),
    ${issuePair(claim.appId, pair, sql`${pair.familyId}::uuid`)}`.execute(db);
  return rows[0];
}

/**
 * Uses up a live refresh token and issues the next pair of its family in a single
 * statement, never with a field the person has withdrawn since. Returns undefined, and
 * changes nothing, when the token is not live or its grant is gone: the caller finds out why.
 */
export async function useRefreshTokenAndIssue(
  db: Kysely<ZoneDatabase>, use: { tokenHash: Bytes; appId: string }, pair: NewPair,
): Promise<IssuedRow | undefined> {
  const { rows } = await sql<IssuedRow>`${PREPARED}
    with used as (
      update refresh_tokens r set used_at = ${pair.now}
      from grants g, app_users u
      where r.token_hash = ${use.tokenHash} and r.app_id = ${use.appId}::uuid
        and r.used_at is null and r.revoked_at is null and r.expires_at > ${pair.now}
        and g.person_id = r.person_id and g.app_id = r.app_id and u.person_id = r.person_id and u.app_id = r.app_id
      returning r.person_id, r.scope, r.code_hash, r.connect_id, r.family_id, g.fields, u.user_id
    ),
    holder as (
      select r.person_id, r.code_hash, r.connect_id, r.family_id, r.user_id,
             array(select f from unnest(r.scope) with ordinality as s(f, n) where f = any(r.fields) order by n) as scope
      from used r
    ),
    ${issuePair(use.appId, pair, sql`h.family_id`)}`.execute(db);
  return rows[0];
}
