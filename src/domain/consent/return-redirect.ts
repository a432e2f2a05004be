import { signRedirect } from '../../crypto/app-keys.js';
import type { App } from '../apps/apps-service.js';
import type { ConnectRequest } from '../connect/connect-service.js';

/** The key pair the app's server used to open the request, while it lives; otherwise the current one. */
const signingKeyFor = (app: App, connect: ConnectRequest) =>
  (app.keys.find((key) => key.id === connect.keyId) ?? app.keys[0]!).privateKey;

export type ConnectResult = 'authorized' | 'canceled' | 'denied';

/**
 * The URL the person is sent back to (spec, "Gateway → return URL"): the app's return
 * URL with its own path, query and fragment kept, and the `_ukey1[…]` parameters added
 * before the fragment, signed with the app's private key.
 */
export function buildReturnRedirect(app: App, connect: ConnectRequest, result: ConnectResult, code = ''): string {
  const url = new URL(connect.returnUrl);
  const fields = { appId: app.id, requestId: connect.requestId, connectId: connect.id, code, result };
  const params: Array<[string, string]> = [
    ['_ukey1[request_id]', connect.requestId],
    ['_ukey1[connect_id]', connect.id],
    ['_ukey1[code]', code],
    ['_ukey1[result]', result],
    ['_ukey1[signature]', signRedirect(signingKeyFor(app, connect), fields)],
  ];
  // Percent-encode everything outside the unreserved set, so `+`, `/` and `=` of the
  // base64 signature survive both PHP's decoding and the browser SDKs' double decoding.
  const encode = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const added = params.map(([name, value]) => `${encode(name)}=${encode(value)}`).join('&');
  const search = url.search.length > 1 ? `${url.search}&${added}` : `?${added}`;
  return `${url.origin}${url.pathname}${search}${url.hash}`;
}
