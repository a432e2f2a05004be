import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { StoreLocation, StoreName } from '../../src/storage/stores.js';

/**
 * Fresh PostgreSQL databases (one per store) on the server named by a URL the tests may
 * create databases on. Returns their locations and a function that drops them.
 */
export async function createPostgresStores(serverUrl: string): Promise<{ locations: Record<StoreName, StoreLocation>; drop: () => Promise<void> }> {
  const suffix = randomBytes(6).toString('hex');
  const names: Record<StoreName, string> = { control: `kg_${suffix}_control`, eu: `kg_${suffix}_eu`, us: `kg_${suffix}_us` };
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    for (const name of Object.values(names)) await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const urlFor = (database: string) => {
    const url = new URL(serverUrl);
    url.pathname = `/${database}`;
    return url.toString();
  };
  return {
    locations: {
      control: { kind: 'postgres', url: urlFor(names.control) },
      eu: { kind: 'postgres', url: urlFor(names.eu) },
      us: { kind: 'postgres', url: urlFor(names.us) },
    },
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        for (const name of Object.values(names)) await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
