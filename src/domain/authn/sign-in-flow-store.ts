import type { PersonRef } from '../zones/zone-registry.js';

/** A step the person still has to take before the sign-in completes. */
export type PendingStep = 'identify' | 'confirm_email' | 'second_factor';

/** A sign-in in progress as the control plane keeps it: by its token's hash, ids and method names only. */
export interface SignInFlowRecord {
  readonly idHash: Uint8Array;
  readonly returnTo: string;
  readonly person: PersonRef | null;
  readonly methods: readonly string[];
  readonly step: PendingStep;
  readonly expiresAt: Date;
}

export interface SignInFlowStore {
  /** The flow unexpired at `now`, or undefined. */
  find(idHash: Uint8Array, now: Date): Promise<SignInFlowRecord | undefined>;
  insert(flow: SignInFlowRecord): Promise<void>;
  update(idHash: Uint8Array, progress: { person: PersonRef; methods: readonly string[]; step: PendingStep }): Promise<void>;
  delete(idHash: Uint8Array): Promise<void>;
}
