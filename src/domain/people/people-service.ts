import { randomUUID } from 'node:crypto';
import argon2 from 'argon2';
import { blindIndex } from '../../crypto/blind-index.js';
import { decryptFieldText, encryptField } from '../../crypto/field-cipher.js';
import { createDataKey, unwrapDataKey } from '../../crypto/key-ring.js';
import { hashPassword, PASSWORD_HASH_OPTIONS, verifyAgainstDummy, verifyPassword } from '../../crypto/passwords.js';
import type { Actor, ControlTrail } from '../audit/audit-log.js';
import type { FieldCode } from '../consent/fields.js';
import type { PersonRef, Zone, ZoneRegistry } from '../zones/zone-registry.js';
import { normaliseEmail } from './email.js';
import { AlreadyTaken, PERSON_FIELD_COLUMNS, type PersonWrites, type SealedPerson } from './person-store.js';
import { normaliseNickname } from './nickname.js';
import { readOwnSealedField } from './own-field.js';
import { PERSON_DATA, sealedAt, type PersonSealedColumn } from '../residency/person-data.js';

/** What a person gives at sign-up, already validated at the edge. */
export interface SignUpInput {
  readonly email: string;
  readonly password: string;
  readonly firstname: string;
  readonly surname: string;
  readonly country: string;
  readonly language: string;
}

export type SignUpResult =
  | { readonly ok: true; readonly person: PersonRef }
  | { readonly ok: false; readonly reason: 'invalid_email' }
  | { readonly ok: false; readonly reason: 'email_taken'; readonly holder: PersonRef | null };

export interface SignUpOptions {
  readonly emailVerified?: boolean;
  /** More work for the new person in the transaction that creates them (the confirmation challenge). */
  readonly within?: (writes: PersonWrites, person: PersonRef) => Promise<void>;
}

/** Requests about a person that changed nothing (see `recordRequest`). */
export type UnansweredRequestAction = 'person.sign_up_attempted' | 'person.sign_in_code_withheld' | 'person.email_change_requested';

/** Requests that named an email or nickname nobody holds: recorded in the control plane, without it. */
export type UnknownIdentifierAction =
  | 'sign_in.unknown_identifier' | 'sign_in_code.unknown_identifier' | 'password_reset.unknown_identifier' | 'owner_invitation.unknown_identifier';

export type { SealedPerson } from './person-store.js';

/** Decrypted profile values, by field. Image is absent until the account centre can store one. */
export type Profile = Partial<Record<FieldCode, string | null>>;

const EMAIL_INDEX_PURPOSE = PERSON_DATA.people.blindIndexes.email_index.purpose;
const NICKNAME_INDEX_PURPOSE = PERSON_DATA.people.blindIndexes.nickname_index.purpose;

/** An account found by one of its identifiers, with what its password is checked against. */
export interface AccountCredentials {
  readonly person: PersonRef;
  readonly passwordHash: string;
}

/** What a sign-in needs to know about an account beyond its password. */
export interface AccountState {
  readonly emailVerified: boolean;
  readonly secondFactor: boolean;
}

const personField = (personId: string, column: PersonSealedColumn) => sealedAt('people', column, personId);

/** The person's data key, unwrapped by their zone's master key; they must exist. */
async function requireDataKey(writes: PersonWrites, zone: Zone, personId: string): Promise<Buffer> {
  const wrapped = await writes.wrappedDataKey(personId);
  if (!wrapped) throw new Error('the person has no data key');
  return unwrapDataKey(zone.ring, personId, wrapped);
}

export class PeopleService {
  constructor(private readonly zones: ZoneRegistry, private readonly control: ControlTrail) {}

  /** The blind index of a normalised email in a zone. */
  emailIndex(zone: Zone, normalisedEmail: string): Buffer {
    return blindIndex(zone.indexKey, EMAIL_INDEX_PURPOSE, normalisedEmail);
  }

