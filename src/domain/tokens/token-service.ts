import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Actor, RequestActor } from '../audit/audit-log.js';
import { isUuid, type App } from '../apps/app.js';
import type { ProfileImages } from '../people/profile-image.js';
import { addSeconds, type Clock } from '../clock.js';
import type { ConnectService } from '../connect/connect-service.js';
import { hashCode } from '../consent/consent-service.js';
import { FIELD_CODES, isFieldCode, type FieldCode } from '../consent/fields.js';
import { KeygateError } from '../errors.js';
import type { PersonProfiles, Profile } from '../people/person-profiles.js';
import type { PersonRef, Zone, ZoneRegistry } from '../zones/zone-registry.js';
import { GrantedProfileReader } from './granted-profile.js';
import type { CodeAuthentication, IssuedPair, Lineage, LineageWrites, NewPair } from './lineage-store.js';
import type { ConnectRequest } from '../connect/request-store.js';
import { isZoneName, type ZoneName } from '../zones/zones.js';

/**
 * What ties a code's exchange to the request it was issued for, by protocol: the Ukey1
 * request id, or the OpenID Connect redirect URI (RFC 6749 §4.1.3: the same as the
 * authorization request's).
 */
export type CodeBinding =
  | { readonly protocol: 'ukey1'; readonly requestId: string }
  | { readonly protocol: 'oidc'; readonly redirectUri: string | null };

export interface CodeExchange {
  readonly binding: CodeBinding;
  readonly connectId: string;
  readonly authCode: string;
  /** PKCE (RFC 7636): the verifier of the request's S256 challenge. */
  readonly codeVerifier?: string | null;
}

/** RFC 7636 §4.1: 43 to 128 characters of the unreserved set. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** The S256 challenge of a PKCE verifier (RFC 7636 §4.2). */
export const s256Challenge = (verifier: string): string => createHash('sha256').update(verifier, 'ascii').digest('base64url');

/**
 * Whether the exchange may use the request's code: the protocol and its binding match,
 * and PKCE holds both ways: a request that carried a challenge needs its verifier, and a
 * verifier without a challenge is refused (RFC 9700 §2.1.1, against a PKCE downgrade).
 */
function isBoundTo(connect: ConnectRequest, input: CodeExchange): boolean {
  const { binding } = input;
  if (connect.protocol !== binding.protocol) return false;
  if (binding.protocol === 'ukey1' && connect.requestId !== binding.requestId) return false;
  if (binding.protocol === 'oidc' && connect.returnUrl !== binding.redirectUri) return false;
  const verifier = input.codeVerifier ?? null;
  if (connect.codeChallenge === null) return verifier === null;
  if (verifier === null || !CODE_VERIFIER.test(verifier)) return false;
  const expected = Buffer.from(connect.codeChallenge, 'ascii');
  const presented = Buffer.from(s256Challenge(verifier), 'ascii');
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}

/**
 * The id of an opaque access token's record: a UUID made of the first 128 bits of the
 * token secret's SHA-256, so the record names the token without holding it.
 */
export function accessTokenId(secret: string): string {
  const hex = createHash('sha256').update(secret, 'utf8').digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
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
  /**
   * 256 random bits whose hash is the record's id (`accessTokenId`): what a protocol
   * with opaque access tokens hands out. A signed token names the record by `jti` instead.
   */
  readonly accessSecret: string;
  /** How the person had signed in when they allowed the request the pair descends from. */
  readonly authentication: CodeAuthentication;
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
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}

interface FreshPair {
  readonly pair: NewPair;
  readonly refreshToken: string;
  readonly accessSecret: string;
}

export class TokenService {
  readonly #profiles = new GrantedProfileReader();

  constructor(
    private readonly zones: ZoneRegistry,
    private readonly connects: ConnectService,
    private readonly profiles: PersonProfiles,
    private readonly clock: Clock,
    private readonly accessTokenTtlMinutes: number,
    private readonly refreshTokenTtlDays: number,
    private readonly images: ProfileImages,
  ) {}

