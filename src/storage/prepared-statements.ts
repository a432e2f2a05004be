import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type pg from 'pg';

/**
 * Marks a statement of a hot path (anywhere in its text: first in raw SQL, or through
 * `modifyFront` on a query builder): on PostgreSQL it is then prepared once per
 * connection and its plan kept, instead of being planned on every call. Only for statements whose text never varies (lists go in array parameters),
 * so that each connection holds a handful of them. Embedded stores ignore it (a comment).
 */
const MARK = '/* keygate:prepared */';
export const PREPARED = sql.raw(`${MARK} `);

/** The name a marked statement is prepared under: the same on every connection and node. */
export function preparedName(text: string): string {
  return `keygate_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
}

type Query = (...args: unknown[]) => unknown;
const PREPARING = Symbol('keygate.preparing');

/**
 * A pool for Kysely's PostgreSQL dialect whose clients send marked statements as named
 * (prepared) statements; everything else passes through unchanged.
 */
export function preparingPool(pool: pg.Pool): pg.Pool {
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property !== 'connect') return Reflect.get(target, property, receiver);
      return async () => {
        const client = await connect();
        const marked = client as pg.PoolClient & { [PREPARING]?: true };
        if (!marked[PREPARING]) {
          const query = client.query.bind(client) as Query;
          (client as unknown as { query: Query }).query = (text: unknown, values?: unknown, ...rest: unknown[]) =>
            typeof text === 'string' && text.includes(MARK)
              ? query({ name: preparedName(text), text, values }, ...rest)
              : query(text, values, ...rest);
          marked[PREPARING] = true;
        }
        return client;
      };
    },
  });
}
