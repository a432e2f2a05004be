import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { isUuid, withSigningKey, type App, type AppKey } from '../../domain/apps/app.js';
import type { AppDirectory } from '../../domain/apps/app-directory.js';
import type { AppsService } from '../../domain/apps/apps-service.js';
import { isAddressAllowed } from '../../domain/protection/ip.js';
import type { Services } from '../../domain/services.js';
import { KeygateError } from '../../domain/errors.js';
import type { ClientAddress } from '../client-address.js';
import { isBrowserOriginAllowed, isOriginAllowed, normaliseOrigin } from '../../domain/protection/origin.js';
import { findSigningKey } from '../../protocols/ukey1/request-signature.js';
import type { Ukey1ErrorCode } from '../../protocols/ukey1/errors.js';

/**
 * The named steps every Ukey1 v2 endpoint runs, in order (`admitCall`), so that the
 * security checks of every endpoint can be read in one place:
 *
 * 1. identifyApp         `X-Ukey1-App` names a known app (then counted against its rate limit)
 * 2. requireSignature    server-only apps refuse unsigned calls (and give them no CORS headers)
 * 3. allowCorsOrigin     a browser may read the answer only from a listed origin
 * 4. readBearerToken     on /me and /system/scopes
 * 5. verifySignature     RSA-OAEP over the raw request, with any live key pair of the app
 * 6. guardPrivileged     privileged calls (they change the app's state) are signed, with IP protection on
 * 7. enforceIp           IP protection, on the client address (trusted proxies only)
 * 8. enforceDomain       domain protection: listed `Origin` (browser) or `X-Origin` (server)
 */

const CORS_ALLOWED_HEADERS = 'Authorization, Content-Type, X-Ukey1-App, X-Ukey1-Signature, X-Origin, User-Agent';
const CORS_ALLOWED_METHODS = 'GET, POST, DELETE, OPTIONS';

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** Which app is calling: the `X-Ukey1-App` header names it, the control plane must know it. */
export async function identifyApp(request: FastifyRequest, apps: AppDirectory): Promise<App> {
  const appId = header(request, 'x-ukey1-app')?.trim();
  if (!appId) throw new KeygateError('missing_app_id');
  if (!isUuid(appId)) throw new KeygateError('invalid_app_id');
  const app = await apps.findApp(appId);
  if (!app) throw new KeygateError('unknown_app');
  return app;
}

function setCorsHeaders(reply: FastifyReply, origin: string): void {
  reply.header('Access-Control-Allow-Origin', origin);
  reply.header('Vary', 'Origin');
}

/** An unsigned call can only come from a browser, which a server-only app does not serve. */
export function requireSignature(request: FastifyRequest, app: App): void {
  if (app.protections.serverOnly && header(request, 'x-ukey1-signature') === undefined) throw new KeygateError('signature_required');
}

/**
 * A browser may read our answer only when the page's origin is one the app listed, or
 * from anywhere (`*`, never an echo) when the app turned domain protection off. Set
 * before any later step can fail, so the browser app can read the error too.
 */
export function allowCorsOrigin(request: FastifyRequest, reply: FastifyReply, app: App): void {
  const origin = header(request, 'origin');
  if (origin === undefined) return;
  if (isBrowserOriginAllowed(origin, app.origins)) setCorsHeaders(reply, origin);
  else if (!app.protections.domain) reply.header('Access-Control-Allow-Origin', '*');
}

/**
 * Answers a CORS preflight. It names no app, so it is allowed for an origin that some
 * app lists (or for any origin, with `*`, while some browser-callable app has domain
 * protection off); the real request is then checked against that app's own settings.
 */
export async function answerPreflight(request: FastifyRequest, reply: FastifyReply, apps: AppDirectory): Promise<boolean> {
  const origin = header(request, 'origin');
  if (origin === undefined || normaliseOrigin(origin) !== origin) return false;
  if (await apps.isOriginListedByAnyApp(origin)) setCorsHeaders(reply, origin);
  else if (await apps.anyAppOpenToEveryOrigin()) reply.header('Access-Control-Allow-Origin', '*');
  else return false;
  reply.header('Access-Control-Allow-Methods', CORS_ALLOWED_METHODS);
  reply.header('Access-Control-Allow-Headers', CORS_ALLOWED_HEADERS);
  reply.header('Access-Control-Max-Age', '600');
  return true;
}

