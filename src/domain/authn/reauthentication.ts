import type { RequestActor } from '../audit/audit-log.js';
import type { Passwords } from '../people/passwords.js';
import type { PersonDirectory } from '../people/person-directory.js';
import type { SecondFactor } from '../people/second-factor.js';
import { accountCounter, type SignInThrottle, type ThrottleVerdict } from '../protection/sign-in-throttle.js';
import type { PersonRef } from '../zones/zone-registry.js';

export type ReauthenticationOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly wrong: 'password' | 'code' }
  | { readonly ok: false; readonly retryAfterSeconds: number };

export interface ReauthenticationDeps {
  readonly passwords: Passwords;
  readonly directory: PersonDirectory;
  readonly secondFactor: SecondFactor;
  readonly throttle: SignInThrottle;
  /** Tells the person that proving who they are is paused on their account. */
  readonly announcePause: (person: PersonRef, minutes: number, requestId: string) => void;
}

/**
 * Proving again, inside a session, that one is the person who signed in, before a change
 * a stolen session must not be able to make (a new password, a new second factor). Every
 * guess counts in the same per-account limiter as sign-in, so a session gives no more
 * guesses at a password or code than the sign-in page does.
 */
export class Reauthentication {
  constructor(private readonly deps: ReauthenticationDeps) {}

  /** Counts one attempt on the person's account; the attempt that goes over pauses it and tells them. */
  async admit(person: PersonRef, requestId: string): Promise<ThrottleVerdict> {
    const verdict = await this.deps.throttle.admitOnAccount(accountCounter(person));
    if (!verdict.allowed && verdict.pauseStarted) this.deps.announcePause(person, Math.ceil(verdict.retryAfterSeconds / 60), requestId);
    return verdict;
  }

  /** The whole proof succeeded: the account's count starts again, as after a sign-in. */
  succeeded(person: PersonRef): Promise<void> {
    return this.deps.throttle.recordSuccess(accountCounter(person));
  }

  /**
   * The password, and a current code (or recovery code) when a second factor is on. Only
   * a complete proof clears the count: a right password alone reopens nothing.
   */
  async confirm(person: PersonRef, proof: { readonly password: string; readonly code: string }, actor: RequestActor): Promise<ReauthenticationOutcome> {
    const verdict = await this.admit(person, actor.requestId ?? '');
    if (!verdict.allowed) return { ok: false, retryAfterSeconds: verdict.retryAfterSeconds };
    if (!(await this.deps.passwords.checkPassword(person, proof.password))) return { ok: false, wrong: 'password' };
    if ((await this.deps.directory.accountState(person))?.secondFactor && !(await this.deps.secondFactor.verify(person, proof.code, actor))) {
      return { ok: false, wrong: 'code' };
    }
    await this.succeeded(person);
    return { ok: true };
  }

  /** A current code (or recovery code) alone, counted like a sign-in's second step. */
  async confirmCode(person: PersonRef, code: string, actor: RequestActor): Promise<ReauthenticationOutcome> {
    const verdict = await this.admit(person, actor.requestId ?? '');
    if (!verdict.allowed) return { ok: false, retryAfterSeconds: verdict.retryAfterSeconds };
    return (await this.deps.secondFactor.verify(person, code, actor)) ? { ok: true } : { ok: false, wrong: 'code' };
  }
}
