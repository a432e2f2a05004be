import { decryptFieldText } from '../../crypto/field-cipher.js';
import { unwrapDataKey } from '../../crypto/key-ring.js';
import type { Actor } from '../audit/audit-log.js';
import type { FieldCode } from '../consent/fields.js';
import { sealedAt, type PersonSealedColumn } from '../residency/person-data.js';
import type { PersonRef, Zone, ZoneRegistry } from '../zones/zone-registry.js';
import { readOwnSealedField } from './own-field.js';
import { PERSON_FIELD_COLUMNS, type PersonWrites, type SealedPerson } from './person-store.js';

/** Decrypted profile values, by field. */
export type Profile = Partial<Record<FieldCode, string | null>>;

const personField = (personId: string, column: PersonSealedColumn) => sealedAt('people', column, personId);

/** Opens a person's sealed fields, each read recorded in the transaction that reads it. */
export class PersonProfiles {
  readonly #zones: ZoneRegistry;

  constructor(options: { readonly zones: ZoneRegistry }) {
    this.#zones = options.zones;
  }

  /** Reads fields of a person in its own transaction, audited (see `readFields`). */
  async readFieldsOf(person: PersonRef, fields: readonly FieldCode[], reader: Actor, purpose: string): Promise<Profile | null> {
    const zone = this.#zones.get(person.zone);
    return zone.people.transaction((writes) => this.readFields(writes, zone, person.id, fields, reader, purpose));
  }

  /** Decrypts the given fields of a loaded person; the caller records the read. */
  openFields(zone: Zone, sealed: SealedPerson, fields: readonly FieldCode[]): Profile {
    const dataKey = unwrapDataKey(zone.ring, sealed.id, { masterKeyId: sealed.master_key_id, wrappedKey: sealed.wrapped_key });
    const profile: Profile = {};
    for (const field of fields) {
      const column = PERSON_FIELD_COLUMNS[field];
      const value = sealed[column];
      profile[field] = value ? decryptFieldText(dataKey, personField(sealed.id, column), value) : null;
    }
    return profile;
  }

  /**
   * Decrypts the given fields of a person and records one audit event per field read,
   * in the caller's transaction. Returns null when the person no longer exists.
   */
  async readFields(writes: PersonWrites, zone: Zone, personId: string, fields: readonly FieldCode[], reader: Actor, purpose: string): Promise<Profile | null> {
    const row = await writes.sealedPerson(personId);
    if (!row) return null;
    const profile = this.openFields(zone, row, fields);
    await writes.audit(reader, fields.map((field) => ({ action: 'field.read', personId, field, purpose })));
    return profile;
  }

  /** The person's own nickname, decrypted (an audited read by the person). */
  async nicknameOf(person: PersonRef): Promise<string | null> {
    const nickname = await readOwnSealedField(this.#zones.get(person.zone), person, 'nickname_ct', { field: 'nickname', purpose: 'account settings' });
    return nickname ? nickname.toString('utf8') : null;
  }
}
