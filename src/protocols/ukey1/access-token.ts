import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { appKeyId, isUuid, type App } from '../../domain/apps/app.js';
import type { Clock } from '../../domain/clock.js';
import { KeygateError } from '../../domain/errors.js';
import type { AccessTokenRef, IssuedTokens } from '../../domain/tokens/token-service.js';
import { isZoneName } from '../../domain/zones/zones.js';

/** The spec's algorithm: clients verify the token with the Secret Key, the public half of the app's key pair. */
const JWT_ALGORITHM = 'RS512';

/** A read of granted fields with a Ukey1 access token (`GET /auth/v2/me`) is audited under this purpose. */
export const ME_PURPOSE = 'ukey1.me';

/** `expiration` of a token answer: RFC 3339 in UTC, to the second. */
export const formatExpiration = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The Ukey1 access token (spec, `POST /auth/v2/token`): a JWT signed RS512 with the app's
 * private key, carrying `user.id`, the granted `scope` and the `zone` that holds its
 * record, with `kid` naming the key pair. The token only names its record; whether it is
 * still good is the record's to say (token-service.ts).
 */
export class Ukey1AccessTokens {
  constructor(private readonly options: { readonly issuer: string; readonly clock: Clock }) {}

  /** Signs with the key pair `app` comes with: the one the caller signed with, during a grace period. */
  async sign(app: App, issued: IssuedTokens): Promise<string> {
    const issuedAt = Math.floor(issued.issuedAt.getTime() / 1000);
    return new SignJWT({ user: { id: issued.userId }, scope: issued.scope, zone: issued.zone })
      .setProtectedHeader({ alg: JWT_ALGORITHM, typ: 'JWT', kid: appKeyId(app.secretKey) })
      .setIssuer(this.options.issuer)
      .setAudience(app.id)
      .setSubject(issued.userId)
      .setJti(issued.jti)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(Math.floor(issued.expiresAt.getTime() / 1000))
      .sign(app.privateKey);
  }

  /** The record a bearer token names, once its signature, audience, issuer and times check out; `invalid_token` otherwise. */
  async verify(app: App, token: string): Promise<AccessTokenRef> {
    try {
      // Any live key pair of the app: a token signed before a rotation stays valid through the grace period.
      const keyFor = (header: { kid?: string }) => {
        const key = app.keys.find((k) => k.id === header.kid);
        if (!key) throw new KeygateError('invalid_token');
        return key.publicKey;
      };
      const { payload } = await jwtVerify(token, keyFor, {
        algorithms: [JWT_ALGORITHM],
        audience: app.id,
        issuer: this.options.issuer,
        currentDate: this.options.clock.now(),
      });
      if (!isZoneName(payload.zone) || typeof payload.jti !== 'string' || !isUuid(payload.jti)) throw new KeygateError('invalid_token');
      return { zone: payload.zone, jti: payload.jti };
    } catch (error) {
      if (error instanceof KeygateError || error instanceof joseErrors.JOSEError) throw new KeygateError('invalid_token');
      throw error;
    }
  }
}
