import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { isUuid } from '../../domain/apps/app.js';

/**
 * An ID token a client sends back as a hint (at the authorization and end-session
 * endpoints): it must be one Keygate signed; an expired one still names its client,
 * person and session.
 */

/** What a verified ID token hint says: for which client, which person, which session. */
export interface IdTokenHint {
  readonly clientId: string;
  readonly subject: string;
  readonly sid: string | null;
}

/** The claims of an ID token Keygate issued, or null when it is not one (whatever its expiry). */
export async function readIdTokenHint(token: string, keySet: { keys: ReadonlyArray<Readonly<Record<string, string>>> }, issuer: string): Promise<IdTokenHint | null> {
  if (token.length > 8192) return null;
  let payload: JWTPayload;
  try {
    // Only an ID token (typ JWT): a logout token is signed by the same key for the same client.
    ({ payload } = await jwtVerify(token, createLocalJWKSet(keySet as unknown as JSONWebKeySet), { issuer, algorithms: ['RS256'], typ: 'JWT' }));
  } catch (error) {
    // The signature held and only the time is past: the hint still says who and where.
    if (error instanceof joseErrors.JWTExpired && error.payload.iss === issuer && error.payload.events === undefined) payload = error.payload;
    else return null;
  }
  if (payload.events !== undefined) return null;
  const audience = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const clientId = audience.length === 1 ? audience[0] : undefined;
  if (typeof clientId !== 'string' || !isUuid(clientId) || typeof payload.sub !== 'string') return null;
  return { clientId, subject: payload.sub, sid: typeof payload.sid === 'string' ? payload.sid : null };
}
