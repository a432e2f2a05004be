import { createHash, randomBytes } from 'node:crypto';
import { addSeconds, type Clock } from '../clock.js';
import type { ChallengePurpose } from '../people/challenge-purpose.js';
import type { AccountState } from '../people/person-directory.js';
import type { PersonRef } from '../zones/zone-registry.js';
import type { PendingStep, SignInFlowStore } from './sign-in-flow-store.js';
import { amrOf, isSignInMethodName, type AmrValue, type SignInMethodName } from './methods.js';

export type { PendingStep } from './sign-in-flow-store.js';

/**
 * A sign-in in progress. Its token (held by the browser) also names the zone challenge
 * of the step it waits on, so a browser carries one value whatever the step.
 */
export interface SignInFlow {
  readonly token: string;
  /** Where the completed sign-in goes: chosen by the surface that started it, opaque here. */
  readonly returnTo: string;
  /** The person, once a method identified them. */
  readonly person: PersonRef | null;
  readonly methods: readonly SignInMethodName[];
  readonly step: PendingStep;
}

/** How a person proved who they are: what a session records. */
export interface Authentication {
  readonly person: PersonRef;
  readonly authTime: Date;
  readonly amr: readonly AmrValue[];
}

export type NextStep =
  | { readonly step: 'confirm_email' | 'second_factor'; readonly flow: SignInFlow }
  | { readonly step: 'complete'; readonly authentication: Authentication };

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/**
 * The token of the zone challenge a flow waits on for `purpose` (an emailed code, the
 * second factor): derived from the flow's token, one per purpose, so the browser holds
 * one value and a step of one kind never replaces a pending step of another.
 */
export function challengeTokenOf(flow: Pick<SignInFlow, 'token'>, purpose: ChallengePurpose): string {
  return createHash('sha256').update('keygate/sign-in-step\0').update(purpose).update('\0').update(flow.token).digest('base64url');
}

/**
 * What a sign-in still needs once `methods` are done on an account in `state`: a confirmed
 * address first, then the enrolled second factor, then nothing.
 */
export function nextStepFor(state: AccountState, methods: readonly SignInMethodName[]): Exclude<PendingStep, 'identify'> | 'complete' {
  if (!state.emailVerified) return 'confirm_email';
  if (state.secondFactor && !methods.includes('totp')) return 'second_factor';
  return 'complete';
}

/**
 * Sign-ins in progress, kept in the control plane (ids and method names only) so that any
 * node serves any step. A flow belongs to the surface that started it: a token presented
 * on another surface starts a new flow instead of carrying methods across.
 */
export class SignInFlows {
  readonly #store: SignInFlowStore;
  readonly #clock: Clock;
  readonly #ttlSeconds: number;

  constructor(options: { store: SignInFlowStore; clock: Clock; ttlSeconds: number }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#ttlSeconds = options.ttlSeconds;
  }

  /** The live flow behind `token` for `returnTo`, or null. */
  async find(token: string | undefined, returnTo: string): Promise<SignInFlow | null> {
    if (!token || !TOKEN.test(token)) return null;
    const found = await this.#store.find(hashToken(token), this.#clock.now());
    if (!found || found.returnTo !== returnTo) return null;
    return { token, returnTo, person: found.person, methods: found.methods.filter(isSignInMethodName), step: found.step };
  }

  /** Starts a flow that will return to `returnTo` (a step needs a challenge before anyone is identified). */
  start(returnTo: string): Promise<SignInFlow> {
    return this.#insert(returnTo, null, [], 'identify');
  }

  /** The live flow behind `token` for `returnTo`, or a new one. */
  async resume(token: string | undefined, returnTo: string): Promise<SignInFlow> {
    return (await this.find(token, returnTo)) ?? this.start(returnTo);
  }

  async #insert(returnTo: string, person: PersonRef | null, methods: SignInMethodName[], step: PendingStep): Promise<SignInFlow> {
    const token = randomBytes(32).toString('base64url');
    await this.#store.insert({ idHash: hashToken(token), returnTo, person, methods, step, expiresAt: addSeconds(this.#clock.now(), this.#ttlSeconds) });
    return { token, returnTo, person, methods, step };
  }

  /**
   * The person completed `method`, in `flow` or (null) in a sign-in that kept no state
   * yet. Methods done for someone else count for nothing: a flow that identifies another
   * person starts again from this method. Returns the step that follows: a flow is kept
   * only while a step remains, so a sign-in that completes at once writes nothing here.
   */
  async proved(flow: SignInFlow | null, returnTo: string, person: PersonRef, method: SignInMethodName, state: AccountState): Promise<NextStep> {
    const samePerson = flow?.person != null && flow.person.id === person.id && flow.person.zone === person.zone;
    const methods = [...new Set([...(samePerson ? flow!.methods : []), method])];
    const next = nextStepFor(state, methods);
    if (next === 'complete') {
      if (flow) await this.end(flow);
      return { step: 'complete', authentication: { person, authTime: this.#clock.now(), amr: amrOf(methods) } };
    }
    if (!flow) return { step: next, flow: await this.#insert(returnTo, person, methods, next) };
    await this.#store.update(hashToken(flow.token), { person, methods, step: next });
    return { step: next, flow: { ...flow, person, methods, step: next } };
  }

  /** Ends a flow (completed, or abandoned by the person). */
  async end(flow: Pick<SignInFlow, 'token'>): Promise<void> {
    await this.#store.delete(hashToken(flow.token));
  }
}
