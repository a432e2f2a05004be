import type { Kysely, Transaction } from 'kysely';

/**
 * Whether an error means "the database cannot be reached right now" (server down,
 * restarting, refusing connections, or a statement cut off by its timeout) rather than
 * a bug. Such requests get a fast 503 and the pool reconnects by itself later.
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up or shutting down)
  '57014', // query_canceled: statement_timeout
  '53300', // too_many_connections
  '08000', '08001', '08003', '08004', '08006', // connection exceptions
]);

const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection ended unexpectedly/i;

export function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  if (error instanceof AggregateError) return error.errors.some(isStoreUnavailable);
  return UNAVAILABLE_MESSAGES.test(error.message);
}

/** What kind of failure a store reported, for counting (never its message, which may quote values). */
export type StoreErrorKind = 'unavailable' | 'constraint' | 'statement' | 'connect' | 'connection_lost';

/** Sorts a failed statement: the store could not be reached, a constraint refused it (often expected), or anything else. */
export function storeErrorKind(error: unknown): Extract<StoreErrorKind, 'unavailable' | 'constraint' | 'statement'> {
  if (isStoreUnavailable(error)) return 'unavailable';
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('23') ? 'constraint' : 'statement';
}

/**
 * Whether a statement was refused by a unique index (SQLSTATE 23505, the same on PGlite):
 * the expected answer to "this address is taken" or "this request was decided already"
 * when two requests race, so the caller turns it into an outcome, not an error.
 */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

/**
 * Runs `work` on the writes of one transaction (`writesOf` binds them to it), turning a
 * unique violation into the domain's refusal for it.
 */
export async function transactionRefusingDuplicates<DB, W, T>(
  db: Kysely<DB>, writesOf: (trx: Transaction<DB>) => W, work: (writes: W) => Promise<T>, refusal: (cause: unknown) => Error,
): Promise<T> {
  try {
    return await db.transaction().execute((trx) => work(writesOf(trx)));
  } catch (error) {
    throw isUniqueViolation(error) ? refusal(error) : error;
  }
}