export function readBearerToken(request: FastifyRequest): string | undefined {
  const authorization = header(request, 'authorization');
  if (authorization === undefined) return undefined;
  const match = /^Bearer ([A-Za-z0-9_\-.~+/=]{1,8192})$/.exec(authorization.trim());
  if (!match) throw new KeygateError('invalid_token', { reason: 'malformed_authorization' });
  return match[1];
}

/**
 * Verifies `X-Ukey1-Signature` when present (spec, "Request signature") over the raw
 * bytes received, with the current key pair or one still in its grace period. Returns
 * the key pair that matched (null when the call was unsigned); a bad signature is refused.
 */
export function verifySignature(request: FastifyRequest, app: App, endpointPath: string, accessToken?: string): AppKey | null {
  const signature = header(request, 'x-ukey1-signature');
  if (signature === undefined) return null;
  const rawBody = Buffer.isBuffer(request.body) && request.body.length > 0 ? request.body : undefined;
  const key = findSigningKey(app, signature, { method: request.method, path: endpointPath, rawBody, accessToken });
  if (!key) throw new KeygateError('bad_signature');
  return key;
}

/**
 * A call that changes the app's state (its private-app list) comes from the app's server,
 * so it is signed, whatever the server-only setting: no web page a listed network's
 * browser opens can make it. And it must be fenced by IP protection, because the
 * signature alone proves nothing: the Secret Key is the app's public key, and anyone
 * holding two of the PKCS#1 v1.5 signatures Keygate must publish for the app (redirects,
 * access tokens) can compute it. Only the caller's network address, checked next by
 * `enforceIp`, tells the app's server from anyone else.
 */
export function guardPrivileged(app: App, signed: boolean): void {
  if (!signed) throw new KeygateError('signature_required');
  if (!app.protections.ip) throw new KeygateError('ip_protection_required');
}

/** IP protection: the caller's address (see `ClientAddress`) must be listed; unknown is refused. */
export function enforceIp(app: App, clientAddress: string | null): void {
  if (app.protections.ip && !isAddressAllowed(clientAddress, app.ipEntries)) throw new KeygateError('ip_not_allowed');
}

/**
 * Domain protection. An unsigned call can only be a browser's, so its `Origin` must be
 * listed. A signed call claims to come from the app's server; its `X-Origin` is chosen
 * by the caller, and so is the signature by anyone who computed the Secret Key: both are
 * fences, and only IP protection (`enforceIp`) tells the app's server from anyone else.
 */
export function enforceDomain(request: FastifyRequest, app: App, signed: boolean): void {
  if (!app.protections.domain) return;
  if (signed) {
    if (!isOriginAllowed(header(request, 'x-origin'), app.origins)) throw new KeygateError('origin_not_allowed');
    return;
  }
  if (!isBrowserOriginAllowed(header(request, 'origin'), app.origins)) throw new KeygateError('origin_not_allowed');
}

/** Which of the optional steps an endpoint runs: 4 (`bearerToken`) and 6 (`privileged`). */
export interface AdmissionOptions {
  readonly bearerToken?: boolean;
  readonly privileged?: boolean;
}

/**
 * What any call on the API can be answered with, before or beside its steps: a malformed
 * URL (`invalid_request`), a store that does not answer, anything unexpected (see the
 * API's error handler in `../server.ts`).
 */
export const EVERY_CALL_REFUSALS: readonly Ukey1ErrorCode[] = ['invalid_request', 'store_unavailable', 'internal_error'];

/** What reading a JSON body (`parseJsonBody`, and Fastify's reading of the bytes before it) can refuse. */
export const BODY_REFUSALS: readonly Ukey1ErrorCode[] = ['invalid_json', 'invalid_request', 'body_too_large', 'unsupported_media_type'];

/** What `admitCall` with `options` can refuse, step by step; the OpenAPI document lists them. */
export function admissionRefusals(options: AdmissionOptions = {}): Ukey1ErrorCode[] {
  return [
    'missing_app_id', 'invalid_app_id', 'unknown_app', // 1
    'too_many_requests', // the app's rate limit
    'signature_required', // 2
    ...(options.bearerToken ? ['invalid_token' as const] : []), // 4
    'bad_signature', // 5
    ...(options.privileged ? ['signature_required' as const, 'ip_protection_required' as const] : []), // 6
    'ip_not_allowed', // 7
    'origin_not_allowed', // 8
  ];
}

