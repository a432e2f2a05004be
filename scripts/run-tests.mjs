#!/usr/bin/env node
// Runs the test files of the given folders with Node's test runner (TypeScript via tsx).
// Without arguments: the default suite, plus test/postgres when KEYGATE_TEST_DATABASE_URL
// names a PostgreSQL server the tests may create databases on.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const folders = process.argv.length > 2 ? process.argv.slice(2) : ['test/unit', 'test/storage', 'test/http', 'test/browser'];
if (process.argv.length <= 2 && process.env.KEYGATE_TEST_DATABASE_URL) folders.push('test/postgres');

const files = folders.flatMap((folder) => readdirSync(folder)
  .filter((name) => name.endsWith('.test.ts'))
  .sort()
  .map((name) => path.join(folder, name)));

console.log(`Running ${files.length} test files from ${folders.join(', ')}${process.env.KEYGATE_TEST_DATABASE_URL ? ' on PostgreSQL' : ' on embedded stores'}`);
// Fault tests stop and start the machine's shared services: one file at a time.
const concurrency = folders.includes('test/faults') ? 1 : 2;
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit' });
process.exit(run.status ?? 1);