  #newPair(zone: Zone, now: Date, requestId: string | null): FreshPair {
    const refreshToken = `${zone.name}.${randomBytes(32).toString('base64url')}`;
    const accessSecret = randomBytes(32).toString('base64url');
    return {
      refreshToken,
      accessSecret,
      pair: {
        jti: accessTokenId(accessSecret),
        accessExpiresAt: addSeconds(now, this.accessTokenTtlMinutes * 60),
        refreshTokenHash: hashCode(refreshToken),
        refreshExpiresAt: addSeconds(now, this.refreshTokenTtlDays * 24 * 3600),
        now,
        requestId,
      },
    };
  }

  #answer(zone: Zone, now: Date, fresh: FreshPair, issued: IssuedPair): IssuedTokens {
    return {
      jti: fresh.pair.jti,
      zone: zone.name,
      userId: issued.userId,
      scope: issued.scope.filter(isFieldCode),
      issuedAt: now,
      expiresAt: fresh.pair.accessExpiresAt,
      refreshToken: fresh.refreshToken,
      accessSecret: fresh.accessSecret,
      authentication: issued.authentication,
    };
  }

  /** Records the next pair of `lineage` in the exchange's transaction (its slower path). */
  async #recordPair(tx: LineageWrites, zone: Zone, app: App, lineage: Lineage, now: Date, who: Actor) {
    const pair = this.#newPair(zone, now, who.requestId ?? null);
    const userId = await tx.recordPair(app.id, lineage, pair.pair, who);
    return { kind: 'issued', pair, issued: { personId: lineage.personId, userId, scope: lineage.scope, authentication: lineage.authentication } } as const;
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

  /**
   * Trades a one-time code for an access token (spec, `POST /auth/v2/token`). The code
   * is claimed atomically; a second use fails and revokes every token the first issued,
   * because a replayed code means it leaked. The exchange must be bound to the request
   * the way its protocol says (`CodeBinding`, PKCE), or the code is not even tried.
   */
  async exchangeCode(app: App, input: CodeExchange, actor: RequestActor): Promise<IssuedTokens & { readonly request: ConnectRequest }> {
    const connect = isUuid(input.connectId) ? await this.connects.findConnect(input.connectId) : null;
    if (!connect || connect.appId !== app.id || connect.status !== 'authorized' || !connect.zone || !isBoundTo(connect, input)) {
      throw new KeygateError('invalid_code');
    }
    const codeHash = hashCode(input.authCode);
    const now = this.clock.now();
    const who: Actor = { ...actor, kind: 'app', id: app.id, appId: app.id };
    const claim = { codeHash, connectId: connect.id, appId: app.id };

    // The usual case in one statement; a code that cannot be claimed there (used, expired,
    // unknown, or its person moved zones) takes the path below, which tells them apart.
    const named = this.zones.get(connect.zone);
    const fresh = this.#newPair(named, now, who.requestId ?? null);
    const issued = await named.lineage.claimCodeAndIssue(claim, { ...fresh.pair, familyId: randomUUID() });
    if (issued) return { ...this.#answer(named, now, fresh, issued), request: connect };

    const { zone, outcome } = await this.#fromZone(connect.zone, (zone) => zone.lineage.inTransaction(async (tx) => {
      const claimed = await tx.claimCode(claim, now);
      if (!claimed) {
        const replayedBy = await tx.usedCodePerson(codeHash, connect.id);
        if (!replayedBy) return { kind: 'invalid' } as const;
        await tx.revokeLineage(codeHash, now);
        await tx.audit(who, [{ action: 'code.replayed', personId: replayedBy }]);
        return { kind: 'replayed' } as const;
      }
      const lineage: Lineage = {
        familyId: randomUUID(), codeHash, connectId: connect.id, personId: claimed.personId, scope: claimed.scope.filter(isFieldCode),
        authentication: claimed.authentication,
      };
      return this.#recordPair(tx, zone, app, lineage, now, who);
    }));
    if (outcome.kind === 'invalid') throw new KeygateError('invalid_code');
    if (outcome.kind === 'replayed') throw new KeygateError('code_already_used');
    return { ...this.#answer(zone, now, outcome.pair, outcome.issued), request: connect };
  }

  /**
   * Trades a refresh token for a new pair (our extension, `POST /auth/v2/token/refresh`).
   * Each refresh token works once; presenting a used one means it was copied, so the
   * whole family is revoked. The new pair never carries a field the person has withdrawn,
   * and, with `narrowTo`, its access token carries only fields among those (a refresh may
   * narrow, never widen); its refresh token keeps what the family may still ask for.
   */
  async refresh(app: App, refreshToken: string, actor: RequestActor, options: { narrowTo?: readonly FieldCode[] } = {}): Promise<IssuedTokens> {
    const [zoneName] = refreshToken.split('.');
    if (!isZoneName(zoneName) || !/^[a-z]+\.[A-Za-z0-9_-]{43}$/.test(refreshToken)) throw new KeygateError('invalid_refresh_token');
    const now = this.clock.now();
    const who: Actor = { ...actor, kind: 'app', id: app.id, appId: app.id };
    const tokenHash = hashCode(refreshToken);
    const named = this.zones.get(zoneName);
    const fresh = this.#newPair(named, now, who.requestId ?? null);
    const issued = await named.lineage.useRefreshTokenAndIssue({ tokenHash, appId: app.id, narrowTo: options.narrowTo }, fresh.pair);
    if (issued) return this.#answer(named, now, fresh, issued);

    const { zone, outcome } = await this.#fromZone(zoneName, (zone) => zone.lineage.inTransaction(async (tx) => {
      const token = await tx.lockRefreshToken(tokenHash, app.id);
      if (!token || token.revokedAt !== null || token.expiresAt <= now) return { kind: 'invalid' } as const;
      if (token.usedAt !== null) {
        await tx.revokeLineage(token.codeHash, now);
        await tx.audit(who, [{ action: 'refresh_token.reused', personId: token.personId }]);
        return { kind: 'reused' } as const;
      }
      await tx.markRefreshTokenUsed(token.tokenHash, now);
      const granted = await tx.grantedFields(token.personId, app.id);
      if (!granted) return { kind: 'invalid' } as const;
      const lineage: Lineage = {
        familyId: token.familyId, codeHash: token.codeHash, connectId: token.connectId, personId: token.personId,
        scope: token.scope.filter((f): f is FieldCode => isFieldCode(f) && granted.includes(f) && (!options.narrowTo || options.narrowTo.includes(f))),
        refreshScope: token.scope.filter((f): f is FieldCode => isFieldCode(f) && granted.includes(f)),
        authentication: token.authentication,
      };
      return this.#recordPair(tx, zone, app, lineage, now, who);
    }));
    if (outcome.kind === 'invalid') throw new KeygateError('invalid_refresh_token');
    if (outcome.kind === 'reused') throw new KeygateError('refresh_token_reused');
    return this.#answer(zone, now, outcome.pair, outcome.issued);
  }

  /**
   * Revokes, at the app's request (RFC 7009), the token and every token of its lineage:
   * the pair it belongs to, the refresh tokens after it, and the access tokens they gave.
   * False when the app holds no such token (the app is told nothing either way).
   */
  async revokeToken(app: App, token: { readonly access: AccessTokenRef } | { readonly refreshToken: string }, actor: RequestActor): Promise<boolean> {
    const now = this.clock.now();
    const who: Actor = { ...actor, kind: 'app', id: app.id, appId: app.id };
    const tokenHash = 'refreshToken' in token ? hashCode(token.refreshToken) : null;
    const first = 'access' in token ? token.access.zone : token.refreshToken.split('.')[0];
    if (!isZoneName(first)) return false;
    const { outcome } = await this.#fromZone(first, (zone) => zone.lineage.inTransaction(async (tx) => {
      const lineage = tokenHash
        ? await tx.lockRefreshToken(tokenHash, app.id)
        : await tx.lineageOfAccess((token as { access: AccessTokenRef }).access.jti, app.id);
      if (!lineage) return { kind: 'invalid' } as const;
      await tx.revokeLineage(lineage.codeHash, now);
      await tx.audit(who, [{ action: 'token.revoked', personId: lineage.personId }]);
      return { kind: 'revoked' } as const;
    }));
    return outcome.kind === 'revoked';
  }

  /** The apps the person signed in to with the browser session `sid`, and the person's id for each. */
  clientsOfSession(person: PersonRef, sid: string): Promise<Array<{ appId: string; userId: string }>> {
    return this.zones.get(person.zone).lineage.clientsOfSession(person.id, sid);
  }

  /**
   * What this token may see now, without reading any personal field. `token` names a
   * record the front-end found in a token it verified; the record decides: it must be
   * unrevoked and unexpired, and a field the person has withdrawn is gone at once,
   * whatever the token says.
   */
  async inspectToken(app: App, token: AccessTokenRef): Promise<TokenAccess> {
    const { jti } = token;
    const now = this.clock.now();
    for (const zone of this.zones.searchOrder(token.zone)) {
      const record = await zone.lineage.findAccess(jti, app.id, now);
      if (!record) continue;
      const granted = new Set(record.granted);
      return {
        zone,
        jti,
        personId: record.personId,
        userId: record.userId,
        fields: FIELD_CODES.filter((f) => record.scope.includes(f) && granted.has(f)),
        requested: (record.requested ?? record.scope).filter(isFieldCode),
        issuedAt: record.issuedAt,
        expiresAt: record.expiresAt,
      };
    }
    throw new KeygateError('invalid_token');
  }

  /**
   * Reads the granted fields of the token's person for its app (Ukey1: `GET /auth/v2/me`),
   * one audit record per field, committed with the read. `purpose` is what the records
   * say the read was for; the front-end names it (Ukey1: `ukey1.me`).
   */
  async readProfile(app: App, token: AccessTokenRef, purpose: string, actor: RequestActor): Promise<{ access: TokenAccess; profile: Profile; emailVerified: boolean }> {
    const { jti } = token;
    const named = this.zones.get(token.zone);
    const read = (zone: Zone) => this.#profiles.read(zone.lineage, { jti, appId: app.id, now: this.clock.now(), purpose, requestId: actor.requestId ?? null });
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
      issuedAt: row.issued_at, expiresAt: row.expires_at,
    };
    const profile = this.profiles.openFields(zone, { ...row, id: row.person_id }, fields.filter((f) => f !== 'image'));
    // The picture itself is not sent: the app gets a link that expires (and is audited when fetched).
    if (fields.includes('image')) profile.image = row.image_ct ? this.images.linkFor({ id: row.person_id, zone: zone.name }, app.id) : null;
    return { access, profile, emailVerified: row.email_verified };
  }
}
