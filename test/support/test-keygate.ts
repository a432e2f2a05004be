import type { ZoneMoveFaults } from '../../src/domain/zones/zone-move.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import type { Clock } from '../../src/domain/clock.js';
import { createKeygate, type Keygate } from '../../src/keygate.js';
import type { StoreLocation, StoreName } from '../../src/storage/stores.js';
import { createPostgresStores } from './postgres-stores.js';
import { memoryStoreLocations } from './store-templates.js';
import { Outbox } from './mailbox.js';

/** A clock the test moves by hand. */
export class TestClock implements Clock {
  #now = Date.now();
  now(): Date {
    return new Date(this.#now);
  }
  advance(seconds: number): void {
    this.#now += seconds * 1000;
  }
}

export interface TestKeygate extends Keygate {
  readonly clock: TestClock;
  readonly dataDir: string;
  /** Mail the server sent (no SMTP is set, so it lands in the data directory's outbox). */
  readonly outbox: Outbox;
}

export interface TestKeygateOptions {
  /** Store locations; defaults to in-memory clones of the migrated templates. */
  readonly storeLocations?: Record<StoreName, StoreLocation>;
  readonly env?: Record<string, string>;
  readonly dataDir?: string;
  /** A logger to capture what the server logs (silent otherwise). */
  readonly logger?: Logger;
  readonly zoneMoveFaults?: ZoneMoveFaults;
}

const randomKey = () => randomBytes(32).toString('base64');

/** The real composition root with test keys, a movable clock and fresh stores. */
export async function startTestKeygate(options: TestKeygateOptions = {}): Promise<TestKeygate> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'keygate-test-'));
  const config = loadConfig({
    KEYGATE_DATA_DIR: dataDir,
    KEYGATE_PUBLIC_URL: 'http://localhost:8080',
    KEYGATE_LOG_LEVEL: 'silent',
    KEYGATE_MASTER_KEY_CONTROL: randomKey(),
    KEYGATE_MASTER_KEY_EU: randomKey(),
    KEYGATE_MASTER_KEY_US: randomKey(),
    KEYGATE_INDEX_KEY_EU: randomKey(),
    KEYGATE_INDEX_KEY_US: randomKey(),
    KEYGATE_INDEX_KEY_CONTROL: randomKey(),
    // With KEYGATE_TEST_REDIS_URL set, shared state goes to Redis, under a prefix of its own.
    ...(process.env.KEYGATE_TEST_REDIS_URL
      ? { KEYGATE_REDIS_URL: process.env.KEYGATE_TEST_REDIS_URL, KEYGATE_REDIS_PREFIX: `kgtest:${randomBytes(6).toString('hex')}` }
      : {}),
    ...options.env,
  });
  const clock = new TestClock();
  // With KEYGATE_TEST_DATABASE_URL set, the same tests run on fresh PostgreSQL databases.
  const serverUrl = process.env.KEYGATE_TEST_DATABASE_URL;
  const postgres = !options.storeLocations && serverUrl ? await createPostgresStores(serverUrl) : undefined;
  const keygate = await createKeygate({
    config,
    clock,
    logger: options.logger,
    zoneMoveFaults: options.zoneMoveFaults,
    storeLocations: options.storeLocations ?? postgres?.locations ?? await memoryStoreLocations(),
  });
  return {
    ...keygate,
    clock,
    dataDir,
    outbox: new Outbox(dataDir),
    async close() {
      await keygate.close();
      await postgres?.drop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
