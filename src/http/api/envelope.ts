import type { FastifyReply } from 'fastify';
import { ERRORS, type ErrorCode } from '../../domain/errors.js';

/**
 * Every API answer carries `result` equal to the HTTP status: the SDKs check it. None may
 * be stored by a cache on the way: they carry tokens, codes and personal fields.
 */
export function sendResult(reply: FastifyReply, status: number, body: Record<string, unknown> = {}): FastifyReply {
  return reply.code(status).header('Cache-Control', 'no-store').type('application/json; charset=utf-8').send({ result: status, ...body });
}

export function sendError(reply: FastifyReply, code: ErrorCode, message?: string): FastifyReply {
  const status = ERRORS[code].status;
  return sendResult(reply, status, { debug: { code, message: message ?? ERRORS[code].message } });
}
