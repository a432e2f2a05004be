import { isUuid, type App } from '../../domain/apps/app.js';
import { isClientSecret } from '../../crypto/client-secret.js';
import { OAuthError } from './errors.js';

/**
 * Client authentication at the token endpoint (RFC 6749 §2.3, OpenID Connect Core §9):
 * exactly one method per request. A confidential client proves itself with its secret,
 * in the Basic header or in the form; a public client names itself and proves nothing
 * (PKCE binds its code instead).
 */

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface ClientCredentials {
  readonly clientId: string;
  readonly method: ClientAuthMethod;
  readonly secret: string | null;
}

const formValue = (form: Readonly<Record<string, unknown>>, name: string): string | null => {
  const value = form[name];
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string') throw new OAuthError('invalid_request', `${name} was sent more than once.`);
  return value;
};

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
export async function authenticateClient(credentials: ClientCredentials, findApp: (id: string) => Promise<App | null>): Promise<App> {
  const refused = new OAuthError('invalid_client', 'Client authentication failed.', 401);
  if (!isUuid(credentials.clientId)) throw refused;
  const app = await findApp(credentials.clientId.toLowerCase());
  if (!app) throw refused;
  if (app.publicClient) {
    if (credentials.method !== 'none') throw refused;
    return app;
  }
  if (credentials.method === 'none' || credentials.secret === null || !isClientSecret(credentials.secret, app.clientSecretHash)) throw refused;
  return app;
}
