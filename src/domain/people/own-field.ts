import { decryptField } from '../../crypto/field-cipher.js';
import { unwrapDataKey } from '../../crypto/key-ring.js';
import { recordAudit } from '../../storage/audit-append.js';
import { sealedAt } from '../residency/person-data.js';
import type { PersonRef, Zone } from '../zones/zone-registry.js';

/**
 * Opens one sealed column of the person's own row for the person themselves, recording
 * the read in the same transaction; null when nothing is stored there.
 */
export async function readOwnSealedField(
  zone: Zone, person: PersonRef, column: 'nickname_ct' | 'image_ct', read: { field: string; purpose: string; requestId?: string },
): Promise<Buffer | null> {
  return zone.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('people').innerJoin('person_keys', 'person_keys.person_id', 'people.id')
      .select([`people.${column} as sealed`, 'person_keys.master_key_id', 'person_keys.wrapped_key']).where('people.id', '=', person.id).executeTakeFirst();
    if (!row?.sealed) return null;
    const dataKey = unwrapDataKey(zone.ring, person.id, { masterKeyId: row.master_key_id, wrappedKey: row.wrapped_key });
    await recordAudit(trx, { kind: 'person', id: person.id, requestId: read.requestId }, [{ action: 'field.read', personId: person.id, field: read.field, purpose: read.purpose }]);
    return decryptField(dataKey, sealedAt('people', column, person.id), row.sealed);
  });
}
