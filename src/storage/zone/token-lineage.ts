import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type {
  AccessRecord, GrantedProfileRead, GrantedProfileRow, IssuedPair, Lineage, LineageWrites, NewPair, TokenLineageStore,
} from '../../domain/tokens/lineage-store.js';
import { appendAuditRowsSql, recordAudit, zoneAuditRowSql } from '../audit-append.js';
import { PREPARED } from '../prepared-statements.js';
import type { ZoneDatabase } from '../schema.js';

interface IssuedRow {
  readonly person_id: string;
  readonly user_id: string;
  readonly scope: string[];
  readonly auth_time: Date | null;
  readonly amr: string[];
  readonly sid: string | null;
}

const issuedPair = (row: IssuedRow | undefined): IssuedPair | undefined =>
  row && { personId: row.person_id, userId: row.user_id, scope: row.scope, authentication: { authTime: row.auth_time, amr: row.amr, sid: row.sid } };

/*
 * Each exchange has two forms, side by side: one statement for the usual case (a code or
 * refresh token that can be used), and the Kysely steps of `LineageWrites` that tell the
 * other cases apart (replayed, reused, expired, moved) in a transaction.
 */

// The access and refresh tokens of `holder`, and its `token.issued` record through the
// one writer of the chain (which takes the chain lock until this statement commits).
const issuePair = (appId: string, pair: NewPair, familyColumn: RawBuilder<unknown>) => sql`
    access as (
      insert into access_tokens (jti, code_hash, connect_id, family_id, person_id, app_id, scope, issued_at, expires_at)
      select ${pair.jti}::uuid, h.code_hash, h.connect_id, ${familyColumn}, h.person_id, ${appId}::uuid, h.scope, ${pair.now}, ${pair.accessExpiresAt}
      from holder h
      returning person_id
    ),
    refresh as (
      insert into refresh_tokens (token_hash, family_id, code_hash, connect_id, person_id, app_id, scope, issued_at, expires_at, auth_time, amr, sid)
      select ${pair.refreshTokenHash}, ${familyColumn}, h.code_hash, h.connect_id, h.person_id, ${appId}::uuid, h.refresh_scope, ${pair.now}, ${pair.refreshExpiresAt}, h.auth_time, h.amr, h.sid
      from holder h
      returning person_id
    )
    select h.person_id, h.user_id, h.scope, h.auth_time, h.amr, h.sid,
           ${appendAuditRowsSql(sql`jsonb_build_array(${zoneAuditRowSql({
             personId: sql`h.person_id`, action: 'token.issued', field: null, actorKind: 'app', actorId: appId,
             appId, purpose: null, requestId: pair.requestId,
           })})`)} as audited
    from holder h
    where exists (select 1 from access) and exists (select 1 from refresh)`;

// The `field.read` record of each field a profile read returns, built from the statement's own rows.
const FIELD_READ = zoneAuditRowSql({
  personId: sql`f.person_id`, action: 'field.read', field: sql`x.f`, actorKind: 'app', actorId: sql`f.app_id`,
  appId: sql`f.app_id`, purpose: sql`f.purpose`, requestId: sql`f.request_id`,
});

