import argon2 from 'argon2';
import { hashPassword, PASSWORD_HASH_OPTIONS, verifyAgainstDummy, verifyPassword } from '../../crypto/passwords.js';
import type { RequestActor } from '../audit/audit-log.js';
import type { PersonRef, ZoneRegistry } from '../zones/zone-registry.js';
import type { AccountCredentials, PersonDirectory } from './person-directory.js';

export interface PasswordsOptions {
  readonly zones: ZoneRegistry;
  /** Finds accounts, and records a refusal for an identifier nobody holds. */
  readonly directory: PersonDirectory;
}

/** Checks, changes and signs in with passwords, at the same cost whether or not an account exists. */
export class Passwords {
  readonly #zones: ZoneRegistry;
  readonly #directory: PersonDirectory;

  constructor(options: PasswordsOptions) {
    this.#zones = options.zones;
    this.#directory = options.directory;
  }

  /** Checks a person's current password (one argon2 verification). */
  async checkPassword(person: PersonRef, password: string): Promise<boolean> {
    const hash = await this.#zones.get(person.zone).people.passwordHash(person.id);
    return hash ? verifyPassword(hash, password) : verifyAgainstDummy(password);
  }

  /**
   * Replaces the password and ends every session of the person, in one transaction
   * (a password change or reset must sign out whoever else held a session).
   */
  async setPassword(person: PersonRef, password: string, action: 'person.password_changed' | 'person.password_reset', actor: RequestActor): Promise<void> {
    const zone = this.#zones.get(person.zone);
    const hash = await hashPassword(password);
    await zone.people.transaction(async (writes) => {
      await writes.setPassword(person.id, hash, new Date());
      await writes.endSessions(person.id);
      await writes.dropChallenges(person.id, ['reset', 'sign_in_code', 'second_factor']);
      await writes.audit({ ...actor, kind: 'person', id: person.id }, [{ action, personId: person.id }]);
    });
  }

  /**
   * Checks an email and password. Costs one argon2 verification and one recorded
   * transaction whether or not the account exists, so neither the answer nor its timing
   * tells which. A refusal for an identifier nobody holds concerns no one: it is recorded
   * in the control plane, without the identifier.
   */
  async authenticate(identifier: string, password: string, actor: RequestActor): Promise<PersonRef | null> {
    return this.signInWithPassword(await this.#directory.findAccount(identifier), password, actor);
  }

  /** `authenticate`'s second half, for an account found by `findAccount` (or nobody: the same cost and a record either way). */
  async signInWithPassword(found: AccountCredentials | null, password: string, actor: RequestActor): Promise<PersonRef | null> {
    if (!found) {
      await verifyAgainstDummy(password);
      await this.#directory.recordUnknownIdentifier('sign_in.unknown_identifier', actor);
      return null;
    }
    const ok = await verifyPassword(found.passwordHash, password);
    const zone = this.#zones.get(found.person.zone);
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
}
