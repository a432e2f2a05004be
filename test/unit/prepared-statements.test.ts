import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { PREPARED, preparedName, preparingPool } from '../../src/storage/prepared-statements.js';

describe('prepared statements of the hot paths', () => {
  it('names a marked statement after its text, the same everywhere', () => {
    const text = '/* keygate:prepared */ select 1';
    assert.equal(preparedName(text), preparedName(text));
    assert.notEqual(preparedName(text), preparedName(`${text} `));
    assert.match(preparedName(text), /^keygate_[0-9a-f]{24}$/);
  });

  it('sends marked statements as named ones and everything else unnamed', async () => {
    // A pool that records what its clients are asked, without a server.
    const sent: unknown[] = [];
    const client = { query: async (...args: unknown[]) => { sent.push(args[0]); return { rows: [], command: 'SELECT', rowCount: 0 }; }, release() {} };
    const fake = { connect: async () => client, end: async () => {}, on() { return fake; } } as unknown as pg.Pool;
    const db = new Kysely<{ t: { id: number } }>({ dialect: new PostgresDialect({ pool: preparingPool(fake) }) });
    await sql`${PREPARED}select ${1}::int as n`.execute(db);
    await db.selectFrom('t').modifyFront(PREPARED).select('id').where('id', '=', 2).execute();
    await sql`select ${3}::int as n`.execute(db);
    const [raw, built, plain] = sent;
    assert.deepEqual(raw, { name: preparedName('/* keygate:prepared */ select $1::int as n'), text: '/* keygate:prepared */ select $1::int as n', values: [1] });
    assert.equal((built as { name: string }).name, preparedName((built as { text: string }).text));
    assert.deepEqual((built as { values: unknown[] }).values, [2]);
    assert.equal(plain, 'select $1::int as n', 'an unmarked statement is passed on as it was');
    await db.destroy();
  });
});
