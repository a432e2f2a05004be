import { blindIndex } from '../../crypto/blind-index.js';
import type { Actor, ControlTrail, RequestActor } from '../audit/audit-log.js';
import { PERSON_DATA } from '../residency/person-data.js';
import type { PersonRef, Zone, ZoneRegistry } from '../zones/zone-registry.js';
import { normaliseEmail } from './email.js';
import { normaliseNickname } from './nickname.js';

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

/** Requests that named an email or nickname nobody holds: recorded in the control plane, without it. */
export type UnknownIdentifierAction =
  | 'sign_in.unknown_identifier' | 'sign_in_code.unknown_identifier' | 'password_reset.unknown_identifier' | 'owner_invitation.unknown_identifier';

const EMAIL_INDEX_PURPOSE = PERSON_DATA.people.blindIndexes.email_index.purpose;
const NICKNAME_INDEX_PURPOSE = PERSON_DATA.people.blindIndexes.nickname_index.purpose;

/**
 * Finds people across zones by the blind indexes of their email or nickname, without
 * reading a personal field, and tells what a sign-in needs to know of an account.
 */
export class PersonDirectory {
  readonly #zones: ZoneRegistry;
  readonly #control: ControlTrail;

  constructor(options: { readonly zones: ZoneRegistry; /** Where a request for an identifier nobody holds is recorded. */ readonly control: ControlTrail }) {
    this.#zones = options.zones;
    this.#control = options.control;
  }

  /** The blind index of a normalised email in a zone. */
  emailIndex(zone: Zone, normalisedEmail: string): Buffer {
    return blindIndex(zone.indexKey, EMAIL_INDEX_PURPOSE, normalisedEmail);
  }

  /** The blind index of a normalised nickname in a zone. */
  nicknameIndex(zone: Zone, nickname: string): Buffer {
    return blindIndex(zone.indexKey, NICKNAME_INDEX_PURPOSE, nickname);
  }

  /** Finds the zone and credentials of the person with this (normalised) email, asking every zone by blind index. */
  holderOfEmail(normalisedEmail: string): Promise<AccountCredentials | null> {
    return this.#findByIndex('email_index', (zone) => this.emailIndex(zone, normalisedEmail));
  }

  /** Finds the zone and credentials of the person with this (normalised) nickname. */
  holderOfNickname(nickname: string): Promise<AccountCredentials | null> {
    return this.#findByIndex('nickname_index', (zone) => this.nicknameIndex(zone, nickname));
  }

  async #findByIndex(column: 'email_index' | 'nickname_index', indexIn: (zone: Zone) => Buffer): Promise<AccountCredentials | null> {
    const found = await Promise.all(this.#zones.all().map(async (zone) => {
      const row = await zone.people.credentialsByIndex(column, indexIn(zone));
      return row ? { person: { id: row.personId, zone: zone.name }, passwordHash: row.passwordHash } : null;
    }));
    return found.find((f) => f !== null) ?? null;
  }

  /** An email or, without an `@`, a nickname: either finds the person across zones. */
  async #findByIdentifier(identifier: string): Promise<AccountCredentials | null> {
    if (identifier.includes('@')) {
      const email = normaliseEmail(identifier);
      return email ? this.holderOfEmail(email) : null;
    }
    const nickname = normaliseNickname(identifier);
    return nickname ? this.holderOfNickname(nickname) : null;
  }

  /**
   * The account an email or nickname names, so that attempts are counted on the account
   * (whichever of its identifiers is typed) before its password is checked; null: nobody.
   */
  findAccount(identifier: string): Promise<AccountCredentials | null> {
    return this.#findByIdentifier(identifier);
  }

  /** The person with this email, if any; no personal field is read. */
  async findByEmail(emailInput: string): Promise<PersonRef | null> {
    const email = normaliseEmail(emailInput);
    return email ? (await this.holderOfEmail(email))?.person ?? null : null;
  }

  /** The person with this email or nickname, if any. */
  async findByIdentifier(identifier: string): Promise<PersonRef | null> {
    return (await this.#findByIdentifier(identifier))?.person ?? null;
  }

  /** Whether the person has ever been signed in to this app (has a pairwise id for it). */
  async usesApp(person: PersonRef, appId: string): Promise<boolean> {
    return this.#zones.get(person.zone).people.usesApp(person.id, appId);
  }

  async accountState(person: PersonRef): Promise<AccountState | null> {
    return (await this.#zones.get(person.zone).people.accountState(person.id)) ?? null;
  }

  /**
   * Records a request that named an identifier nobody holds, in one transaction of the
   * control plane. A sign-in waits for it, as it waits for the record of a wrong password
   * in the account's zone: the same cost either way.
   */
  async recordUnknownIdentifier(action: UnknownIdentifierAction, actor: RequestActor): Promise<void> {
    await this.#control.audit({ ...actor, kind: 'system', id: null }, [{ action, appId: actor.appId ?? null }]);
  }
}
