import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { isUuid, type App } from '../../domain/apps/app.js';

/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): what a logout request
 * says, checked. An ID token hint must be one Keygate signed (an expired one still names
 * its client and session); a post-logout redirect URI must be registered by the client,
 * exactly, or nobody is sent there.
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
    ({ payload } = await jwtVerify(token, createLocalJWKSet(keySet as unknown as JSONWebKeySet), { issuer, algorithms: ['RS256'] }));
  } catch (error) {
    // The signature held and only the time is past: the hint still says who and where.
    if (error instanceof joseErrors.JWTExpired && error.payload.iss === issuer) payload = error.payload;
    else return null;
  }
  const audience = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const clientId = audience.length === 1 ? audience[0] : undefined;
  if (typeof clientId !== 'string' || !isUuid(clientId) || typeof payload.sub !== 'string') return null;
  return { clientId, subject: payload.sub, sid: typeof payload.sid === 'string' ? payload.sid : null };
}

export type LogoutProblem = 'invalid_hint' | 'client_mismatch' | 'unregistered_redirect' | 'repeated_parameter';

export interface LogoutRequest {
  readonly hint: IdTokenHint | null;
  readonly app: App | null;
  /** Where to send the person afterwards (registered by `app`), or null: Keygate says it is done. */
  readonly postLogoutRedirectUri: string | null;
  readonly state: string | null;
}

const single = (params: Readonly<Record<string, unknown>>, name: string): string | null | undefined => {
  const value = params[name];
  if (value === undefined || value === '') return null;
  return typeof value === 'string' ? value : undefined;
};

/** Checks a logout request; a problem is shown on a page, never answered by a redirect. */
export async function checkLogoutRequest(
  params: Readonly<Record<string, unknown>>,
  context: { keySet: () => Promise<{ keys: ReadonlyArray<Readonly<Record<string, string>>> }>; issuer: string; findApp: (id: string) => Promise<App | null> },
): Promise<{ ok: true; request: LogoutRequest } | { ok: false; problem: LogoutProblem }> {
  const [hintValue, clientIdValue, redirectValue, stateValue] = ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state'].map((name) => single(params, name));
  if (hintValue === undefined || clientIdValue === undefined || redirectValue === undefined || stateValue === undefined) return { ok: false, problem: 'repeated_parameter' };
  const hint = hintValue === null ? null : await readIdTokenHint(hintValue, await context.keySet(), context.issuer);
  if (hintValue !== null && !hint) return { ok: false, problem: 'invalid_hint' };
  if (hint && clientIdValue !== null && clientIdValue.toLowerCase() !== hint.clientId) return { ok: false, problem: 'client_mismatch' };
  const clientId = hint?.clientId ?? clientIdValue?.toLowerCase() ?? null;
  const app = clientId && isUuid(clientId) ? await context.findApp(clientId) : null;
  if (redirectValue !== null && !(app?.postLogoutRedirectUris.includes(redirectValue))) return { ok: false, problem: 'unregistered_redirect' };
  return { ok: true, request: { hint, app, postLogoutRedirectUri: redirectValue, state: stateValue !== null && stateValue.length <= 2048 ? stateValue : null } };
}
