import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Bytes, PeopleTable, ZoneDatabase } from '../../storage/schema.js';
import { unwrapDataKey, type KeyRing } from '../../crypto/key-ring.js';
import { wrappedDataKeyOf } from '../../storage/zone/person-keys.js';

type ZoneDb = Kysely<ZoneDatabase> | Transaction<ZoneDatabase>;

/** A person's columns that hold a personal field, sealed under their data key. */
export const PERSON_FIELD_COLUMNS = {
  firstname: 'firstname_ct',
  surname: 'surname_ct',
  email: 'email_ct',
  image: 'image_ct',
  country: 'country_ct',
  language: 'language_ct',
} as const satisfies Record<string, keyof PeopleTable>;

export type NewPersonRow = Omit<Insertable<PeopleTable>, 'image_ct' | 'created_at'>;

export async function insertPerson(trx: ZoneDb, row: NewPersonRow, key: { masterKeyId: string; wrappedKey: Bytes }): Promise<void> {
  await trx.insertInto('people').values(row).execute();
  await trx.insertInto('person_keys').values({ person_id: row.id, master_key_id: key.masterKeyId, wrapped_key: key.wrappedKey }).execute();
}

/** The person whose blind index (of their email or nickname) is `value`, with their password hash. */
export async function findCredentialsByIndex(db: ZoneDb, column: 'email_index' | 'nickname_index', value: Bytes): Promise<{ id: string; password_hash: string } | undefined> {
  return db.selectFrom('people').select(['id', 'password_hash']).where(column, '=', value).executeTakeFirst();
}

export async function findSealedPerson(db: ZoneDb, personId: string) {
  return db.selectFrom('people')
    .innerJoin('person_keys', 'person_keys.person_id', 'people.id')
    .select([
      'people.id', 'people.firstname_ct', 'people.surname_ct', 'people.email_ct', 'people.image_ct',
      'people.country_ct', 'people.language_ct', 'person_keys.master_key_id', 'person_keys.wrapped_key',
    ])
    .where('people.id', '=', personId)
    .executeTakeFirst();
}


export async function updatePasswordHash(db: ZoneDb, personId: string, hash: string): Promise<void> {
  await db.updateTable('people').set({ password_hash: hash }).where('id', '=', personId).execute();
}

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