  /** The blind index of a normalised nickname in a zone. */
  nicknameIndex(zone: Zone, nickname: string): Buffer {
    return blindIndex(zone.indexKey, NICKNAME_INDEX_PURPOSE, nickname);
  }

  /** Finds the zone and credentials of the person with this email, asking every zone by blind index. */
  #findByEmail(normalisedEmail: string): Promise<AccountCredentials | null> {
    return this.#findByIndex('email_index', (zone) => this.emailIndex(zone, normalisedEmail));
  }

  #findByNickname(nickname: string): Promise<AccountCredentials | null> {
    return this.#findByIndex('nickname_index', (zone) => this.nicknameIndex(zone, nickname));
  }

  async #findByIndex(column: 'email_index' | 'nickname_index', indexIn: (zone: Zone) => Buffer): Promise<AccountCredentials | null> {
    const found = await Promise.all(this.zones.all().map(async (zone) => {
      const row = await zone.people.credentialsByIndex(column, indexIn(zone));
      return row ? { person: { id: row.personId, zone: zone.name }, passwordHash: row.passwordHash } : null;
    }));
    return found.find((f) => f !== null) ?? null;
  }

  /** An email or, without an `@`, a nickname: either finds the person across zones. */
  async #findByIdentifier(identifier: string): Promise<AccountCredentials | null> {
    if (identifier.includes('@')) {
      const email = normaliseEmail(identifier);
      return email ? this.#findByEmail(email) : null;
    }
    const nickname = normaliseNickname(identifier);
    return nickname ? this.#findByNickname(nickname) : null;
  }

  /**
   * Sets (or, with null, removes) the person's nickname. It must be free in every zone;
   * within a zone a unique index settles a race, across zones the check comes first.
   */
  async setNickname(person: PersonRef, input: string | null, actor: Omit<Actor, 'kind' | 'id'>): Promise<'ok' | 'invalid' | 'taken'> {
    const zone = this.zones.get(person.zone);
    const nickname = input === null ? null : normaliseNickname(input);
    if (input !== null && !nickname) return 'invalid';
    if (nickname) {
      const holder = await this.#findByNickname(nickname);
      if (holder && holder.person.id !== person.id) return 'taken';
    }
    try {
      await zone.people.transaction(async (writes) => {
        const dataKey = await requireDataKey(writes, zone, person.id);
        await writes.setNickname(person.id, nickname
          ? { index: this.nicknameIndex(zone, nickname), sealed: encryptField(dataKey, personField(person.id, 'nickname_ct'), nickname) }
          : null);
        await writes.audit({ ...actor, kind: 'person', id: person.id }, [{ action: nickname ? 'person.nickname_set' : 'person.nickname_removed', personId: person.id }]);
      });
    } catch (error) {
      if (error instanceof AlreadyTaken) return 'taken';
      throw error;
    }
    return 'ok';
  }

  /**
   * Makes `email` (normalised, confirmed by the caller) the person's sign-in address. It
   * must be free in every zone; within a zone the unique index settles a race. Returns
   * the previous address (read to tell its owner: a recorded read), or null when taken.
   */
  async changeEmail(person: PersonRef, email: string, actor: Omit<Actor, 'kind' | 'id'>): Promise<{ previous: string; language: string } | null> {
    const holder = await this.#findByEmail(email);
    if (holder) return null;
    const zone = this.zones.get(person.zone);
    try {
      return await zone.people.transaction(async (writes) => {
        const previous = await this.readFields(writes, zone, person.id, ['email', 'language'], { kind: 'system', id: null, requestId: actor.requestId }, 'notice of an email change');
        const dataKey = await requireDataKey(writes, zone, person.id);
        await writes.setEmail(person.id, { index: this.emailIndex(zone, email), sealed: encryptField(dataKey, personField(person.id, 'email_ct'), email) }, new Date());
        await writes.audit({ ...actor, kind: 'person', id: person.id }, [{ action: 'person.field_changed', personId: person.id, field: 'email' }]);
        return { previous: previous?.email ?? '', language: previous?.language ?? 'en' };
      });
    } catch (error) {
      if (error instanceof AlreadyTaken) return null;
      throw error;
    }
  }

  /** The person's own nickname, decrypted (an audited read by the person). */
  async nicknameOf(person: PersonRef): Promise<string | null> {
    const nickname = await readOwnSealedField(this.zones.get(person.zone), person, 'nickname_ct', { field: 'nickname', purpose: 'account settings' });
    return nickname ? nickname.toString('utf8') : null;
  }


  async accountState(person: PersonRef): Promise<AccountState | null> {
    return (await this.zones.get(person.zone).people.accountState(person.id)) ?? null;
  }

  async markEmailVerified(person: PersonRef, actor: Omit<Actor, 'kind' | 'id'>): Promise<void> {
    const zone = this.zones.get(person.zone);
    await zone.people.transaction(async (writes) => {
      await writes.markEmailVerified(person.id, new Date());
      await writes.audit({ ...actor, kind: 'person', id: person.id }, [{ action: 'person.email_verified', personId: person.id }]);
    });
  }

  /** Checks a person's current password (one argon2 verification). */
  async checkPassword(person: PersonRef, password: string): Promise<boolean> {
    const hash = await this.zones.get(person.zone).people.passwordHash(person.id);
    return hash ? verifyPassword(hash, password) : verifyAgainstDummy(password);
  }

  /**
   * Replaces the password and ends every session of the person, in one transaction
   * (a password change or reset must sign out whoever else held a session).
   */
  async setPassword(person: PersonRef, password: string, action: 'person.password_changed' | 'person.password_reset', actor: Omit<Actor, 'kind' | 'id'>): Promise<void> {
    const zone = this.zones.get(person.zone);
    const hash = await hashPassword(password);
    await zone.people.transaction(async (writes) => {
      await writes.setPassword(person.id, hash, new Date());
      await writes.endSessions(person.id);
      await writes.dropChallenges(person.id, ['reset', 'sign_in_code', 'second_factor']);
      await writes.audit({ ...actor, kind: 'person', id: person.id }, [{ action, personId: person.id }]);
    });
  }

  /**
   * Creates a person in the zone their country belongs to: every personal field sealed
   * under a fresh data key, the data key wrapped by the zone's master key, the email
   * findable only through its blind index.
   */
  async signUp(input: SignUpInput, actor: Omit<Actor, 'kind' | 'id'>, options: SignUpOptions = {}): Promise<SignUpResult> {
    const email = normaliseEmail(input.email);
    if (!email) return { ok: false, reason: 'invalid_email' };
    const holder = await this.#findByEmail(email);
    if (holder) return { ok: false, reason: 'email_taken', holder: holder.person };

    const zone = this.zones.forCountry(input.country);
    const id = randomUUID();
    const passwordHash = await hashPassword(input.password);
    const { dataKey, wrapped } = createDataKey(zone.ring, id);
    const seal = (column: PersonSealedColumn, value: string) => encryptField(dataKey, personField(id, column), value);
    try {
      await zone.people.transaction(async (writes) => {
        await writes.insertPerson({
          id,
          emailIndex: this.emailIndex(zone, email),
          sealed: {
            email_ct: seal('email_ct', email),
            firstname_ct: seal('firstname_ct', input.firstname),
            surname_ct: seal('surname_ct', input.surname),
            country_ct: seal('country_ct', input.country),
            language_ct: seal('language_ct', input.language),
          },
          passwordHash,
          emailVerifiedAt: options.emailVerified ? new Date() : null,
        }, wrapped);
        await writes.audit({ ...actor, kind: 'person', id }, [{ action: 'person.signed_up', personId: id }]);
        await options.within?.(writes, { id, zone: zone.name });
      });
    } catch (error) {
      // Two sign-ups with one email racing: the unique blind index lets only one through.
      if (error instanceof AlreadyTaken) return { ok: false, reason: 'email_taken', holder: null };
      throw error;
    }
    return { ok: true, person: { id, zone: zone.name } };
  }

  /**
   * Checks an email and password. Costs one argon2 verification and one recorded
   * transaction whether or not the account exists, so neither the answer nor its timing
   * tells which. A refusal for an identifier nobody holds concerns no one: it is recorded
   * in the control plane, without the identifier.
   */
  async authenticate(identifier: string, password: string, actor: Omit<Actor, 'kind' | 'id'>): Promise<PersonRef | null> {
    return this.signInWithPassword(await this.findAccount(identifier), password, actor);
  }

  /**
   * The account an email or nickname names, so that attempts are counted on the account
   * (whichever of its identifiers is typed) before its password is checked; null: nobody.
   */
  findAccount(identifier: string): Promise<AccountCredentials | null> {
    return this.#findByIdentifier(identifier);
  }

  /** `authenticate`'s second half, for an account found by `findAccount` (or nobody: the same cost and a record either way). */
  async signInWithPassword(found: AccountCredentials | null, password: string, actor: Omit<Actor, 'kind' | 'id'>): Promise<PersonRef | null> {
    if (!found) {
      await verifyAgainstDummy(password);
      await this.recordUnknownIdentifier('sign_in.unknown_identifier', actor);
      return null;
    }
    const ok = await verifyPassword(found.passwordHash, password);
    const zone = this.zones.get(found.person.zone);
    await zone.people.transaction(async (writes) => {
      if (ok && argon2.needsRehash(found.passwordHash, PASSWORD_HASH_OPTIONS)) {
        await writes.setPassword(found.person.id, await hashPassword(password), null);
      }
      await writes.audit({ ...actor, kind: 'person', id: found.person.id }, [
        { action: ok ? 'person.signed_in' : 'person.sign_in_failed', personId: found.person.id },
      ]);
    });
    return ok ? found.person : null;
  }

  /**
   * Records a request that named an identifier nobody holds, in one transaction of the
   * control plane. A sign-in waits for it, as it waits for the record of a wrong password
   * in the account's zone: the same cost either way.
   */
  async recordUnknownIdentifier(action: UnknownIdentifierAction, actor: Omit<Actor, 'kind' | 'id'>): Promise<void> {
    await this.control.audit({ ...actor, kind: 'system', id: null }, [{ action, appId: actor.appId ?? null }]);
  }

  /**
   * Records, in their zone, a request about this person that changed nothing: someone
   * tried to create an account with their address, asked a sign-in code for an address
   * not confirmed yet, or they asked to move to an address that is taken.
   */
  async recordRequest(person: PersonRef, action: UnansweredRequestAction, actor: Omit<Actor, 'kind' | 'id'>): Promise<void> {
    await this.zones.get(person.zone).people.transaction((writes) =>
      writes.audit({ ...actor, kind: 'system', id: null }, [{ action, personId: person.id }]));
  }

  /** The person with this email, if any; no personal field is read. */
  async findByEmail(emailInput: string): Promise<PersonRef | null> {
    const email = normaliseEmail(emailInput);
    return email ? (await this.#findByEmail(email))?.person ?? null : null;
  }

  /** The person with this email or nickname, if any. */
  async findByIdentifier(identifier: string): Promise<PersonRef | null> {
    return (await this.#findByIdentifier(identifier))?.person ?? null;
  }

  /** Whether the person has ever been signed in to this app (has a pairwise id for it). */
  async usesApp(person: PersonRef, appId: string): Promise<boolean> {
    return this.zones.get(person.zone).people.usesApp(person.id, appId);
  }

  /** Reads fields of a person in its own transaction, audited (see `readFields`). */
  async readFieldsOf(person: PersonRef, fields: readonly FieldCode[], reader: Actor, purpose: string): Promise<Profile | null> {
    const zone = this.zones.get(person.zone);
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
}
