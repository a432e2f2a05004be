import type { FastifyReply, FastifyRequest } from 'fastify';
import { KeygateError } from '../../domain/errors.js';
import type { MessageKey } from '../../i18n/en.js';
import { describeRefusal } from '../../protocols/ukey1/errors.js';
import { isStoreUnavailable } from '../../storage/availability.js';
import { messagePage } from './layout.js';
import { textsFor } from './page-language.js';
import { sendPage, sendUnavailablePage } from './send-page.js';
import type { Texts } from './texts.js';

/** Anything thrown on a page becomes a page; unexpected errors show a reference, never their detail. */
export function pageErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const t = textsFor(request);
  if (error instanceof KeygateError) {
    const { status, message } = pageError(error, t);
    return sendPage(reply, status, messagePage(t, t.t('page.refusal.title'), message));
  }
  if (isStoreUnavailable(error)) {
    request.log.warn({ err: (error as Error).message }, 'a store is unavailable');
    return sendUnavailablePage(reply, t);
  }
  const status = (error as { statusCode?: number }).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return sendPage(reply, status, messagePage(t, t.t('page.unreadable.title'), t.t('page.unreadable.message')));
  }
  request.log.error({ err: error }, 'unexpected error on a page');
  return sendPage(reply, 500, messagePage(t, t.t('page.failed.title'), t.t('page.failed.message', { reference: request.id })));
}

/** A refusal as a page shows it: the status to answer with and a sentence a person can read. */
export interface PageError {
  readonly status: number;
  readonly message: string;
}

/**
 * How a domain refusal reads on a page, in the page's language. The status is the one the
 * API answers with, so the same refusal means the same wherever a person or a developer
 * meets it; no wording that reaches a page names a protocol header.
 */
export function pageError(error: KeygateError, t: Texts): PageError {
  const { status } = describeRefusal(error);
  if (error.code === 'invalid_scope') {
    const { field, reason } = (error as KeygateError<'invalid_scope'>).details;
    return { status, message: t.t(`error.invalid_scope.${reason}`, { field: field.slice(0, 40) }) };
  }
  return { status, message: t.t(`error.${error.code}` as MessageKey) };
}
