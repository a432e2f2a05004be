import { randomBytes, randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { ZoneDatabase } from '../../storage/schema.js';
import { recordAudit, type Actor } from '../audit/audit-log.js';
import { isUuid, type App } from '../apps/apps-service.js';
import type { ProfileImages } from '../people/profile-image.js';
import { addSeconds, type Clock } from '../clock.js';
import type { ConnectService } from '../connect/connect-service.js';
import { hashCode } from '../consent/consent-service.js';
import { FIELD_CODES, isFieldCode, type FieldCode } from '../consent/fields.js';
import { KeygateError } from '../errors.js';
import type { PeopleService, Profile } from '../people/people-service.js';
import type { Zone, ZoneRegistry } from '../zones/zone-registry.js';
import { GrantedProfileReader } from './granted-profile.js';
import { claimCodeAndIssue, useRefreshTokenAndIssue, type IssuedRow, type NewPair } from './token-issue.js';
import { isZoneName, type ZoneName } from '../zones/zones.js';

export interface CodeExchange {
  readonly requestId: string;
  readonly connectId: string;
  readonly authCode: string;
}

/**
 * A token pair just issued. The access token is its record here (ids and times); the
 * front-end encodes it for the app (Ukey1: a JWT signed with the app's key).
 */
export interface IssuedTokens {
  readonly jti: string;
  /** The zone that holds the record, so that a presented token is looked up there first. */
  readonly zone: ZoneName;
  /** The person's id for this app. */
  readonly userId: string;
  readonly scope: readonly FieldCode[];
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  /** Opaque, single-use; exchanged at `POST /auth/v2/token/refresh` for a new pair. */
  readonly refreshToken: string;
}

/** Names an access token's record: what a front-end finds in a token it has verified. */
export interface AccessTokenRef {
  readonly zone: ZoneName;
  readonly jti: string;
}

/** What a valid access token lets its app see right now. */
export interface TokenAccess {
  readonly zone: Zone;
  readonly jti: string;
  readonly personId: string;
  readonly userId: string;
  /** Fields granted by the token and still granted by the person. */
  readonly fields: readonly FieldCode[];
  readonly requested: readonly FieldCode[];
}

/** Everything a new token pair descends from. */
interface Lineage {
  readonly familyId: string;
  readonly codeHash: Uint8Array;
  readonly connectId: string;
  readonly personId: string;
  readonly scope: readonly FieldCode[];
}

const issuedTokens = (zone: Zone, issuedAt: Date, access: { jti: string; expiresAt: Date; userId: string; scope: readonly FieldCode[]; refreshToken: string }): IssuedTokens => ({
  jti: access.jti, zone: zone.name, userId: access.userId, scope: access.scope, issuedAt, expiresAt: access.expiresAt, refreshToken: access.refreshToken,
});

export class TokenService {
  readonly #profiles = new GrantedProfileReader();

  constructor(
    private readonly zones: ZoneRegistry,
    private readonly connects: ConnectService,
    private readonly people: PeopleService,
    private readonly clock: Clock,
    private readonly accessTokenTtlMinutes: number,
    private readonly refreshTokenTtlDays: number,
    private readonly images: ProfileImages,
  ) {}

  /**
   * Records a new access token and refresh token of `lineage` in the caller's transaction.
   * The refresh token is `zone.secret`: the zone prefix routes it, the store keeps a hash.
   */
  async #recordPair(trx: Transaction<ZoneDatabase>, zone: Zone, app: App, lineage: Lineage, now: Date, who: Actor) {
    const jti = randomUUID();
    const expiresAt = addSeconds(now, this.accessTokenTtlMinutes * 60);
    const refreshToken = `${zone.name}.${randomBytes(32).toString('base64url')}`;
    const user = await trx.selectFrom('app_users').select('user_id')
      .where('person_id', '=', lineage.personId).where('app_id', '=', app.id).executeTakeFirstOrThrow();
    await trx.insertInto('access_tokens').values({
      jti,
      code_hash: lineage.codeHash,
      connect_id: lineage.connectId,
      family_id: lineage.familyId,
      person_id: lineage.personId,
      app_id: app.id,
      scope: [...lineage.scope],
      issued_at: now,
      expires_at: expiresAt,
      revoked_at: null,
    }).execute();
    await trx.insertInto('refresh_tokens').values({
      token_hash: hashCode(refreshToken),
      family_id: lineage.familyId,
      code_hash: lineage.codeHash,
      connect_id: lineage.connectId,
      person_id: lineage.personId,
      app_id: app.id,
      scope: [...lineage.scope],
      issued_at: now,
      expires_at: addSeconds(now, this.refreshTokenTtlDays * 24 * 3600),
      used_at: null,
      revoked_at: null,
    }).execute();
    await recordAudit(trx, who, [{ action: 'token.issued', personId: lineage.personId }]);
    return { jti, expiresAt, refreshToken, userId: user.user_id, scope: lineage.scope };
  }

  #newPair(zone: Zone, now: Date, requestId: string | null): { pair: NewPair; refreshToken: string } {
    const refreshToken = `${zone.name}.${randomBytes(32).toString('base64url')}`;
    return {
      refreshToken,
      pair: {
        jti: randomUUID(),
        accessExpiresAt: addSeconds(now, this.accessTokenTtlMinutes * 60),
        refreshTokenHash: hashCode(refreshToken),
        refreshExpiresAt: addSeconds(now, this.refreshTokenTtlDays * 24 * 3600),
        now,
        requestId,
      },
    };
  }

  #answer(zone: Zone, now: Date, fresh: { pair: NewPair; refreshToken: string }, issued: IssuedRow): IssuedTokens {
    return issuedTokens(zone, now, {
      jti: fresh.pair.jti, expiresAt: fresh.pair.accessExpiresAt, userId: issued.user_id, scope: issued.scope.filter(isFieldCode), refreshToken: fresh.refreshToken,
    });
  }

  /**
   * Runs `attempt` in the zone a token or code names and, while it finds nothing there, in
   * the others: the person may have moved zones since it was issued.
   */
  async #fromZone<T extends { kind: string }>(first: ZoneName, attempt: (zone: Zone) => Promise<T>): Promise<{ zone: Zone; outcome: T }> {
    const [named, ...others] = this.zones.searchOrder(first);
    let outcome = await attempt(named!);
    if (outcome.kind !== 'invalid') return { zone: named!, outcome };
    for (const zone of others) {
      const elsewhere = await attempt(zone);
      if (elsewhere.kind !== 'invalid') return { zone, outcome: elsewhere };
      outcome = elsewhere;
    }
    return { zone: named!, outcome };
  }

  /** Revokes every token of the families descending from `codeHash` (a leaked code or refresh token). */
  async #revokeLineage(trx: Transaction<ZoneDatabase>, codeHash: Uint8Array, now: Date) {
    await trx.updateTable('access_tokens').set({ revoked_at: now })
      .where('code_hash', '=', codeHash).where('revoked_at', 'is', null).execute();
    await trx.updateTable('refresh_tokens').set({ revoked_at: now })
      .where('code_hash', '=', codeHash).where('revoked_at', 'is', null).execute();
  }

  /**
   * Trades a one-time code for an access token (spec, `POST /auth/v2/token`). The code
   * is claimed atomically; a second use fails and revokes every token the first issued,
   * because a replayed code means it leaked.
   */
  async exchangeCode(app: App, input: CodeExchange, actor: Omit<Actor, 'kind' | 'id'>): Promise<IssuedTokens> {
    const connect = isUuid(input.connectId) ? await this.connects.findConnect(input.connectId) : null;
    if (!connect || connect.appId !== app.id || connect.requestId !== input.requestId || connect.status !== 'authorized' || !connect.zone) {
      throw new KeygateError('invalid_code');
    }
    const codeHash = hashCode(input.authCode);
    const now = this.clock.now();
    const who: Actor = { ...actor, kind: 'app', id: app.id, appId: app.id };

    // The usual case in one statement; a code that cannot be claimed there (used, expired,
    // unknown, or its person moved zones) takes the path below, which tells them apart.
    const named = this.zones.get(connect.zone);
    const fresh = this.#newPair(named, now, who.requestId ?? null);
    const issued = await claimCodeAndIssue(named.db, { codeHash, connectId: connect.id, appId: app.id }, { ...fresh.pair, familyId: randomUUID() });
    if (issued) return this.#answer(named, now, fresh, issued);

    const { zone, outcome } = await this.#fromZone(connect.zone, (zone) => zone.db.transaction().execute(async (trx) => {
      const claimed = await trx.updateTable('auth_codes')
        .set({ used_at: now })
        .where('code_hash', '=', codeHash)
        .where('connect_id', '=', connect.id)
        .where('app_id', '=', app.id)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .returning(['person_id', 'scope'])
        .executeTakeFirst();
      if (!claimed) {
        const replayed = await trx.selectFrom('auth_codes').select('person_id')
          .where('code_hash', '=', codeHash).where('connect_id', '=', connect.id).where('used_at', 'is not', null)
          .executeTakeFirst();
        if (!replayed) return { kind: 'invalid' } as const;
        await this.#revokeLineage(trx, codeHash, now);
        await recordAudit(trx, who, [{ action: 'code.replayed', personId: replayed.person_id }]);
        return { kind: 'replayed' } as const;
      }
      const lineage: Lineage = {
        familyId: randomUUID(), codeHash, connectId: connect.id, personId: claimed.person_id, scope: claimed.scope.filter(isFieldCode),
      };
      return { kind: 'issued', ...(await this.#recordPair(trx, zone, app, lineage, now, who)) } as const;
    }));
    if (outcome.kind === 'invalid') throw new KeygateError('invalid_code');
    if (outcome.kind === 'replayed') throw new KeygateError('code_already_used');
    return issuedTokens(zone, now, outcome);
  }

  /**
   * Trades a refresh token for a new pair (our extension, `POST /auth/v2/token/refresh`).
   * Each refresh token works once; presenting a used one means it was copied, so the
   * whole family is revoked. The new pair never carries a field the person has withdrawn.
   */
  async refresh(app: App, refreshToken: string, actor: Omit<Actor, 'kind' | 'id'>): Promise<IssuedTokens> {
    const [zoneName] = refreshToken.split('.');
    if (!isZoneName(zoneName) || !/^[a-z]+\.[A-Za-z0-9_-]{43}$/.test(refreshToken)) throw new KeygateError('invalid_refresh_token');
    const now = this.clock.now();
    const who: Actor = { ...actor, kind: 'app', id: app.id, appId: app.id };
    const named = this.zones.get(zoneName);
    const fresh = this.#newPair(named, now, who.requestId ?? null);
    const issued = await useRefreshTokenAndIssue(named.db, { tokenHash: hashCode(refreshToken), appId: app.id }, fresh.pair);
    if (issued) return this.#answer(named, now, fresh, issued);

    const { zone, outcome } = await this.#fromZone(zoneName, (zone) => zone.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('refresh_tokens').selectAll()
        .where('token_hash', '=', hashCode(refreshToken)).where('app_id', '=', app.id).forUpdate().executeTakeFirst();
      if (!row || row.revoked_at !== null || row.expires_at <= now) return { kind: 'invalid' } as const;
      if (row.used_at !== null) {
        await this.#revokeLineage(trx, row.code_hash, now);
        await recordAudit(trx, who, [{ action: 'refresh_token.reused', personId: row.person_id }]);
        return { kind: 'reused' } as const;
      }
      await trx.updateTable('refresh_tokens').set({ used_at: now }).where('token_hash', '=', row.token_hash).execute();
      const grant = await trx.selectFrom('grants').select('fields')
        .where('person_id', '=', row.person_id).where('app_id', '=', app.id).executeTakeFirst();
      if (!grant) return { kind: 'invalid' } as const;
      const lineage: Lineage = {
        familyId: row.family_id, codeHash: row.code_hash, connectId: row.connect_id, personId: row.person_id,
        scope: row.scope.filter((f): f is FieldCode => isFieldCode(f) && grant.fields.includes(f)),
      };
      return { kind: 'issued', ...(await this.#recordPair(trx, zone, app, lineage, now, who)) } as const;
    }));
    if (outcome.kind === 'invalid') throw new KeygateError('invalid_refresh_token');
    if (outcome.kind === 'reused') throw new KeygateError('refresh_token_reused');
    return issuedTokens(zone, now, outcome);
  }

  /**
   * Checks an access token's record inside a zone transaction: it must be unrevoked and
   * unexpired. The grant is read too, so a
   * field the person has withdrawn is gone at once, whatever the JWT says.
   */
  async #authorise(trx: Transaction<ZoneDatabase>, zone: Zone, app: App, jti: string): Promise<TokenAccess | null> {
    const now = this.clock.now();
    const row = await trx.selectFrom('access_tokens')
      .innerJoin('grants', (join) => join.onRef('grants.person_id', '=', 'access_tokens.person_id').onRef('grants.app_id', '=', 'access_tokens.app_id'))
      .innerJoin('app_users', (join) => join.onRef('app_users.person_id', '=', 'access_tokens.person_id').onRef('app_users.app_id', '=', 'access_tokens.app_id'))
      .leftJoin('consent_records', 'consent_records.connect_id', 'access_tokens.connect_id')
      .select(['access_tokens.person_id', 'access_tokens.scope', 'grants.fields', 'app_users.user_id', 'consent_records.requested'])
      .where('access_tokens.jti', '=', jti)
      .where('access_tokens.app_id', '=', app.id)
      .where('access_tokens.revoked_at', 'is', null)
      .where('access_tokens.expires_at', '>', now)
      .executeTakeFirst();
    if (!row) return null;
    const granted = new Set(row.fields);
    return {
      zone,
      jti,
      personId: row.person_id,
      userId: row.user_id,
      fields: FIELD_CODES.filter((f) => row.scope.includes(f) && granted.has(f)),
      requested: (row.requested ?? row.scope).filter(isFieldCode),
    };
  }

  /**
   * What this token may see now, without reading any personal field. `token` names a
   * record the front-end found in a token it verified; the record decides.
   */
  async inspectToken(app: App, token: AccessTokenRef): Promise<TokenAccess> {
    const { jti } = token;
    for (const zone of this.zones.searchOrder(token.zone)) {
      const access = await zone.db.transaction().execute((trx) => this.#authorise(trx, zone, app, jti));
      if (access) return access;
    }
    throw new KeygateError('invalid_token');
  }

  /**
   * Reads the granted fields of the token's person for its app (Ukey1: `GET /auth/v2/me`),
   * one audit record per field, committed with the read. `purpose` is what the records
   * say the read was for; the front-end names it (Ukey1: `ukey1.me`).
   */
  async readProfile(app: App, token: AccessTokenRef, purpose: string, actor: Omit<Actor, 'kind' | 'id'>): Promise<{ access: TokenAccess; profile: Profile }> {
    const { jti } = token;
    const named = this.zones.get(token.zone);
    const read = (zone: Zone) => this.#profiles.read(zone.db, { jti, appId: app.id, now: this.clock.now(), purpose, requestId: actor.requestId ?? null });
    let zone = named;
    let row = await read(zone);
    // One statement in the token's zone on the hot path; the others only when it finds nothing.
    for (const other of row ? [] : this.zones.searchOrder(named.name).slice(1)) {
      row = await read(other);
      if (row) { zone = other; break; }
    }
    if (!row) throw new KeygateError('invalid_token');
    const fields = row.readable.filter(isFieldCode);
    const access: TokenAccess = {
      zone, jti, personId: row.person_id, userId: row.user_id, fields, requested: (row.requested ?? row.readable).filter(isFieldCode),
    };
    const profile = this.people.openFields(zone, { ...row, id: row.person_id }, fields.filter((f) => f !== 'image'));
    // The picture itself is not sent: the app gets a link that expires (and is audited when fetched).
    if (fields.includes('image')) profile.image = row.image_ct ? this.images.linkFor({ id: row.person_id, zone: zone.name }, app.id) : null;
    return { access, profile };
  }
}
