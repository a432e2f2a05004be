import { isUuid, type App } from '../../domain/apps/app.js';
import { readIdTokenHint, type IdTokenHint } from './id-token-hint.js';

/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): what a logout request
 * says, checked. An ID token hint must be one Keygate signed; a post-logout redirect URI
 * must be registered by the client, exactly, or nobody is sent there.
 */

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