function lineageWrites(trx: Transaction<ZoneDatabase>): LineageWrites {
  return {
    async claimCode(claim, now) {
      const claimed = await trx.updateTable('auth_codes')
        .set({ used_at: now })
        .where('code_hash', '=', claim.codeHash)
        .where('connect_id', '=', claim.connectId)
        .where('app_id', '=', claim.appId)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returning(['person_id', 'scope', 'auth_time', 'amr', 'sid'])
        .executeTakeFirst();
      return claimed && { personId: claimed.person_id, scope: claimed.scope, authentication: { authTime: claimed.auth_time, amr: claimed.amr, sid: claimed.sid } };
    },
    async usedCodePerson(codeHash, connectId) {
      const used = await trx.selectFrom('auth_codes').select('person_id')
        .where('code_hash', '=', codeHash).where('connect_id', '=', connectId).where('used_at', 'is not', null)
        .executeTakeFirst();
      return used?.person_id;
    },
    async lineageOfAccess(jti, appId) {
      const row = await trx.selectFrom('access_tokens').select(['code_hash', 'person_id']).where('jti', '=', jti).where('app_id', '=', appId).executeTakeFirst();
      return row && { codeHash: row.code_hash, personId: row.person_id };
    },
    async revokeLineage(codeHash, now) {
      await trx.updateTable('access_tokens').set({ revoked_at: now })
        .where('code_hash', '=', codeHash).where('revoked_at', 'is', null).execute();
      await trx.updateTable('refresh_tokens').set({ revoked_at: now })
        .where('code_hash', '=', codeHash).where('revoked_at', 'is', null).execute();
    },
    async lockRefreshToken(tokenHash, appId) {
      const row = await trx.selectFrom('refresh_tokens').selectAll()
        .where('token_hash', '=', tokenHash).where('app_id', '=', appId).forUpdate().executeTakeFirst();
      return row && {
        tokenHash: row.token_hash, familyId: row.family_id, codeHash: row.code_hash, connectId: row.connect_id, personId: row.person_id,
        scope: row.scope, expiresAt: row.expires_at, usedAt: row.used_at, revokedAt: row.revoked_at,
        authentication: { authTime: row.auth_time, amr: row.amr, sid: row.sid },
      };
    },
    async markRefreshTokenUsed(tokenHash, now) {
      await trx.updateTable('refresh_tokens').set({ used_at: now }).where('token_hash', '=', tokenHash).execute();
    },
    async grantedFields(personId, appId) {
      const grant = await trx.selectFrom('grants').select('fields')
        .where('person_id', '=', personId).where('app_id', '=', appId).executeTakeFirst();
      return grant?.fields;
    },
    async recordPair(appId: string, lineage: Lineage, pair: NewPair, actor) {
      const user = await trx.selectFrom('app_users').select('user_id')
        .where('person_id', '=', lineage.personId).where('app_id', '=', appId).executeTakeFirstOrThrow();
      const common = {
        code_hash: lineage.codeHash, connect_id: lineage.connectId, family_id: lineage.familyId, person_id: lineage.personId,
        app_id: appId, scope: [...lineage.scope], issued_at: pair.now, revoked_at: null,
      };
      await trx.insertInto('access_tokens').values({ ...common, jti: pair.jti, expires_at: pair.accessExpiresAt }).execute();
      await trx.insertInto('refresh_tokens').values({
        ...common, scope: [...(lineage.refreshScope ?? lineage.scope)], token_hash: pair.refreshTokenHash, expires_at: pair.refreshExpiresAt, used_at: null,
        auth_time: lineage.authentication.authTime, amr: [...lineage.authentication.amr], sid: lineage.authentication.sid,
      }).execute();
      await recordAudit(trx, actor, [{ action: 'token.issued', personId: lineage.personId }]);
      return user.user_id;
    },
    audit: (actor, events) => recordAudit(trx, actor, events),
  };
}

export class TokenLineageRepo implements TokenLineageStore {
  constructor(private readonly db: Kysely<ZoneDatabase>) {}

  async claimCodeAndIssue(claim: { codeHash: Uint8Array; connectId: string; appId: string }, pair: NewPair & { familyId: string }): Promise<IssuedPair | undefined> {
    // Nothing is claimed unless the pair can be issued: a failure here changes nothing.
    const { rows } = await sql<IssuedRow>`${PREPARED}
      with holder as (
        update auth_codes c set used_at = ${pair.now}
        from app_users u
        where c.code_hash = ${claim.codeHash} and c.connect_id = ${claim.connectId}::uuid and c.app_id = ${claim.appId}::uuid
          and c.used_at is null and c.expires_at > ${pair.now}
          and u.person_id = c.person_id and u.app_id = c.app_id
        returning c.person_id, c.scope, c.scope as refresh_scope, c.code_hash, c.connect_id, c.auth_time, c.amr, c.sid, u.user_id
      ),
      ${issuePair(claim.appId, pair, sql`${pair.familyId}::uuid`)}`.execute(this.db);
    return issuedPair(rows[0]);
  }

  async useRefreshTokenAndIssue(use: { tokenHash: Uint8Array; appId: string; narrowTo?: readonly string[] }, pair: NewPair): Promise<IssuedPair | undefined> {
    const narrowTo = use.narrowTo ? [...use.narrowTo] : null;
    const { rows } = await sql<IssuedRow>`${PREPARED}
      with used as (
        update refresh_tokens r set used_at = ${pair.now}
        from grants g, app_users u
        where r.token_hash = ${use.tokenHash} and r.app_id = ${use.appId}::uuid
          and r.used_at is null and r.revoked_at is null and r.expires_at > ${pair.now}
          and g.person_id = r.person_id and g.app_id = r.app_id and u.person_id = r.person_id and u.app_id = r.app_id
        returning r.person_id, r.scope, r.code_hash, r.connect_id, r.family_id, r.auth_time, r.amr, r.sid, g.fields, u.user_id
      ),
      holder as (
        select r.person_id, r.code_hash, r.connect_id, r.family_id, r.user_id, r.auth_time, r.amr, r.sid,
               array(select f from unnest(r.scope) with ordinality as s(f, n)
                     where f = any(r.fields) and (${narrowTo}::text[] is null or f = any(${narrowTo}::text[])) order by n) as scope,
               -- The next refresh token keeps what the family may ask for; only the access token narrows.
               array(select f from unnest(r.scope) with ordinality as s(f, n) where f = any(r.fields) order by n) as refresh_scope
        from used r
      ),
      ${issuePair(use.appId, pair, sql`h.family_id`)}`.execute(this.db);
    return issuedPair(rows[0]);
  }

