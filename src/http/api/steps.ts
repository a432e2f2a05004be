import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { isValidRequestSignature, requestDigest } from '../../crypto/app-keys.js';
import { isUuid, type App, type AppsService } from '../../domain/apps/apps-service.js';
import { KeygateError } from '../../domain/errors.js';
import { isBrowserOriginAllowed, isOriginAllowed, normaliseOrigin } from '../../domain/protection/origin.js';

/**
 * The named steps every Ukey1 v2 endpoint runs, in order. Each endpoint lists its steps
 * top to bottom, so its security checks can be read in one place:
 *
 * | endpoint              | identifyApp | allowCorsOrigin | verifySignature | enforceDomain | body | token    |
 * |-----------------------|-------------|-----------------|-----------------|---------------|------|----------|
 * | POST /connect         | yes         | yes             | yes             | yes           | yes  | no       |
 * | POST /token           | yes         | yes             | yes             | yes           | yes  | no       |
 * | POST /token/refresh   | yes         | yes             | yes             | yes           | yes  | no       |
 * | GET  /me              | yes         | yes             | yes             | yes           | no   | required |
 * | GET  /system/scopes   | yes         | yes             | yes             | yes           | no   | optional |
 */

const CORS_ALLOWED_HEADERS = 'Authorization, Content-Type, X-Ukey1-App, X-Ukey1-Signature, X-Origin, User-Agent';
const CORS_ALLOWED_METHODS = 'GET, POST, DELETE, OPTIONS';

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** Which app is calling: the `X-Ukey1-App` header names it, the control plane must know it. */
export async function identifyApp(request: FastifyRequest, apps: AppsService): Promise<App> {
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

/**
 * A browser may read our answer only when the page's origin is one the app listed.
 * Set before any later step can fail, so the browser app can read the error too.
 */
export function allowCorsOrigin(request: FastifyRequest, reply: FastifyReply, app: App): void {
  const origin = header(request, 'origin');
  if (origin !== undefined && isBrowserOriginAllowed(origin, app.origins)) setCorsHeaders(reply, origin);
}

/**
 * Answers a CORS preflight. It names no app, so it is allowed for an origin that some
 * app lists; the real request is then checked against that app's own list.
 */
export async function answerPreflight(request: FastifyRequest, reply: FastifyReply, apps: AppsService): Promise<boolean> {
  const origin = header(request, 'origin');
  if (origin === undefined || normaliseOrigin(origin) !== origin || !(await apps.isOriginListedByAnyApp(origin))) return false;
  setCorsHeaders(reply, origin);
  reply.header('Access-Control-Allow-Methods', CORS_ALLOWED_METHODS);
  reply.header('Access-Control-Allow-Headers', CORS_ALLOWED_HEADERS);
  reply.header('Access-Control-Max-Age', '600');
  return true;
}

export function readBearerToken(request: FastifyRequest): string | undefined {
  const authorization = header(request, 'authorization');
  if (authorization === undefined) return undefined;
  const match = /^Bearer ([A-Za-z0-9_\-.~+/=]{1,8192})$/.exec(authorization.trim());
  if (!match) throw new KeygateError('invalid_token', 'The Authorization header must be "Bearer <access token>".');
  return match[1];
}

/**
 * Verifies `X-Ukey1-Signature` when present (spec, "Request signature") over the raw
 * bytes received. Returns whether the call was signed; a bad signature is refused.
 */
export function verifySignature(request: FastifyRequest, app: App, endpointPath: string, accessToken?: string): boolean {
  const signature = header(request, 'x-ukey1-signature');
  if (signature === undefined) return false;
  const rawBody = Buffer.isBuffer(request.body) && request.body.length > 0 ? request.body : undefined;
  const digest = requestDigest({ appId: app.id, method: request.method, path: endpointPath, rawBody, accessToken });
  if (!isValidRequestSignature(app.privateKey, signature, digest)) throw new KeygateError('bad_signature');
  return true;
}

/**
 * Domain protection. An unsigned call can only be a browser's, so its `Origin` must be
 * listed. A signed call comes from the app's server; its `X-Origin` is chosen by the
 * caller, so it is a second fence behind the signature, checked when the app lists origins.
 */
export function enforceDomain(request: FastifyRequest, app: App, signed: boolean): void {
  if (signed) {
    if (app.origins.length > 0 && !isOriginAllowed(header(request, 'x-origin'), app.origins)) throw new KeygateError('origin_not_allowed');
    return;
  }
  if (!isBrowserOriginAllowed(header(request, 'origin'), app.origins)) throw new KeygateError('origin_not_allowed');
}

/**
 * The checks every endpoint runs before its own work, in the order of the table above.
 * Endpoints that take a bearer token read it after the CORS step, so a browser can read
 * the refusal of a malformed one; the token is part of what the signature covers.
 */
export async function admitCall(
  request: FastifyRequest,
  reply: FastifyReply,
  apps: AppsService,
  endpointPath: string,
  options: { bearerToken?: boolean } = {},
): Promise<{ app: App; accessToken?: string }> {
  const app = await identifyApp(request, apps);
  allowCorsOrigin(request, reply, app);
  const accessToken = options.bearerToken ? readBearerToken(request) : undefined;
  const signed = verifySignature(request, app, endpointPath, accessToken);
  enforceDomain(request, app, signed);
  return { app, accessToken };
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
    throw new KeygateError('invalid_json', 'The request body is not valid UTF-8.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KeygateError('invalid_json');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
    throw new KeygateError('invalid_request', `Invalid ${where}: ${issue.message}`);
  }
  return parsed.data;
}
