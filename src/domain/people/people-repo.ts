import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Bytes, PeopleTable, ZoneDatabase } from '../../storage/schema.js';

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

export async function findCredentialsByEmailIndex(db: ZoneDb, emailIndex: Bytes): Promise<{ id: string; password_hash: string } | undefined> {
  return db.selectFrom('people').select(['id', 'password_hash']).where('email_index', '=', emailIndex).executeTakeFirst();
}

export async function findCredentialsByNicknameIndex(db: ZoneDb, nicknameIndex: Bytes): Promise<{ id: string; password_hash: string } | undefined> {
  return db.selectFrom('people').select(['id', 'password_hash']).where('nickname_index', '=', nicknameIndex).executeTakeFirst();
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
