import type { FastifyRequest } from 'fastify';

/**
 * Resolves the client address of a request (socket, or `X-Forwarded-For` through trusted
 * proxies); null when it cannot be told. The API's IP protection and the pages share it.
 */
export type ClientAddress = (request: FastifyRequest) => string | null;
