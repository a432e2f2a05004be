import { createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose';
import { isUuid, type App } from '../../domain/apps/app.js';
import { isClientSecret } from '../../crypto/client-secret.js';
import { formParam as formValue, OAuthError } from './errors.js';

/**
 * Client authentication at the token endpoint (RFC 6749 §2.3, OpenID Connect Core §9):
 * exactly one method per request. A confidential client proves itself with its secret,
 * in the Basic header or in the form, or with a JWT signed by one of its registered keys
 * (private_key_jwt, RFC 7523), each such assertion once; a public client names itself and
 * proves nothing (PKCE binds its code instead).
 */

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

export interface ClientCredentials {
  readonly clientId: string;
  readonly method: ClientAuthMethod;
  readonly secret: string | null;
  /** The signed JWT of private_key_jwt. */
  readonly assertion?: string;
}

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** How far ahead an assertion may expire: it is for one request, not a credential to keep. */
const MAX_ASSERTION_SECONDS = 600;
const ASSERTION_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384'];
const CLOCK_SKEW_SECONDS = 30;

/** What checking a private_key_jwt assertion needs. */
export interface AssertionCheck {
  /** What the assertion's `aud` may name: the issuer, or the endpoint it is sent to. */
  readonly audiences: readonly string[];
  readonly now: Date;
  /** Records the assertion's id; false when it was used already. */
  recordOnce(clientId: string, jti: string, expiresAt: Date): Promise<boolean>;
}

/** The `Basic` header's client id and secret, each form-urlencoded before encoding (RFC 6749 §2.3.1). */
function basicCredentials(authorization: string): { clientId: string; secret: string } {
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(authorization.trim());
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon < 1) throw new OAuthError('invalid_client', 'The Authorization header is not HTTP Basic client credentials.', 401);
  try {
    const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));
    return { clientId: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
  } catch {
    throw new OAuthError('invalid_client', 'The client credentials are not form-urlencoded.', 401);
  }
}

/** Which client the request says it is, and how it proves it; more than one method is refused. */
export function readClientCredentials(authorization: string | undefined, form: Readonly<Record<string, unknown>>): ClientCredentials {
  const formId = formValue(form, 'client_id');
  const formSecret = formValue(form, 'client_secret');
  const assertionType = formValue(form, 'client_assertion_type');
  const assertion = formValue(form, 'client_assertion');
  if (assertionType !== null || assertion !== null) {
    if (authorization !== undefined || formSecret !== null) throw new OAuthError('invalid_request', 'Use one client authentication method, not an assertion and a secret together.');
    if (assertionType !== JWT_BEARER_ASSERTION) throw new OAuthError('invalid_request', `client_assertion_type must be ${JWT_BEARER_ASSERTION}.`);
    if (assertion === null || assertion.length > 16_384) throw new OAuthError('invalid_client', 'client_assertion is missing or too long.', 401);
    let issuer: unknown;
    try {
      issuer = decodeJwt(assertion).iss;
    } catch {
      throw new OAuthError('invalid_client', 'client_assertion is not a JWT.', 401);
    }
    const clientId = formId ?? (typeof issuer === 'string' ? issuer : null);
    if (clientId === null) throw new OAuthError('invalid_client', 'The client is not identified.', 401);
    return { clientId, method: 'private_key_jwt', secret: null, assertion };
  }
  if (authorization !== undefined) {
    if (formSecret !== null) throw new OAuthError('invalid_request', 'Use one client authentication method, not the header and the form together.');
    const basic = basicCredentials(authorization);
    if (formId !== null && formId !== basic.clientId) throw new OAuthError('invalid_request', 'client_id differs from the authenticated client.');
    return { clientId: basic.clientId, method: 'client_secret_basic', secret: basic.secret };
  }
  if (formId === null) throw new OAuthError('invalid_client', 'The client is not identified (client_id, or HTTP Basic credentials).', 401);
  return { clientId: formId, method: formSecret === null ? 'none' : 'client_secret_post', secret: formSecret };
}

/**
 * The app the credentials prove, or `invalid_client`: the same refusal whether the client
 * is unknown, the secret wrong or the method not the client's, so that it tells nothing.
 */
export async function authenticateClient(credentials: ClientCredentials, findApp: (id: string) => Promise<App | null>, assertions?: AssertionCheck): Promise<App> {
  const refused = new OAuthError('invalid_client', 'Client authentication failed.', 401);
  if (!isUuid(credentials.clientId)) throw refused;
  const app = await findApp(credentials.clientId.toLowerCase());
  if (!app) throw refused;
  if (app.publicClient) {
    if (credentials.method !== 'none') throw refused;
    return app;
  }
  if (credentials.method === 'private_key_jwt') {
    if (!assertions || !credentials.assertion || !app.clientJwks || !(await isValidAssertion(app, credentials.assertion, assertions))) throw refused;
    return app;
  }
  if (credentials.method === 'none' || credentials.secret === null || !isClientSecret(credentials.secret, app.clientSecretHash)) throw refused;
  return app;
}

/**
 * A private_key_jwt assertion (RFC 7523 §3): signed by one of the client's registered
 * keys, issued by and about the client, for Keygate, expiring soon, and never seen before.
 */
async function isValidAssertion(app: App, assertion: string, check: AssertionCheck): Promise<boolean> {
  try {
    const { payload } = await jwtVerify(assertion, createLocalJWKSet(app.clientJwks as unknown as JSONWebKeySet), {
      issuer: app.id, subject: app.id, audience: [...check.audiences], algorithms: ASSERTION_ALGORITHMS, currentDate: check.now, requiredClaims: ['exp', 'jti'],
      // A client's clock may run a little ahead of or behind Keygate's.
      clockTolerance: CLOCK_SKEW_SECONDS,
    });
    const now = Math.floor(check.now.getTime() / 1000);
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) return false;
    if (payload.exp! > now + MAX_ASSERTION_SECONDS + CLOCK_SKEW_SECONDS) return false;
    // Kept as long as the tolerance lets the assertion pass, so it cannot come back after its record is purged.
    return await check.recordOnce(app.id, payload.jti, new Date((payload.exp! + CLOCK_SKEW_SECONDS) * 1000));
  } catch (error) {
    // A bad signature, claim, key or algorithm: not this client's assertion.
    if (error instanceof joseErrors.JOSEError) return false;
    throw error;
  }
}
