import { unwrapDataKey, type WrappedDataKey } from '../../crypto/key-ring.js';
import type { Zone } from '../zones/zone-registry.js';

/** Whatever reads a person's wrapped data key: a zone's store, or a transaction of it. */
export interface DataKeySource {
  wrappedDataKey(personId: string): Promise<WrappedDataKey | null>;
}

/** The person's data key, unwrapped by their zone's master key; null once it is gone (erased). */
export async function openDataKey(source: DataKeySource, zone: Pick<Zone, 'ring'>, personId: string): Promise<Buffer | null> {
  const wrapped = await source.wrappedDataKey(personId);
  return wrapped && unwrapDataKey(zone.ring, personId, wrapped);
}

/** Like `openDataKey`, for a person who must exist. */
export async function requireDataKey(source: DataKeySource, zone: Pick<Zone, 'ring'>, personId: string): Promise<Buffer> {
  const dataKey = await openDataKey(source, zone, personId);
  if (!dataKey) throw new Error('the person has no data key');
  return dataKey;
}
