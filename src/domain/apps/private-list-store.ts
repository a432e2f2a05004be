import type { Actor, ControlAuditEvent } from '../audit/audit-log.js';

/** An address on a private app's list, as the control plane keeps it: sealed, found by its blind index. */
export interface ListedAddress {
  readonly referenceId: string;
  readonly appId: string;
  readonly emailIndex: Uint8Array;
  readonly sealedEmail: { readonly masterKeyId: string; readonly sealed: Uint8Array };
  /** The language the invitation was asked in. */
  readonly locale: string;
  readonly invitedAt: Date;
  readonly mailedAt: Date | null;
}

export type NewListedAddress = Omit<ListedAddress, 'invitedAt' | 'mailedAt'>;

/** Private apps' lists of addresses. */
export interface PrivateListStore {
  /** The reference of the address with this blind index on the app's list, if listed. */
  referenceOf(appId: string, emailIndex: Uint8Array): Promise<string | undefined>;
  /** Lists an address; false when it was listed already (a parallel call got there first). */
  insertIfAbsent(address: NewListedAddress): Promise<boolean>;
  /** Deletes a new entry whose invitation could not be mailed. */
  withdraw(referenceId: string): Promise<void>;
  find(appId: string, referenceId: string): Promise<ListedAddress | undefined>;
  markMailed(referenceId: string, at: Date): Promise<void>;
  /** Removes an address with its records, in one transaction; false when it was not listed. */
  remove(appId: string, referenceId: string, actor: Actor, events: readonly ControlAuditEvent[]): Promise<boolean>;
  /** The app's list, oldest first. */
  list(appId: string): Promise<ListedAddress[]>;
  audit(actor: Actor, events: readonly ControlAuditEvent[]): Promise<void>;
}
