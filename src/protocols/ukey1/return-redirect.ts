import type { KeyObject } from 'node:crypto';
import { signSha512 } from '../../crypto/app-keys.js';
import type { App } from '../../domain/apps/app.js';
import type { ConnectRequest } from '../../domain/connect/connect-service.js';
import type { ConnectDecision } from '../../domain/consent/consent-service.js';

/** What the redirect signature covers (spec, "Gateway → return URL"). */
export interface RedirectFields {
  readonly appId: string;
  readonly requestId: string;
  readonly connectId: string;
  readonly code: string;
  readonly result: string;
}

/**
 * Ukey1 v2 redirect signature: base64 of RSA PKCS#1 v1.5 SHA-512 over
 * `appId + request_id + connect_id + code + result`.
 */
export function signRedirect(privateKey: KeyObject, fields: RedirectFields): string {
  const data = Buffer.from(fields.appId + fields.requestId + fields.connectId + fields.code + fields.result, 'utf8');
  return signSha512(privateKey, data).toString('base64');
}

/** The key pair the app's server used to open the request, while it lives; otherwise the current one. */
const signingKeyFor = (app: App, connect: ConnectRequest) =>
  (app.keys.find((key) => key.id === connect.keyId) ?? app.keys[0]!).privateKey;

/**
 * The URL the person is sent back to (spec, "Gateway → return URL"): the app's return
 * URL with its own path, query and fragment kept, and the `_ukey1[…]` parameters added
 * before the fragment, signed with the app's private key. The code is empty unless the
 * request was authorized.
 */
export function buildReturnRedirect(app: App, connect: ConnectRequest, decision: ConnectDecision): string {
  const { result } = decision;
  const code = decision.result === 'authorized' ? decision.code : '';
  const url = new URL(connect.returnUrl);
  const requestId = connect.requestId ?? '';
  const fields = { appId: app.id, requestId, connectId: connect.id, code, result };
  const params: Array<[string, string]> = [
    ['_ukey1[request_id]', requestId],
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
