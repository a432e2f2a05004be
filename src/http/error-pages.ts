import type { KeygateError } from '../domain/errors.js';
import { describeRefusal } from '../protocols/ukey1/errors.js';

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
