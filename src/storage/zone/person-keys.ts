import type { Kysely, Transaction } from 'kysely';
import type { WrappedDataKey } from '../../crypto/key-ring.js';
import type { ZoneDatabase } from '../schema.js';

/** A person's data key as their zone keeps it, wrapped by the zone's master key; null once erased. */
export async function wrappedDataKeyOf(db: Kysely<ZoneDatabase> | Transaction<ZoneDatabase>, personId: string): Promise<WrappedDataKey | null> {
  const key = await db.selectFrom('person_keys').select(['master_key_id', 'wrapped_key']).where('person_id', '=', personId).executeTakeFirst();
  return key ? { masterKeyId: key.master_key_id, wrappedKey: key.wrapped_key } : null;
}
