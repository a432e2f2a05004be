import cookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { KeygateError } from '../domain/errors.js';
import { isStoreUnavailable } from '../storage/availability.js';
import type { Services } from '../domain/services.js';
import { sendError } from './api/envelope.js';
import { API_BODY_LIMIT, ukey1V2Api } from './api/ukey1-v2.js';
import { createClientAddressResolver } from '../domain/protection/ip.js';
import { webPages } from './web/web-pages.js';
import { sendPage, sendUnavailablePage } from './gateway/pages.js';
import { messagePage } from './gateway/views.js';

export interface HttpServerOptions {
  readonly services: Services;
  readonly publicUrl: string;
  readonly csrfKey: Buffer;
  readonly logger: Logger;
  /** Proxies whose `X-Forwarded-For` names the client (see `createClientAddressResolver`). */
  readonly trustedProxies?: readonly string[];
}

const isApiPath = (url: string) => url.startsWith('/auth/');

/** Maps anything thrown on the API to the Ukey1 envelope; unexpected errors never show their detail. */
function apiErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof KeygateError) return sendError(reply, error.code, error.message);
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
  const server = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: API_BODY_LIMIT,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    trustProxy: false,
    // On shutdown: refuse new requests, let in-flight ones finish, drop idle keep-alives.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  // Liveness says the process answers; readiness says every store and Redis answer too.
  server.get('/healthz', async () => ({ status: 'ok' }));
  server.get('/readyz', async (_request, reply) => {
    const readiness = await options.services.readiness();
    return reply.code(readiness.ready ? 200 : 503).send({ status: readiness.ready ? 'ready' : 'unavailable', checks: readiness.checks });
  });

  server.addHook('onSend', async (_request, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
  });

  const resolveClient = createClientAddressResolver(options.trustedProxies ?? []);
  const clientAddress = (request: FastifyRequest) => resolveClient(request.socket.remoteAddress, request.headers['x-forwarded-for']);

  await server.register(cookie);
  await server.register(async (api) => {
    api.setErrorHandler(apiErrorHandler);
    await ukey1V2Api(api, { services: options.services, clientAddress });
  });
  await server.register(webPages, { services: options.services, publicUrl: options.publicUrl, csrfKey: options.csrfKey, clientAddress });

  server.setErrorHandler((error: FastifyError, request, reply) => {
    if (isApiPath(request.url)) return apiErrorHandler(error, request, reply);
    if (isStoreUnavailable(error)) return sendUnavailablePage(reply);
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'unexpected error');
    return sendPage(reply, status, messagePage('Request refused', 'The request could not be handled.'));
  });

  server.setNotFoundHandler((request, reply) => {
    if (isApiPath(request.url)) return sendError(reply, 'not_found', 'No such endpoint.');
    return sendPage(reply, 404, messagePage('Page not found', 'There is nothing at this address.'));
  });

  return server;
}
