import type { FastifyReply, FastifyRequest } from 'fastify';
import { KeygateError } from '../../domain/errors.js';
import { describeRefusal } from '../../protocols/ukey1/errors.js';
import { isStoreUnavailable } from '../../storage/availability.js';
import { messagePage } from './layout.js';
import { sendPage, sendUnavailablePage } from './send-page.js';

/** Anything thrown on a page becomes a page; unexpected errors show a reference, never their detail. */
export function pageErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof KeygateError) {
    const { status, message } = pageError(error);
    return sendPage(reply, status, messagePage('Something is not right', message));
  }
  if (isStoreUnavailable(error)) {
    request.log.warn({ err: (error as Error).message }, 'a store is unavailable');
    return sendUnavailablePage(reply);
  }
  const status = (error as { statusCode?: number }).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return sendPage(reply, status, messagePage('Request refused', 'The form could not be read. Go back and try again.'));
  }
  request.log.error({ err: error }, 'unexpected error on a page');
  return sendPage(reply, 500, messagePage('Something went wrong', `Please try again. If it keeps happening, quote this reference: ${request.id}`));
}

/** A refusal as a page shows it: the status to answer with and a sentence a person can read. */
export interface PageError {
  readonly status: number;
  readonly message: string;
}

/**
 * How a domain refusal reads on a page. Pages word a refusal as the API's `debug.message`
 * does, so that the same refusal reads the same wherever a person or a developer meets it;
 * no code that reaches a page names a protocol header.
 */
export function pageError(error: KeygateError): PageError {
  const { status, message } = describeRefusal(error);
  return { status, message };
}
