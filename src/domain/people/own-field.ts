import { decryptField } from '../../crypto/field-cipher.js';
import { unwrapDataKey } from '../../crypto/key-ring.js';
import { sealedAt } from '../residency/person-data.js';
import type { PersonRef, Zone } from '../zones/zone-registry.js';

/**
 * Opens one sealed column of the person's own row for the person themselves, recording
 * the read in the same transaction; null when nothing is stored there.
 */
export async function readOwnSealedField(
  zone: Zone, person: PersonRef, column: 'nickname_ct' | 'image_ct', read: { field: string; purpose: string; requestId?: string },
): Promise<Buffer | null> {
  return zone.people.transaction(async (writes) => {
    const stored = await writes.sealedColumn(person.id, column);
    if (!stored) return null;
    const dataKey = unwrapDataKey(zone.ring, person.id, stored.key);
    await writes.audit({ kind: 'person', id: person.id, requestId: read.requestId }, [{ action: 'field.read', personId: person.id, field: read.field, purpose: read.purpose }]);
    return decryptField(dataKey, sealedAt('people', column, person.id), stored.sealed);
  });
}
