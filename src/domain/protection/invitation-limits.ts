import type { Redis } from 'ioredis';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { pseudonymOf, secondsToWait, sharedLimiter as limiter, take } from './limiter.js';

/**
 * How much mail the owners of an app can make Keygate send on the app's behalf, and how
 * many owner invitations (each an answer about an address) they can ask for. Invitations
 * go out from Keygate's own address, so without limits any app would be a way to mail or
 * probe anyone. Shared by every node through Redis when it is set; each node counts alone
 * while Redis is away.
 */
export interface InvitationLimitValues {
  /** Owner invitations asked for per app, and per inviting owner, per window. */
  readonly ownerInvitationsPerApp: number;
  readonly ownerInvitationsPerOwner: number;
  readonly ownerWindowSeconds: number;
  /** Private-app invitation mails per app per window: far above onboarding a team, far below a mailing. */
  readonly listMailsPerApp: number;
  readonly listMailWindowSeconds: number;
  /** Invitation mails to one address per window, whichever apps send them. */
  readonly mailsPerRecipient: number;
  readonly recipientWindowSeconds: number;
}

export const DEFAULT_INVITATION_LIMITS: InvitationLimitValues = {
  ownerInvitationsPerApp: 10,
  ownerInvitationsPerOwner: 20,
  ownerWindowSeconds: 60 * 60,
  listMailsPerApp: 100,
  listMailWindowSeconds: 60 * 60,
  mailsPerRecipient: 5,
  recipientWindowSeconds: 24 * 60 * 60,
};

export type LimitVerdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

export class InvitationLimits {
  readonly #ownerInvitationsPerApp: RateLimiterAbstract;
  readonly #ownerInvitationsPerOwner: RateLimiterAbstract;
  readonly #listMails: RateLimiterAbstract;
  readonly #recipients: RateLimiterAbstract;

  /**
   * `pseudonymKey` keys the HMAC that names every counter, so that the shared store holds
   * no email address (nor a person or app id in clear).
   */
  constructor(private readonly pseudonymKey: Buffer, options: { redis?: Redis; prefix: string; limits?: InvitationLimitValues }) {
    const l = options.limits ?? DEFAULT_INVITATION_LIMITS;
    const { redis, prefix } = options;
    this.#ownerInvitationsPerApp = limiter(l.ownerInvitationsPerApp, l.ownerWindowSeconds, `${prefix}:owner-invitations-app`, redis);
    this.#ownerInvitationsPerOwner = limiter(l.ownerInvitationsPerOwner, l.ownerWindowSeconds, `${prefix}:owner-invitations-owner`, redis);
    this.#listMails = limiter(l.listMailsPerApp, l.listMailWindowSeconds, `${prefix}:list-mails-app`, redis);
    this.#recipients = limiter(l.mailsPerRecipient, l.recipientWindowSeconds, `${prefix}:invitation-recipient`, redis);
  }

  /**
   * Counts one owner invitation asked for by `ownerId` for `appId`, before anything is
   * looked up: counted whether or not the address has an account, so the limit tells nothing.
   */
  async admitOwnerInvitation(appId: string, ownerId: string): Promise<LimitVerdict> {
    return InvitationLimits.#consumeAll([
      [this.#ownerInvitationsPerApp, this.#pseudonym('app', appId)],
      [this.#ownerInvitationsPerOwner, this.#pseudonym('person', ownerId)],
    ]);
  }

  /** Counts one private-app invitation mail against the app's budget. */
  async admitListMail(appId: string): Promise<LimitVerdict> {
    return InvitationLimits.#consumeAll([[this.#listMails, this.#pseudonym('app', appId)]]);
  }

  /** Counts one invitation mail to a normalised address; false: over its budget, send nothing. */
  async admitMailTo(normalisedEmail: string): Promise<boolean> {
    return (await InvitationLimits.#consumeAll([[this.#recipients, this.#pseudonym('recipient', normalisedEmail)]])).allowed;
  }

  #pseudonym(kind: string, value: string): string {
    return pseudonymOf(this.pseudonymKey, kind, value);
  }

  static async #consumeAll(buckets: ReadonlyArray<readonly [RateLimiterAbstract, string]>): Promise<LimitVerdict> {
    for (const [bucket, key] of buckets) {
      const refusal = await take(bucket, key);
      if (refusal) return { allowed: false, retryAfterSeconds: secondsToWait(refusal) };
    }
    return { allowed: true };
  }
}
