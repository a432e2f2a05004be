import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { addSeconds, type Clock } from '../clock.js';
import type { PersonRef, ZoneRegistry } from '../zones/zone-registry.js';
import type { ChallengePurpose } from './challenge-purpose.js';
import type { PersonWrites } from './person-store.js';

/** Wrong codes one challenge survives; then it is burnt and a new one must be asked for. */
export const MAX_CODE_ATTEMPTS = 5;

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const CODE = /^\d{6}$/;

export const newChallengeToken = (): string => randomBytes(32).toString('base64url');
const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();
// A six-digit code is bound to its challenge's token: a code alone, or a leaked table, proves nothing.
const hashCode = (token: string, code: string): Buffer => createHmac('sha256', token).update(code).digest();

export interface ChallengeOptions {
  /** The token, when the caller handed it out before the challenge could be made (a sign-in code). */
  readonly token?: string;
  readonly ttlSeconds: number;
  /** Whether the challenge also needs a six-digit code (sent by email). */
  readonly withCode: boolean;
  /** Sealed data the challenge carries (the new address of an email change). */
  readonly detail?: Uint8Array | null;
  readonly requestId?: string | null;
}

export interface IssuedChallenge {
  readonly token: string;
  readonly code?: string;
}

/** The audit action recorded when a challenge of each kind is issued. */
const CHALLENGE_ISSUED: Readonly<Record<ChallengePurpose, string>> = {
  sign_up: 'person.sign_up_code_sent',
  sign_in_code: 'person.sign_in_code_sent',
  reset: 'person.reset_link_sent',
  second_factor: 'person.second_factor_asked',
  email_change: 'person.email_change_requested',
  second_factor_undo: 'person.second_factor_undo_link_sent',
};

/** Digits only, spaces ignored: what a person copies from an email. */
export const normaliseCode = (input: string): string => input.replace(/\s+/g, '');

/**
 * One-time proofs in the person's zone: a 256-bit token (in a link, or held by the
 * browser in a cookie between two steps of a sign-in), optionally with a six-digit code
 * sent by email. Only hashes are stored; each challenge is single-use, expires, and
 * survives at most a few wrong codes.
 */
export class Challenges {
  constructor(private readonly zones: ZoneRegistry, private readonly clock: Clock) {}

  /** Creates a challenge in its own transaction (see `insert`). */
  async create(person: PersonRef, purpose: ChallengePurpose, options: ChallengeOptions): Promise<IssuedChallenge> {
    return this.zones.get(person.zone).people.transaction((writes) => this.insert(writes, person, purpose, options));
  }

  /**
   * Creates a challenge in the caller's transaction (of the person's zone) and records
   * that it was issued; returns its token and, when `withCode`, the code to email. A new
   * challenge replaces the person's earlier ones of the same kind.
   */
  async insert(writes: PersonWrites, person: PersonRef, purpose: ChallengePurpose, options: ChallengeOptions): Promise<IssuedChallenge> {
    const token = options.token ?? newChallengeToken();
    const code = options.withCode ? String(randomInt(0, 1_000_000)).padStart(6, '0') : undefined;
    await writes.replaceChallenge({
      tokenHash: hashToken(token),
      personId: person.id,
      purpose,
      codeHash: code ? hashCode(token, code) : null,
      detail: options.detail ?? null,
      expiresAt: addSeconds(this.clock.now(), options.ttlSeconds),
    });
    await writes.audit({ kind: 'system', id: null, requestId: options.requestId ?? null }, [{ action: CHALLENGE_ISSUED[purpose], personId: person.id }]);
    return { token, code };
  }

  /** Finds a live challenge by token, in whichever zone holds it (a token names no zone). */
  async #find(token: string, purpose: ChallengePurpose) {
    if (!TOKEN.test(token)) return null;
    const tokenHash = hashToken(token);
    const now = this.clock.now();
    const found = await Promise.all(this.zones.all().map(async (zone) => {
      const challenge = await zone.challenges.find(tokenHash, purpose, now);
      return challenge ? { zone, challenge } : null;
    }));
    return found.find((f) => f !== null) ?? null;
  }

  /** The person a live challenge belongs to, without using it up. */
  async peek(token: string, purpose: ChallengePurpose): Promise<PersonRef | null> {
    const found = await this.#find(token, purpose);
    return found ? { id: found.challenge.personId, zone: found.zone.name } : null;
  }

  /**
   * Checks the code of a challenge. A right code uses the challenge up and returns its
   * person; a wrong one counts, and the last allowed wrong one burns the challenge.
   */
  async redeemCode(token: string, purpose: ChallengePurpose, codeInput: string): Promise<(PersonRef & { readonly detail: Uint8Array | null }) | null> {
    const found = await this.#find(token, purpose);
    const code = normaliseCode(codeInput);
    if (!found || !found.challenge.codeHash) return null;
    const { zone, challenge } = found;
    const given = hashCode(token, CODE.test(code) ? code : '');
    const right = CODE.test(code) && timingSafeEqual(given, Buffer.from(challenge.codeHash!));
    if (right) {
      // Two browsers racing with the right code: only the one that deleted it wins.
      return (await zone.challenges.use(challenge.tokenHash)) ? { id: challenge.personId, zone: zone.name, detail: challenge.detail } : null;
    }
    await zone.challenges.countFailure(challenge.tokenHash, MAX_CODE_ATTEMPTS);
    return null;
  }

  /** Uses up a challenge proved by its token alone (a reset link, a second-factor step). */
  async redeemToken(token: string, purpose: ChallengePurpose): Promise<PersonRef | null> {
    const found = await this.#find(token, purpose);
    if (!found) return null;
    return (await found.zone.challenges.use(found.challenge.tokenHash)) ? { id: found.challenge.personId, zone: found.zone.name } : null;
  }

  /** Counts a failed attempt against a token-only challenge (a wrong second factor); burns it at the limit. */
  async countFailure(token: string, purpose: ChallengePurpose): Promise<void> {
    const found = await this.#find(token, purpose);
    if (!found) return;
    await found.zone.challenges.countFailure(found.challenge.tokenHash, MAX_CODE_ATTEMPTS);
  }
}
