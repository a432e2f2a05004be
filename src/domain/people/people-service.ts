import { randomUUID } from 'node:crypto';
import { encryptField } from '../../crypto/field-cipher.js';
import { createDataKey } from '../../crypto/key-ring.js';
import { hashPassword } from '../../crypto/passwords.js';
import type { RequestActor } from '../audit/audit-log.js';
import { sealedAt, type PersonSealedColumn } from '../residency/person-data.js';
import type { PersonRef, Zone, ZoneRegistry } from '../zones/zone-registry.js';
import { normaliseEmail } from './email.js';
import { normaliseNickname } from './nickname.js';
import { requireDataKey } from './data-key.js';
import type { PersonDirectory } from './person-directory.js';
import type { PersonProfiles } from './person-profiles.js';
import { AlreadyTaken, type PersonWrites } from './person-store.js';

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

const personField = (personId: string, column: PersonSealedColumn) => sealedAt('people', column, personId);


export interface PeopleOptions {
  readonly zones: ZoneRegistry;
  readonly directory: PersonDirectory;
  readonly profiles: PersonProfiles;
}

/** Creates people in their zone and changes the identifiers they sign in with. */
export class PeopleService {
  readonly #zones: ZoneRegistry;
  readonly #directory: PersonDirectory;
  readonly #profiles: PersonProfiles;

  constructor(options: PeopleOptions) {
    this.#zones = options.zones;
    this.#directory = options.directory;
    this.#profiles = options.profiles;
  }

  /**
   * Creates a person in the zone their country belongs to: every personal field sealed
   * under a fresh data key, the data key wrapped by the zone's master key, the email
   * findable only through its blind index.
   */
  async signUp(input: SignUpInput, actor: RequestActor, options: SignUpOptions = {}): Promise<SignUpResult> {
    const email = normaliseEmail(input.email);
    if (!email) return { ok: false, reason: 'invalid_email' };
    const holder = await this.#directory.holderOfEmail(email);
    if (holder) return { ok: false, reason: 'email_taken', holder: holder.person };

    const zone = this.#zones.forCountry(input.country);
    const id = randomUUID();
    const passwordHash = await hashPassword(input.password);
    const { dataKey, wrapped } = createDataKey(zone.ring, id);
    const seal = (column: PersonSealedColumn, value: string) => encryptField(dataKey, personField(id, column), value);
    try {
      await zone.people.transaction(async (writes) => {
        await writes.insertPerson({
          id,
          emailIndex: this.#directory.emailIndex(zone, email),
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
   * Sets (or, with null, removes) the person's nickname. It must be free in every zone;
   * within a zone a unique index settles a race, across zones the check comes first.
   */
  async setNickname(person: PersonRef, input: string | null, actor: RequestActor): Promise<'ok' | 'invalid' | 'taken'> {
    const zone = this.#zones.get(person.zone);
    const nickname = input === null ? null : normaliseNickname(input);
    if (input !== null && !nickname) return 'invalid';
    if (nickname) {
      const holder = await this.#directory.holderOfNickname(nickname);
      if (holder && holder.person.id !== person.id) return 'taken';
    }
    try {
      await zone.people.transaction(async (writes) => {
        const dataKey = await requireDataKey(writes, zone, person.id);
        await writes.setNickname(person.id, nickname
          ? { index: this.#directory.nicknameIndex(zone, nickname), sealed: encryptField(dataKey, personField(person.id, 'nickname_ct'), nickname) }
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
  async changeEmail(person: PersonRef, email: string, actor: RequestActor): Promise<{ previous: string; language: string } | null> {
    const holder = await this.#directory.holderOfEmail(email);
    if (holder) return null;
    const zone = this.#zones.get(person.zone);
    try {
      return await zone.people.transaction(async (writes) => {
        const previous = await this.#profiles.readFields(writes, zone, person.id, ['email', 'language'], { kind: 'system', id: null, requestId: actor.requestId }, 'notice of an email change');
        const dataKey = await requireDataKey(writes, zone, person.id);
        await writes.setEmail(person.id, { index: this.#directory.emailIndex(zone, email), sealed: encryptField(dataKey, personField(person.id, 'email_ct'), email) }, new Date());
        await writes.audit({ ...actor, kind: 'person', id: person.id }, [{ action: 'person.field_changed', personId: person.id, field: 'email' }]);
        return { previous: previous?.email ?? '', language: previous?.language ?? 'en' };
      });
    } catch (error) {
      if (error instanceof AlreadyTaken) return null;
      throw error;
    }
  }

  async markEmailVerified(person: PersonRef, actor: RequestActor): Promise<void> {
    const zone = this.#zones.get(person.zone);
    await zone.people.transaction(async (writes) => {
      await writes.markEmailVerified(person.id, new Date());
      await writes.audit({ ...actor, kind: 'person', id: person.id }, [{ action: 'person.email_verified', personId: person.id }]);
    });
  }

  /**
   * Records, in their zone, a request about this person that changed nothing: someone
   * tried to create an account with their address, asked a sign-in code for an address
   * not confirmed yet, or they asked to move to an address that is taken.
   */
  async recordRequest(person: PersonRef, action: UnansweredRequestAction, actor: RequestActor): Promise<void> {
    await this.#zones.get(person.zone).people.transaction((writes) =>
      writes.audit({ ...actor, kind: 'system', id: null }, [{ action, personId: person.id }]));
  }
}
