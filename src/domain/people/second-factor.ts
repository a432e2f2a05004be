import { createHmac, timingSafeEqual } from 'node:crypto';
import { decryptFieldText, encryptField } from '../../crypto/field-cipher.js';
import { unwrapDataKey } from '../../crypto/key-ring.js';
import { hkdfKey } from '../../crypto/master-keys.js';
import { findRecoveryCode, generateRecoveryCodes, hashRecoveryCode } from '../../crypto/recovery-codes.js';
import { enrolmentQrSvg, generateTotpSecret, totpUri, verifyTotp } from '../../crypto/totp.js';
import type { RequestActor } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { isZoneName } from '../zones/zones.js';
import type { PersonRef, Zone, ZoneRegistry } from '../zones/zone-registry.js';
import type { PersonProfiles } from './person-profiles.js';
import { sealedAt } from '../residency/person-data.js';
import type { Challenges } from './challenges.js';
import type { AccountMail } from './account-mail.js';
import { requireDataKey } from './data-key.js';
import type { PersonWrites } from './person-store.js';

const ENROLMENT_MINUTES = 15;
/** How long the link mailed at enrolment can remove the new factor. */
export const UNDO_LINK_DAYS = 7;
const secretLocation = (personId: string) => sealedAt('people', 'totp_secret_ct', personId);

export interface Enrolment {
  readonly secret: string;
  readonly uri: string;
  readonly qrSvg: string;
  /** Binds the secret to the person and an expiry, so the form can carry it back unaltered. */
  readonly proof: string;
}

/**
 * The second factor: TOTP (RFC 6238) with ten single-use recovery codes. The secret is
 * sealed under the person's data key like every personal field; recovery codes are kept
 * as keyed hashes only; a TOTP step is accepted once (replays are refused).
 */
export interface SecondFactorDeps {
  readonly zones: ZoneRegistry;
  readonly profiles: PersonProfiles;
  readonly challenges: Challenges;
  readonly mail: AccountMail;
  readonly clock: Clock;
  readonly publicUrl: string;
  /** Keys the enrolment proofs (the same on every node). */
  readonly enrolmentKey: Buffer;
}

export class SecondFactor {
  constructor(private readonly deps: SecondFactorDeps) {}

