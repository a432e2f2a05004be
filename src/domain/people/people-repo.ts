import type { Kysely, Transaction } from 'kysely';
import type { ZoneDatabase } from '../../storage/schema.js';
import { unwrapDataKey, type KeyRing } from '../../crypto/key-ring.js';
import { wrappedDataKeyOf } from '../../storage/zone/person-keys.js';

type ZoneDb = Kysely<ZoneDatabase> | Transaction<ZoneDatabase>;

/** The person's data key, unwrapped by their zone's master key; null when it is gone (erased). */
export async function openDataKey(db: ZoneDb, ring: KeyRing, personId: string): Promise<Buffer | null> {
  const key = await wrappedDataKeyOf(db, personId);
  return key ? unwrapDataKey(ring, personId, key) : null;
}

/** Like `openDataKey`, for a person who must exist. */
export async function requireDataKey(db: ZoneDb, ring: KeyRing, personId: string): Promise<Buffer> {
  const dataKey = await openDataKey(db, ring, personId);
  if (!dataKey) throw new Error('the person has no data key');
  return dataKey;
}
