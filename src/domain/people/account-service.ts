import { createHmac } from 'node:crypto';
import { decryptFieldText, encryptField } from '../../crypto/field-cipher.js';
import { hashPassword } from '../../crypto/passwords.js';
import type { RequestActor } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { ZoneRegistry, PersonRef } from '../zones/zone-registry.js';
import type { AccountMail } from './account-mail.js';
import { newChallengeToken, type Challenges, type IssuedChallenge } from './challenges.js';
import { normaliseEmail } from './email.js';
import { checkNewPassword, type PasswordProblem } from './password-policy.js';
import { requireDataKey } from './data-key.js';
import type { Passwords } from './passwords.js';
import type { PersonDirectory } from './person-directory.js';
import type { PersonProfiles } from './person-profiles.js';
import type { PeopleService, SignUpInput } from './people-service.js';
import { sealedAt } from '../residency/person-data.js';

export const SIGN_UP_CODE_MINUTES = 30;
export const SIGN_IN_CODE_MINUTES = 10;
export const RESET_LINK_MINUTES = 30;
export const EMAIL_CHANGE_CODE_MINUTES = 30;

/** Where the new address of a pending email change is sealed. */
const pendingEmailLocation = (personId: string) => sealedAt('challenges', 'detail_ct', personId);

/**
 * The email flows around an account: confirming the address at sign-up, one-time
 * sign-in codes, password reset, new-device notices. Every request that names an email
 * answers the same way whether or not an account exists: the caller always gets a
 * challenge token (a decoy when there is no account), and mail goes out after the answer.
 * Where the answer acknowledges nothing (a sign-in code, a reset link), the lookup that
 * decides what happens comes after it too.
 */

export interface AccountServiceOptions {
  readonly people: PeopleService;
  readonly directory: PersonDirectory;
  readonly passwords: Passwords;
  readonly profiles: PersonProfiles;
  readonly challenges: Challenges;
  readonly mail: AccountMail;
  readonly zones: ZoneRegistry;
  readonly clock: Clock;
  readonly publicUrl: string;
  /** Keys the hashes of device cookies. */
  readonly deviceKey: Buffer;
  /** Counts a mail to a person against their account's budget; false: send nothing. */
  readonly admitMailTo: (person: PersonRef) => Promise<boolean>;
}

export class AccountService {
  private readonly people: PeopleService;
  private readonly directory: PersonDirectory;
  private readonly passwords: Passwords;
  private readonly profiles: PersonProfiles;
  private readonly challenges: Challenges;
  private readonly mail: AccountMail;
  private readonly zones: ZoneRegistry;
  private readonly clock: Clock;
  private readonly publicUrl: string;
  private readonly deviceKey: Buffer;
  private readonly admitMailTo: (person: PersonRef) => Promise<boolean>;

  constructor(options: AccountServiceOptions) {
    ({
      people: this.people, directory: this.directory, passwords: this.passwords, profiles: this.profiles, challenges: this.challenges,
      mail: this.mail, zones: this.zones, clock: this.clock, publicUrl: this.publicUrl, deviceKey: this.deviceKey, admitMailTo: this.admitMailTo,
    } = options);
  }

  /**
   * Starts a sign-up. A new address gets an unconfirmed account and its confirmation
   * challenge, in one transaction committed before the answer, and a code by email; an
   * address that already has an account gets a notice instead, its holder's trail a record
   * of the attempt, and the caller a decoy token. Both cost one password hash and one
   * recorded transaction, so the time does not tell them apart.
   */
  async beginSignUp(input: SignUpInput, actor: RequestActor, token?: string): Promise<{ token: string }> {
    const email = normaliseEmail(input.email)!;
    let issued: IssuedChallenge | undefined;
    const created = await this.people.signUp(input, actor, {
      within: async (trx, person) => {
        issued = await this.challenges.insert(trx, person, 'sign_up', { token, ttlSeconds: SIGN_UP_CODE_MINUTES * 60, withCode: true, requestId: actor.requestId });
      },
    });
    if (created.ok && issued) {
      // Counted like any mail to the account, so that both answers cost the same.
      if (await this.admitMailTo(created.person)) {
        this.mail.toAddress(email, input.language, { kind: 'signUpCode', params: { code: issued.code!, minutes: SIGN_UP_CODE_MINUTES } });
      }
      return { token: issued.token };
    }
    await hashPassword(input.password);
    const holder = !created.ok && created.reason === 'email_taken' ? created.holder : null;
    if (holder) await this.people.recordRequest(holder, 'person.sign_up_attempted', actor);
    // Repeated sign-ups with someone's address must not flood their inbox.
    if (!holder || await this.admitMailTo(holder)) {
      this.mail.toAddress(email, input.language, { kind: 'signUpExisting', params: { signInUrl: `${this.publicUrl}/dashboard/sign-in` } });
    }
    return { token: token ?? newChallengeToken() };
  }

