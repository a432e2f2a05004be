import cookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Logger } from 'pino';
import { KeygateError } from '../domain/errors.js';
import type { Clock } from '../domain/clock.js';
import { isStoreUnavailable } from '../storage/availability.js';
import type { Services } from '../domain/services.js';
import { sendError, sendRefusal } from './api/envelope.js';
import { API_BODY_LIMIT, documentedEndpoints, ukey1V2Api } from './api/ukey1-v2.js';
import { buildOpenApiDocument } from '../protocols/ukey1/openapi.js';
import type { Ukey1AccessTokens } from '../protocols/ukey1/access-token.js';
import { createClientAddressResolver } from '../domain/protection/ip.js';
import { messagePage } from './kit/layout.js';
import { registerLanguageSwitch, textsFor } from './kit/page-language.js';
import { securityHeaders } from './security-headers.js';
import { sendPage, sendUnavailablePage } from './kit/send-page.js';
import { webPages } from './pages.js';
import { keySetRoutes } from './oidc/keys.js';
import { oidcEndpoints } from './oidc/endpoints.js';

export interface HttpServerOptions {
  readonly services: Services;
  /** How the Ukey1 API signs and verifies its access tokens. */
  readonly accessTokens: Ukey1AccessTokens;
  readonly publicUrl: string;
  /** What time the endpoints that check signed assertions take it to be. */
  readonly clock: Clock;
  readonly csrfKey: Buffer;
  readonly logger: Logger;
  /** Proxies whose `X-Forwarded-For` names the client (see `createClientAddressResolver`). */
  readonly trustedProxies?: readonly string[];
  /** Built-in TLS: serve HTTPS (HTTP/1.1) with this PEM certificate and key instead of plain HTTP. */
  readonly tls?: Readonly<{ cert: Buffer | string; key: Buffer | string }>;
}

/**
 * The policy of every answer that does not set its own: nothing may load and nothing may
 * frame it. Pages (`sendPage`) set a policy of their own, which this never replaces.
 */
export const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'";

const isApiPath = (url: string) => url.startsWith('/auth/');
/** The OpenID Connect endpoints clients call directly, which answer OAuth JSON (the authorization and end-session endpoints are pages). */
const isOAuthPath = (url: string) => /^\/(?:oidc\/(?!authorize|logout)|\.well-known\/)/.test(url);
const sendOAuthJson = (reply: FastifyReply, status: number, error: string, description: string) =>
  reply.code(status).header('Cache-Control', 'no-store').type('application/json; charset=utf-8').send({ error, error_description: description });

/** Maps anything thrown on the API to the Ukey1 envelope; unexpected errors never show their detail. */
function apiErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof KeygateError) return sendRefusal(reply, error);
  if (isStoreUnavailable(error)) {
    request.log.warn({ err: error.message }, 'a store is unavailable');
    return sendError(reply.header('Retry-After', '1'), 'store_unavailable');
  }
  const status = (error as FastifyError).statusCode;
  if (status === 413) return sendError(reply, 'body_too_large');
  if (status === 415) return sendError(reply, 'unsupported_media_type');
  if (status !== undefined && status >= 400 && status < 500) return sendError(reply, 'invalid_request');
  request.log.error({ err: error }, 'unexpected error on the API');
  return sendError(reply, 'internal_error', `Something went wrong on our side (request ${request.id}).`);
}

