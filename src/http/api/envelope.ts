import type { FastifyReply } from 'fastify';
import type { KeygateError } from '../../domain/errors.js';
import { describeRefusal, UKEY1_ERRORS, type Ukey1ErrorCode } from '../../protocols/ukey1/errors.js';

/**
 * Every API answer carries `result` equal to the HTTP status: the SDKs check it. None may
 * be stored by a cache on the way: they carry tokens, codes and personal fields.
 */
export function sendResult(reply: FastifyReply, status: number, body: Record<string, unknown> = {}): FastifyReply {
  return reply.code(status).header('Cache-Control', 'no-store').type('application/json; charset=utf-8').send({ result: status, ...body });
}

export function sendError(reply: FastifyReply, code: Ukey1ErrorCode, message?: string): FastifyReply {
  const status = UKEY1_ERRORS[code].status;
  return sendResult(reply, status, { debug: { code, message: message ?? UKEY1_ERRORS[code].message } });
}

/** Answers a domain refusal in the envelope, with `Retry-After` when it says how long to wait. */
export function sendRefusal(reply: FastifyReply, error: KeygateError): FastifyReply {
  const refusal = describeRefusal(error);
  if (refusal.retryAfterSeconds !== undefined) reply.header('Retry-After', String(refusal.retryAfterSeconds));
  return sendResult(reply, refusal.status, { debug: { code: refusal.code, message: refusal.message } });
}