  /** Confirms the address with the emailed code; the account is then usable. */
  async confirmSignUp(token: string, code: string, actor: RequestActor): Promise<PersonRef | null> {
    const person = await this.challenges.redeemCode(token, 'sign_up', code);
    if (person) await this.people.markEmailVerified(person, actor);
    return person;
  }

  /**
   * Changing one's email, step one: a code goes to the new address, which waits sealed in
   * the challenge. An address that already has an account gets a notice instead and the
   * caller a decoy token: the answer is the same, so it tells no one who has an account.
   */
  async requestEmailChange(person: PersonRef, newEmail: string, actor: RequestActor): Promise<{ token: string } | 'invalid' | 'unchanged'> {
    const email = normaliseEmail(newEmail);
    if (!email) return 'invalid';
    const current = await this.profiles.readFieldsOf(person, ['email', 'language'], { kind: 'person', id: person.id, requestId: actor.requestId }, 'email change');
    if (!current) return 'invalid';
    if (current.email === email) return 'unchanged';
    const language = current.language ?? 'en';
    if (await this.directory.findByEmail(email)) {
      // Recorded as the request itself is when the address is free, so the time tells nothing.
      await this.people.recordRequest(person, 'person.email_change_requested', actor);
      this.mail.toAddress(email, language, { kind: 'emailChangeTaken', params: {} });
      return { token: newChallengeToken() };
    }
    const zone = this.zones.get(person.zone);
    const dataKey = await requireDataKey(zone.people, zone, person.id);
    const sealed = encryptField(dataKey, pendingEmailLocation(person.id), email);
    const { token, code } = await this.challenges.create(person, 'email_change', {
      ttlSeconds: EMAIL_CHANGE_CODE_MINUTES * 60, withCode: true, detail: sealed, requestId: actor.requestId,
    });
    this.mail.toAddress(email, language, { kind: 'emailChangeCode', params: { code: code!, minutes: EMAIL_CHANGE_CODE_MINUTES } });
    return { token };
  }

  /**
   * Step two: the right code makes the new address the sign-in email, and the old one is
   * told. A challenge of someone else is never used for this person.
   */
  async confirmEmailChange(person: PersonRef, token: string, code: string, actor: RequestActor): Promise<{ email: string } | 'wrong_code' | 'taken'> {
    const redeemed = await this.challenges.redeemCode(token, 'email_change', code);
    if (!redeemed || redeemed.id !== person.id || redeemed.zone !== person.zone || !redeemed.detail) return 'wrong_code';
    const zone = this.zones.get(person.zone);
    const dataKey = await requireDataKey(zone.people, zone, person.id);
    const email = decryptFieldText(dataKey, pendingEmailLocation(person.id), redeemed.detail);
    const changed = await this.people.changeEmail(person, email, actor);
    if (!changed) return 'taken';
    const when = this.clock.now().toISOString().replace('T', ' ').slice(0, 16);
    if (changed.previous) this.mail.toAddress(changed.previous, changed.language, { kind: 'emailChanged', params: { when } });
    return { email };
  }

  /**
   * A password was right but the address is not confirmed yet: a code is sent, within
   * the account's mail budget, unless one is already waiting under `token` (the same
   * sign-in asked again). Wrong codes are counted on the account by the caller, so a
   * fresh challenge gives no fresh guesses.
   */
  async resendConfirmation(person: PersonRef, requestId: string, token: string): Promise<void> {
    if (await this.challenges.peek(token, 'sign_up')) return;
    if (!(await this.admitMailTo(person))) return;
    const issued = await this.challenges.create(person, 'sign_up', { token, ttlSeconds: SIGN_UP_CODE_MINUTES * 60, withCode: true, requestId });
    this.mail.toPerson(person, { kind: 'signUpCode', params: { code: issued.code!, minutes: SIGN_UP_CODE_MINUTES } }, requestId);
  }