/**
 * The checks every endpoint runs before its own work, in the order listed above;
 * `privileged` marks a call that changes the app's state (step 6). The
 * app comes back as the caller sees it: what we sign for a signed call (JWT) uses the
 * key pair the caller signed with, so a server still on its old key during a grace
 * period can verify it.
 */
export async function admitCall(
  request: FastifyRequest,
  reply: FastifyReply,
  { apps, appDirectory, appRateLimit }: Pick<Services, 'apps' | 'appDirectory' | 'appRateLimit'>,
  clientAddress: ClientAddress,
  endpointPath: string,
  options: AdmissionOptions = {},
): Promise<{ app: App; accessToken?: string; key: AppKey | null }> {
  const app = await identifyApp(request, appDirectory);
  await appRateLimit.admit(app.id);
  try {
    requireSignature(request, app);
    allowCorsOrigin(request, reply, app);
    const accessToken = options.bearerToken ? readBearerToken(request) : undefined;
    const key = verifySignature(request, app, endpointPath, accessToken);
    if (options.privileged) guardPrivileged(app, key !== null);
    enforceIp(app, clientAddress(request));
    enforceDomain(request, app, key !== null);
    return { app: key ? withSigningKey(app, key) : app, accessToken, key };
  } catch (error) {
    await recordIfAudited(request, apps, app.id, error);
    throw error;
  }
}

/**
 * Refusals recorded in the app's control-plane trail: by its protections (the code), and
 * of its codes and tokens (the code, prefixed `token.`).
 */
const PROTECTION_REFUSALS: ReadonlySet<string> = new Set(['origin_not_allowed', 'signature_required', 'ip_not_allowed', 'ip_protection_required', 'bad_signature', 'return_url_not_allowed']);
const TOKEN_REFUSALS: ReadonlySet<string> = new Set(['invalid_code', 'code_already_used', 'invalid_refresh_token', 'refresh_token_reused', 'invalid_token']);

/**
 * Records a refusal worth recording (app id, code, request id: no address, nothing about
 * the caller). Best effort: the caller gets its refusal even when the record cannot be written.
 */
export async function recordIfAudited(request: FastifyRequest, apps: AppsService, appId: string, error: unknown): Promise<void> {
  if (!(error instanceof KeygateError)) return;
  const detail = PROTECTION_REFUSALS.has(error.code) ? error.code : TOKEN_REFUSALS.has(error.code) ? `token.${error.code}` : null;
  if (!detail) return;
  try {
    await apps.recordRefusal(appId, detail, request.id);
  } catch (failure) {
    request.log.warn({ err: (failure as Error).message, appId, code: error.code }, 'could not record a refusal in the audit trail');
  }
}

/** Runs an endpoint's own work for `app`; a refusal worth recording is recorded, then answered. */
export async function recordingRefusals<T>(request: FastifyRequest, apps: AppsService, appId: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    await recordIfAudited(request, apps, appId, error);
    throw error;
  }
}

/**
 * Reads the body as JSON from the raw bytes whatever the Content-Type says (one
 * published client sends none) and validates it with `schema`.
 */
export function parseJsonBody<T extends z.ZodType>(request: FastifyRequest, schema: T): z.infer<T> {
  const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new KeygateError('invalid_json', { reason: 'not_utf8' });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KeygateError('invalid_json');
  }
  // PostgreSQL text cannot hold U+0000 or half a surrogate pair, and no field of the protocol needs them.
  if (hasUnstorableText(value)) throw new KeygateError('invalid_request', { field: 'body', reason: 'unstorable_text' });
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
    throw new KeygateError('invalid_request', { field: where, reason: 'schema', issue: issue.message });
  }
  return parsed.data;
}

// A lone surrogate (half of a UTF-16 pair) cannot be encoded as UTF-8.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isUnstorable = (text: string) => text.includes('\u0000') || LONE_SURROGATE.test(text);

function hasUnstorableText(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return isUnstorable(value);
  if (depth > 64 || value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, item]) => isUnstorable(key) || hasUnstorableText(item, depth + 1));
}