  inTransaction<T>(work: (writes: LineageWrites) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(lineageWrites(trx)));
  }

  async clientsOfSession(personId: string, sid: string): Promise<Array<{ appId: string; userId: string }>> {
    const { rows } = await sql<{ app_id: string; user_id: string }>`
      select u.app_id, u.user_id from app_users u
      where u.person_id = ${personId}::uuid and u.app_id in (
        select app_id from auth_codes where person_id = ${personId}::uuid and sid = ${sid}
        union select app_id from refresh_tokens where person_id = ${personId}::uuid and sid = ${sid}
      )
      order by u.app_id`.execute(this.db);
    return rows.map((row) => ({ appId: row.app_id, userId: row.user_id }));
  }

  async findAccess(jti: string, appId: string, now: Date): Promise<AccessRecord | undefined> {
    const row = await this.db.selectFrom('access_tokens')
      .innerJoin('grants', (join) => join.onRef('grants.person_id', '=', 'access_tokens.person_id').onRef('grants.app_id', '=', 'access_tokens.app_id'))
      .innerJoin('app_users', (join) => join.onRef('app_users.person_id', '=', 'access_tokens.person_id').onRef('app_users.app_id', '=', 'access_tokens.app_id'))
      .leftJoin('consent_records', 'consent_records.connect_id', 'access_tokens.connect_id')
      .select(['access_tokens.person_id', 'access_tokens.scope', 'access_tokens.issued_at', 'access_tokens.expires_at', 'grants.fields', 'app_users.user_id', 'consent_records.requested'])
      .where('access_tokens.jti', '=', jti)
      .where('access_tokens.app_id', '=', appId)
      .where('access_tokens.revoked_at', 'is', null)
      .where('access_tokens.expires_at', '>', now)
      .executeTakeFirst();
    return row && {
      personId: row.person_id, userId: row.user_id, scope: row.scope, granted: row.fields, requested: row.requested, issuedAt: row.issued_at, expiresAt: row.expires_at,
    };
  }

  /*
   * The records go through `keygate_audit_append`, called once for the whole statement with
   * every read's records. The function takes the chain lock and reads the last hash with a
   * snapshot of its own, so this statement's earlier snapshot does not matter; the lock is
   * held until the statement commits.
   */
  async readGrantedProfiles(reads: readonly GrantedProfileRead[]): Promise<Array<GrantedProfileRow | undefined>> {
    if (reads.length === 0) return [];
    const { rows } = await sql<GrantedProfileRow & { n: number }>`${PREPARED}
      with request as (
        select * from unnest(
          ${reads.map((r) => r.jti)}::uuid[], ${reads.map((r) => r.appId)}::uuid[], ${reads.map((r) => r.now.toISOString())}::timestamptz[],
          ${reads.map((r) => r.purpose)}::text[], ${reads.map((r) => r.requestId)}::text[]
        ) with ordinality as r(jti, app_id, now, purpose, request_id, n)
      ),
      access as (
        select r.n, r.app_id, r.purpose, r.request_id, t.person_id, u.user_id, t.issued_at, t.expires_at,
               array(select f from unnest(t.scope) with ordinality as s(f, k) where f = any(g.fields) order by k) as readable,
               (select c.requested from consent_records c where c.connect_id = t.connect_id limit 1) as requested
        from request r
        join access_tokens t on t.jti = r.jti and t.app_id = r.app_id
        join grants g on g.person_id = t.person_id and g.app_id = t.app_id
        join app_users u on u.person_id = t.person_id and u.app_id = t.app_id
        where t.revoked_at is null and t.expires_at > r.now
      ),
      found as (
        select a.*, p.firstname_ct, p.surname_ct, p.email_ct, p.image_ct, p.country_ct, p.language_ct, p.email_verified_at is not null as email_verified,
               k.master_key_id, k.wrapped_key
        from access a join people p on p.id = a.person_id join person_keys k on k.person_id = p.id
      ),
      audited as (
        select ${appendAuditRowsSql(sql`(
          select coalesce(jsonb_agg(${FIELD_READ} order by f.n, x.k), '[]'::jsonb)
          from found f cross join unnest(f.readable) with ordinality as x(f, k)
        )`)} as appended
      )
      select f.n::int as n, f.person_id, f.user_id, f.issued_at, f.expires_at, f.readable, f.requested, f.master_key_id, f.wrapped_key,
             f.firstname_ct, f.surname_ct, f.email_ct, f.image_ct, f.country_ct, f.language_ct, f.email_verified,
             (select appended from audited) as audited
      from found f`.execute(this.db);
    const byPosition = new Map(rows.map((row) => [Number(row.n), row]));
    return reads.map((_, i) => byPosition.get(i + 1));
  }
}