/** Builds the HTTP front-ends over the domain services: the Ukey1 v2 API and the gateway pages. */
export async function buildHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const fastifyOptions = {
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: API_BODY_LIMIT,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    trustProxy: false,
    // On shutdown: refuse new requests, let in-flight ones finish, drop idle keep-alives.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Errors before routing (a malformed percent-encoding in the path): our answer, not Fastify's.
    frameworkErrors: (_error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      if (isApiPath(request.url)) return sendError(reply, 'invalid_request', 'The URL is malformed.');
      if (isOAuthPath(request.url)) return sendOAuthJson(reply, 400, 'invalid_request', 'The URL is malformed.');
      const t = textsFor(request);
      return sendPage(reply, 400, messagePage(t, t.t('page.unreadable.title'), t.t('page.malformed.message')));
    },
  } as const;
  // An https.Server offers everything the rest of Keygate uses of the http.Server
  // (listen, closeIdleConnections, the request event), so one type serves both.
  const server = (options.tls
    ? Fastify({ ...fastifyOptions, https: { cert: options.tls.cert, key: options.tls.key } })
    : Fastify(fastifyOptions)) as unknown as FastifyInstance;

  // Browsers reach Keygate over HTTPS when its public URL says so, whether Keygate ends
  // TLS itself or a proxy in front does; only then is HSTS sent (never over plain HTTP).
  const publicHttps = new URL(options.publicUrl).protocol === 'https:';
  const security = securityHeaders({ hsts: publicHttps });
  server.addHook('onRequest', (_request, reply, done) => {
    reply.headers(security);
    done();
  });
  server.addHook('onSend', async (_request, reply) => {
    if (!reply.hasHeader('Content-Security-Policy')) reply.header('Content-Security-Policy', DEFAULT_CSP);
  });
  // Counted by the route's template: the path itself may hold a connect id or a capability
  // link, and counting paths would let any client create series at will.
  const { metrics } = options.services;
  server.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequest({ route: request.routeOptions.url ?? null, method: request.method, status: reply.statusCode, seconds: reply.elapsedTime / 1000 });
    done();
  });

  // Liveness says the process answers; readiness says every store and Redis answer too.
  server.get('/healthz', async () => ({ status: 'ok' }));
  server.get('/readyz', async (_request, reply) => {
    const readiness = await options.services.readiness();
    return reply.code(readiness.ready ? 200 : 503).send({ status: readiness.ready ? 'ready' : 'unavailable', checks: readiness.checks });
  });

  // The API's OpenAPI 3.1 description, generated once from the schemas and the endpoint
  // table the routes are built from. It holds nothing secret, so any page may read it, and
  // it changes only with a new version of Keygate.
  const openApiDocument = JSON.stringify(buildOpenApiDocument(options.publicUrl, documentedEndpoints()));
  server.get('/openapi.json', async (_request, reply) => reply
    .header('Cache-Control', 'public, max-age=300')
    .header('Access-Control-Allow-Origin', '*')
    .type('application/json; charset=utf-8')
    .send(openApiDocument));

  const resolveClient = createClientAddressResolver(options.trustedProxies ?? []);
  const clientAddress = (request: FastifyRequest) => resolveClient(request.socket.remoteAddress, request.headers['x-forwarded-for']);

  await server.register(cookie);
  registerLanguageSwitch(server, publicHttps);
  await server.register(async (api) => {
    api.setErrorHandler(apiErrorHandler);
    await ukey1V2Api(api, { services: options.services, clientAddress, accessTokens: options.accessTokens });
  });
  await server.register(keySetRoutes, { services: options.services });
  await server.register(oidcEndpoints, { services: options.services, issuer: options.publicUrl, clientAddress, clock: options.clock });
  await server.register(webPages, { services: options.services, publicUrl: options.publicUrl, csrfKey: options.csrfKey, clientAddress });

  server.setErrorHandler((error: FastifyError, request, reply) => {
    if (isApiPath(request.url)) return apiErrorHandler(error, request, reply);
    if (isOAuthPath(request.url)) {
      const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
      if (status === 500) request.log.error({ err: error }, 'unexpected error');
      return sendOAuthJson(reply, status, status === 500 ? 'server_error' : 'invalid_request', status === 500 ? `Something went wrong on our side (request ${request.id}).` : 'The request could not be read.');
    }
    const t = textsFor(request);
    if (isStoreUnavailable(error)) return sendUnavailablePage(reply, t);
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'unexpected error');
    return sendPage(reply, status, messagePage(t, t.t('page.unreadable.title'), t.t('page.unhandled.message')));
  });

  server.setNotFoundHandler((request, reply) => {
    if (isApiPath(request.url)) return sendError(reply, 'not_found', 'No such endpoint.');
    if (isOAuthPath(request.url)) return sendOAuthJson(reply, 404, 'invalid_request', 'No such endpoint, or not with this method.');
    const t = textsFor(request);
    return sendPage(reply, 404, messagePage(t, t.t('page.notFound.title'), t.t('page.notFound.message')));
  });

  return server;
}

/** The path and query of a request target: origin-form as it is, absolute-form reduced to them. */
function pathAndQuery(target: string | undefined): string {
  if (target?.startsWith('/')) return target;
  try {
    const url = new URL(target ?? '');
    return url.pathname.startsWith('/') ? `${url.pathname}${url.search}` : '/';
  } catch {
    return '/';
  }
}

/**
 * The plain-HTTP listener next to built-in TLS (`KEYGATE_HTTP_REDIRECT_PORT`): every request,
 * whatever its method, gets a 308 to the same path and query on the public https URL. The
 * target's origin is always the public URL's (never the request's Host), and nothing else
 * is served here: no page, no API, no HSTS (browsers ignore it over plain HTTP).
 */
export function buildHttpsRedirectServer(publicUrl: string): http.Server {
  const origin = new URL(publicUrl).origin;
  return http.createServer((request, response) => {
    response.writeHead(308, {
      Location: `${origin}${pathAndQuery(request.url)}`,
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      // The client goes on to the HTTPS port: nothing more will come on this connection.
      Connection: 'close',
    });
    response.end('Keygate answers over HTTPS only.\n');
  });
}