  #recoveryKey(zone: Zone): Buffer {
    return hkdfKey(Buffer.from(zone.indexKey), 'keygate/recovery-codes');
  }

  #proof(person: PersonRef, secret: string, expires: number): string {
    const mac = createHmac('sha256', this.deps.enrolmentKey).update(`${person.zone}\0${person.id}\0${secret}\0${expires}`).digest('base64url');
    return `${expires}.${mac}`;
  }

  /** A new secret for the person to scan; nothing is stored until a code from it is confirmed. */
  async beginEnrolment(person: PersonRef, requestId: string): Promise<Enrolment> {
    const profile = await this.deps.profiles.readFieldsOf(person, ['email'], { kind: 'person', id: person.id, requestId }, 'authenticator app label');
    const secret = generateTotpSecret();
    const uri = totpUri({ secret, account: profile?.email ?? 'account', issuer: 'Keygate' });
    const expires = this.deps.clock.now().getTime() + ENROLMENT_MINUTES * 60_000;
    return { secret, uri, qrSvg: await enrolmentQrSvg(uri), proof: this.#proof(person, secret, expires) };
  }

  /**
   * Turns the second factor on once the person proves their app produces codes for the
   * secret; returns the recovery codes to show once, or null when the code or proof is wrong.
   */
  #isProofValid(person: PersonRef, secret: string, proof: string): boolean {
    const [expiresText] = proof.split('.');
    const expires = Number(expiresText);
    const expected = Buffer.from(this.#proof(person, secret, expires));
    const given = Buffer.from(proof);
    return Number.isSafeInteger(expires) && expires >= this.deps.clock.now().getTime() && given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The enrolment page again for the same secret (a mistyped code), while its proof holds. */
  async resumeEnrolment(person: PersonRef, secret: string, proof: string, requestId: string): Promise<Enrolment | null> {
    if (!this.#isProofValid(person, secret, proof)) return null;
    const profile = await this.deps.profiles.readFieldsOf(person, ['email'], { kind: 'person', id: person.id, requestId }, 'authenticator app label');
    const uri = totpUri({ secret, account: profile?.email ?? 'account', issuer: 'Keygate' });
    return { secret, uri, qrSvg: await enrolmentQrSvg(uri), proof };
  }

  /** Whether an enrolment's proof still holds (it is given only after the person proved who they are). */
  isEnrolmentLive(person: PersonRef, secret: string, proof: string): boolean {
    return this.#isProofValid(person, secret, proof);
  }

  /**
   * Turns the factor on (or replaces it), with new recovery codes, once the person shows a
   * code from the new secret. Every session of the person ends (the caller starts a fresh
   * one for this browser), and their address gets a link that undoes it.
   */
  async confirmEnrolment(person: PersonRef, secret: string, proof: string, code: string, actor: RequestActor): Promise<string[] | null> {
    if (!this.#isProofValid(person, secret, proof)) return null;
    const verified = verifyTotp(secret, code, this.deps.clock.now(), null);
    if (!verified.ok) return null;
    const zone = this.deps.zones.get(person.zone);
    const codes = generateRecoveryCodes();
    const undo = await zone.people.transaction(async (writes) => {
      const dataKey = await requireDataKey(writes, zone, person.id);
      await writes.setSecondFactor(person.id, { sealedSecret: encryptField(dataKey, secretLocation(person.id), secret), lastStep: verified.step });
      await writes.replaceRecoveryCodes(person.id, codes.map((c) => hashRecoveryCode(c, this.#recoveryKey(zone))));
      await writes.endSessions(person.id);
      await writes.dropChallenges(person.id, ['second_factor_undo']);
      await writes.audit({ ...actor, kind: 'person', id: person.id }, [{ action: 'second_factor.enrolled', personId: person.id }]);
      return this.deps.challenges.insert(writes, person, 'second_factor_undo', { ttlSeconds: UNDO_LINK_DAYS * 24 * 60 * 60, withCode: false, requestId: actor.requestId });
    });
    this.deps.mail.toPerson(person, { kind: 'secondFactorEnrolled', params: { link: `${this.deps.publicUrl}/second-factor/undo/${undo.token}`, days: UNDO_LINK_DAYS } }, actor.requestId ?? undefined);
    return codes;
  }

  /** Whether an undo link is still good (its page asks to confirm first). */
  async isUndoLinkLive(token: string): Promise<boolean> {
    return (await this.deps.challenges.peek(token, 'second_factor_undo')) !== null;
  }

  /**
   * The owner's way back when someone else set up a factor: the link mailed at enrolment
   * removes it and ends every session. False when the link is used or expired.
   */
  async undoEnrolment(token: string, actor: RequestActor): Promise<boolean> {
    const person = await this.deps.challenges.redeemToken(token, 'second_factor_undo');
    if (!person) return false;
    await this.deps.zones.get(person.zone).people.transaction(async (writes) => {
      await SecondFactor.#remove(writes, person);
      await writes.endSessions(person.id);
      await writes.audit({ ...actor, kind: 'person', id: person.id }, [{ action: 'second_factor.removed_by_mailed_link', personId: person.id }]);
    });
    return true;
  }

  /**
   * Checks a code from the authenticator app, or a recovery code (used up). Each step
   * and each recovery code works once, also when two requests race.
   */
  async verify(person: PersonRef, input: string, actor: RequestActor): Promise<boolean> {
    const zone = this.deps.zones.get(person.zone);
    return zone.people.transaction(async (writes) => {
      const factor = await writes.lockSecondFactor(person.id);
      if (!factor) return false;
      const dataKey = unwrapDataKey(zone.ring, person.id, factor.key);
      const secret = decryptFieldText(dataKey, secretLocation(person.id), factor.sealedSecret);
      const totp = verifyTotp(secret, input, this.deps.clock.now(), factor.lastStep);
      const who = { ...actor, kind: 'person' as const, id: person.id };
      if (totp.ok) {
        await writes.setSecondFactorStep(person.id, totp.step);
        await writes.audit(who, [{ action: 'second_factor.passed', personId: person.id }]);
        return true;
      }
      const stored = await writes.recoveryCodes(person.id);
      // Codes made before a move to this zone are hashed under the zone they were made in.
      const used = [...new Set(stored.map((r) => r.keyZone ?? zone.name))].flatMap((keyZone) => {
        const hashes = stored.filter((r) => (r.keyZone ?? zone.name) === keyZone).map((r) => r.hash);
        const index = isZoneName(keyZone) ? findRecoveryCode(input, hashes, this.#recoveryKey(this.deps.zones.get(keyZone))) : -1;
        return index >= 0 ? [hashes[index]!] : [];
      })[0];
      if (used) {
        await writes.useRecoveryCode(person.id, used);
        await writes.audit(who, [{ action: 'second_factor.recovery_code_used', personId: person.id }]);
        return true;
      }
      await writes.audit(who, [{ action: 'second_factor.failed', personId: person.id }]);
      return false;
    });
  }

  async remainingRecoveryCodes(person: PersonRef): Promise<number> {
    return this.deps.zones.get(person.zone).people.recoveryCodeCount(person.id);
  }

  /** Turns the second factor off (the caller has just checked a current code). */
  async disable(person: PersonRef, actor: RequestActor): Promise<void> {
    const zone = this.deps.zones.get(person.zone);
    await zone.people.transaction(async (writes) => {
      await SecondFactor.#remove(writes, person);
      await writes.audit({ ...actor, kind: 'person', id: person.id }, [{ action: 'second_factor.disabled', personId: person.id }]);
    });
  }

  /** The secret and every recovery code go: the person signs in with the password alone. */
  static async #remove(writes: PersonWrites, person: PersonRef): Promise<void> {
    await writes.setSecondFactor(person.id, null);
    await writes.replaceRecoveryCodes(person.id, []);
  }
}
