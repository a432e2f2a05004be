// What the benchmark's clients share: the app's origin and return URL, the request
// signature of the Ukey1 v2 API and the gateway's forms, as a browser and an app send them.
import { constants, createHash, publicEncrypt, randomBytes } from 'node:crypto';

export const ORIGIN = 'https://bench.example.org';
export const RETURN_URL = `${ORIGIN}/back/`;
export const PASSWORD = 'bench password 1234';
export const FIELDS = ['firstname', 'surname', 'email', 'country'];
/** Where the app, as an OpenID Connect client, takes people back to. */
export const OIDC_REDIRECT_URI = `${ORIGIN}/oidc/callback`;
/** The fields an OpenID Connect person grants: `profile` and `email` (four claims in userinfo, like /me's four fields). */
export const OIDC_FIELDS = ['firstname', 'surname', 'email', 'language'];

export interface Target {
  readonly name: string;
  readonly url: string;
  readonly appId: string;
  readonly secretKey: string;
  /** A pending connect whose gateway page takes sign-in posts. */
  connectId: string;
  /** People signed up through the gateway, with their country (US people live in the US zone), their browser's cookies and the forms' CSRF token. */
  people: Array<{ email: string; country: string; cookie: string; csrf: string; device: string }>;
  /** A CSRF cookie and token for sign-in posts. */
  signInCsrf: { cookie: string; csrf: string };
  accessTokens: string[];
  refreshTokens: string[];
  /** The app's OpenID Connect client secret, and access tokens issued to it. */
  clientSecret: string;
  oidcAccessTokens: string[];
}

/** HTTP Basic client authentication at the token endpoint. */
export const clientBasic = (target: Target) => `Basic ${Buffer.from(`${target.appId}:${target.clientSecret}`).toString('base64')}`;

const pemOf = (secretKey: string) => `-----BEGIN PUBLIC KEY-----\n${secretKey.match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`;

function signature(target: Target, method: string, path: string, body = '', token = ''): string {
  const digest = createHash('sha512').update(target.appId + method + path + body + token).digest('hex');
  return encodeURIComponent(publicEncrypt({ key: pemOf(target.secretKey), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(digest)).toString('base64'));
}

export function signedHeaders(target: Target, method: string, path: string, body?: string, token?: string): Record<string, string> {
  const headers: Record<string, string> = {
    'x-ukey1-app': target.appId,
    'x-origin': ORIGIN,
    'x-ukey1-signature': signature(target, method, path, body, token),
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  return headers;
}

export async function api(target: Target, method: 'GET' | 'POST', path: string, body?: unknown, token?: string): Promise<any> {
  const raw = body === undefined ? undefined : JSON.stringify(body);
  const response = await fetch(`${target.url}${path}`, { method, headers: signedHeaders(target, method, path, raw, token), body: raw });
  return response.json();
}

/** Whether a `name=value` pair is Keygate's cookie `name` (with the `__Host-` prefix it has over HTTPS, or without). */
export const isCookie = (pair: string, name: string): boolean => pair.startsWith(`${name}=`) || pair.startsWith(`__Host-${name}=`);

/** Opens a gateway page as a new browser (or one holding `cookie`): the cookies it set and the token of its forms. */
export async function openPage(target: Target, path: string, cookie?: string): Promise<{ cookie: string; csrf: string }> {
  const response = await fetch(`${target.url}${path}`, cookie ? { headers: { cookie } } : {});
  const html = await response.text();
  return { cookie: response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '), csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '' };
}

export async function form(target: Target, path: string, fields: Record<string, string | string[]>, cookie?: string) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
  const response = await fetch(`${target.url}${path}`, {
    method: 'POST', redirect: 'manual', body: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
  });
  await response.arrayBuffer();
  return { status: response.status, location: response.headers.get('location') ?? '', cookies: response.headers.getSetCookie().map((c) => c.split(';')[0]!) };
}

export async function inParallel<T>(count: number, concurrency: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      results[i] = await work(i);
    }
  }));
  return results;
}

/** A fresh one-time code for a signed-in person: connect, then consent. */
export async function freshCode(target: Target, person: { cookie: string; csrf: string }, n: number) {
  const requestId = `code-${n}`;
  const connect = await api(target, 'POST', '/auth/v2/connect', { request_id: requestId, scope: FIELDS, return_url: RETURN_URL });
  const consent = await form(target, `/gateway/${connect.connect_id}/consent`, { decision: 'allow', fields: FIELDS, _csrf: person.csrf }, person.cookie);
  const code = new URL(consent.location).searchParams.get('_ukey1[code]') ?? '';
  return { requestId, connectId: connect.connect_id as string, code };
}

/**
 * A fresh OpenID Connect code for a signed-in person, as a relying party gets one: the
 * authorization request with PKCE, then the consent form; the code and its verifier.
 */
export async function freshOidcCode(target: Target, person: { cookie: string; csrf: string }) {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const query = new URLSearchParams({
    client_id: target.appId, redirect_uri: OIDC_REDIRECT_URI, response_type: 'code', scope: 'openid profile email', code_challenge: challenge, code_challenge_method: 'S256',
  });
  const started = await fetch(`${target.url}/oidc/authorize?${query}`, { redirect: 'manual', headers: { cookie: person.cookie } });
  await started.arrayBuffer();
  const gateway = new URL(started.headers.get('location') ?? '', target.url).pathname;
  const consent = await form(target, `${gateway}/consent`, { decision: 'allow', fields: OIDC_FIELDS, _csrf: person.csrf }, person.cookie);
  const code = consent.location ? new URL(consent.location).searchParams.get('code') ?? '' : '';
  if (!code) throw new Error(`no OpenID Connect code (${started.status} ${gateway}, consent ${consent.status})`);
  return { code, verifier };
}

/** The token request body for an OpenID Connect code. */
export const oidcTokenBody = (ticket: { code: string; verifier: string }) =>
  new URLSearchParams({ grant_type: 'authorization_code', code: ticket.code, redirect_uri: OIDC_REDIRECT_URI, code_verifier: ticket.verifier }).toString();