  /**
   * Passwordless sign-in, step one. The answer (a challenge token) is given before the
   * identifier is looked up, so neither it nor its time can tell whether an account
   * exists: the lookup, the challenge under that token and the mail come after it. Only
   * a confirmed address gets a code.
   */
  requestSignInCode(identifier: string, requestId: string, token = newChallengeToken()): { token: string } {
    this.mail.afterAnswer(async () => {
      const person = await this.directory.findByIdentifier(identifier);
      if (!person) return this.directory.recordUnknownIdentifier('sign_in_code.unknown_identifier', { requestId });
      if (!(await this.directory.accountState(person))?.emailVerified) return this.people.recordRequest(person, 'person.sign_in_code_withheld', { requestId });
      if (!(await this.admitMailTo(person))) return;
      const { code } = await this.challenges.create(person, 'sign_in_code', { token, ttlSeconds: SIGN_IN_CODE_MINUTES * 60, withCode: true, requestId });
      await this.mail.sendToPerson(person, { kind: 'signInCode', params: { code: code!, minutes: SIGN_IN_CODE_MINUTES } }, requestId);
    });
    return { token };
  }

  signInWithCode(token: string, code: string): Promise<PersonRef | null> {
    return this.challenges.redeemCode(token, 'sign_in_code', code);
  }

  /**
   * Sends a single-use reset link to the account's address, if there is one. Like the
   * sign-in code, everything happens after the answer, which says nothing either way.
   */
  requestPasswordReset(identifier: string, requestId: string): void {
    this.mail.afterAnswer(async () => {
      const person = await this.directory.findByIdentifier(identifier);
      if (!person) return this.directory.recordUnknownIdentifier('password_reset.unknown_identifier', { requestId });
      if (!(await this.admitMailTo(person))) return;
      const { token } = await this.challenges.create(person, 'reset', { ttlSeconds: RESET_LINK_MINUTES * 60, withCode: false, requestId });
      await this.mail.sendToPerson(person, { kind: 'passwordReset', params: { link: `${this.publicUrl}/reset/${token}`, minutes: RESET_LINK_MINUTES } }, requestId);
    });
  }

  /** Whether a reset link is still good (the page asks for the new password only then). */
  async isResetLinkValid(token: string): Promise<boolean> {
    return (await this.challenges.peek(token, 'reset')) !== null;
  }

  /**
   * Sets a new password from a reset link: the link is used up, every session ends and
   * the address counts as confirmed (the link proved it). Returns the reason a password
   * is refused, `expired` for a dead link, or null on success.
   */
  async resetPassword(token: string, password: string, actor: RequestActor): Promise<PasswordProblem | 'expired' | null> {
    const holder = await this.challenges.peek(token, 'reset');
    if (!holder) return 'expired';
    const problem = await this.#passwordProblem(holder, password, actor.requestId ?? undefined);
    if (problem) return problem;
    const person = await this.challenges.redeemToken(token, 'reset');
    if (!person) return 'expired';
    await this.passwords.setPassword(person, password, 'person.password_reset', actor);
    await this.people.markEmailVerified(person, actor);
    return null;
  }

  /** A signed-in person changes their password; every session ends (the caller starts a new one). */
  async changePassword(person: PersonRef, current: string, next: string, actor: RequestActor): Promise<{ field: 'current' } | { field: 'password'; problem: PasswordProblem } | null> {
    if (!(await this.passwords.checkPassword(person, current))) return { field: 'current' };
    const problem = await this.#passwordProblem(person, next, actor.requestId ?? undefined);
    if (problem) return { field: 'password', problem };
    await this.passwords.setPassword(person, next, 'person.password_changed', actor);
    return null;
  }

  async #passwordProblem(person: PersonRef, password: string, requestId?: string): Promise<PasswordProblem | null> {
    const profile = await this.profiles.readFieldsOf(person, ['email', 'firstname', 'surname'], { kind: 'system', id: null, requestId }, 'password policy check');
    return checkNewPassword(password, { email: profile?.email ?? '', firstname: profile?.firstname ?? undefined, surname: profile?.surname ?? undefined });
  }

  #deviceHash(deviceToken: string): Buffer {
    return createHmac('sha256', this.deviceKey).update(deviceToken).digest();
  }

  /**
   * Remembers the browser a person just signed in from; from the second device on, a
   * sign-in from one not seen before is announced by email.
   */
  async noteDevice(person: PersonRef, deviceToken: string, requestId: string): Promise<void> {
    const people = this.zones.get(person.zone).people;
    if (!(await people.rememberDevice(person.id, this.#deviceHash(deviceToken)))) return;
    if ((await people.knownDevices(person.id, 2)) < 2) return;
    const when = this.clock.now().toISOString().replace('T', ' ').slice(0, 16);
    this.mail.toPerson(person, { kind: 'newDeviceSignIn', params: { when } }, requestId);
  }

  /** Tells the person that sign-in to their account is paused after repeated wrong passwords. */
  announcePause(person: PersonRef, minutes: number, requestId: string): void {
    this.mail.toPerson(person, { kind: 'signInPaused', params: { minutes } }, requestId);
  }
}
