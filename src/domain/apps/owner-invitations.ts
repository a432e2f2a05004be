import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Actor } from '../audit/audit-log.js';
import { addSeconds, type Clock } from '../clock.js';
import { KeygateError } from '../errors.js';
import type { AccountMail } from '../people/account-mail.js';
import { normaliseEmail } from '../people/email.js';
import type { PersonDirectory } from '../people/person-directory.js';
import type { InvitationLimits } from '../protection/invitation-limits.js';
import type { PersonRef } from '../zones/zone-registry.js';
import type { App } from './app.js';
import type { AppOwners } from './app-owners.js';
import type { AppOwnerStore } from './app-store.js';

/** How long an invitation to become an owner can be accepted. */
export const OWNER_INVITATION_DAYS = 7;

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** The path of an invitation's link (its token is the capability: logged redacted). */
export const OWNER_INVITATION_PATH = '/dashboard/owner-invitations/';

/** A live invitation as its link's page shows it: to its invitee only. */
export type InvitationView =
  | { readonly kind: 'for_you'; readonly appId: string; readonly appName: string; readonly expiresAt: Date }
  /** A live invitation for another account: the page names neither the app nor the account. */
  | { readonly kind: 'for_another_account' };

export type InvitationOutcome = { readonly kind: 'accepted' | 'declined'; readonly appId: string } | { readonly kind: 'for_another_account' } | null;

/**
 * Co-ownership of an app is offered, not imposed: an owner names an address, the account
 * that holds it (if any) gets an invitation at its own address, and becomes an owner only
 * when, signed in as that account, it accepts.
 *
 * Asking tells the owner nothing about the address: the answer, the audit record the
 * owners see and the work before the answer are the same whether or not an account holds
 * it; the lookup, the invitation and the mail come after the answer (`AccountMail`).
 * Asking is limited per app and per owner (`InvitationLimits`).
 *
 * An invitation is a capability like a reset link (a 256-bit token, only its SHA-256
 * kept, single use, expiring) bound to the invited account, holding only while the owner
 * who sent it owns the app; it names people only by opaque id, as app_owners does: the
 * control plane holds no address of them.
 */
export interface OwnerInvitationsOptions {
  /** Where owners and their invitations are kept. */
  readonly store: AppOwnerStore;
  readonly owners: AppOwners;
  /** Finds the invited account after the answer (and records an address nobody holds). */
  readonly directory: PersonDirectory;
  readonly mail: AccountMail;
  readonly limits: InvitationLimits;
  readonly clock: Clock;
  /** Keygate's public URL: the invitation links to its page. */
  readonly publicUrl: string;
}

export class OwnerInvitations {
  private readonly store: AppOwnerStore;
  private readonly owners: AppOwners;
  private readonly directory: PersonDirectory;
  private readonly mail: AccountMail;
  private readonly limits: InvitationLimits;
  private readonly clock: Clock;
  private readonly publicUrl: string;

  constructor(options: OwnerInvitationsOptions) {
    ({
      store: this.store, owners: this.owners, directory: this.directory, mail: this.mail, limits: this.limits, clock: this.clock, publicUrl: this.publicUrl,
    } = options);
  }

  /**
   * Asks for an invitation of the account holding `emailInput` to own `app`, on behalf of
   * `inviter` (an owner). Returns `invalid_email` for what is not an address; throws
   * `too_many_requests` over the limits; otherwise answers `asked`, whatever the address.
   */
  async invite(app: App, inviter: PersonRef, emailInput: string, requestId: string | null): Promise<'asked' | 'invalid_email'> {
    const email = normaliseEmail(emailInput);
    if (!email) return 'invalid_email';
    const verdict = await this.limits.admitOwnerInvitation(app.id, inviter.id);
    if (!verdict.allowed) throw new KeygateError('too_many_requests', { retryAfterSeconds: verdict.retryAfterSeconds });
    // The id names the request in the owners' trail whether or not an invitation is made,
    // so that the trail tells nothing either; a real invitation carries it.
    const id = randomUUID();
    const actor: Actor = { kind: 'person', id: inviter.id, appId: app.id, requestId };
    await this.store.audit(actor, [{ action: 'app.owner_invited', appId: app.id, detail: `invitation=${id}` }]);
    this.mail.afterAnswer(async () => {
      const invitee = await this.directory.findByEmail(email);
      if (!invitee) return this.directory.recordUnknownIdentifier('owner_invitation.unknown_identifier', { requestId });
      if (invitee.id === inviter.id || (await this.owners.isOwner(app.id, invitee.id))) return;
      // The invitations' own budget per address, not the account's: invitations must not
      // use up the mail a person needs to sign in.
      if (!(await this.limits.admitMailTo(email))) return;
      const token = randomBytes(32).toString('base64url');
      // A new invitation replaces the account's earlier one to the same app.
      await this.store.change((changes) => changes.replaceInvitation({
        id, tokenHash: hashToken(token), appId: app.id, personId: invitee.id, invitedBy: inviter.id,
        expiresAt: addSeconds(this.clock.now(), OWNER_INVITATION_DAYS * 24 * 60 * 60),
      }));
      await this.mail.sendToPerson(invitee, {
        kind: 'ownerInvitation',
        params: { appName: app.name, link: `${this.publicUrl}${OWNER_INVITATION_PATH}${token}`, days: OWNER_INVITATION_DAYS },
      }, requestId ?? undefined);
    });
    return 'asked';
  }

  /** The live invitation behind a link, as `person` may see it; null when there is none. */
  async view(token: string, person: PersonRef): Promise<InvitationView | null> {
    const found = await this.#find(token);
    if (!found) return null;
    if (found.personId !== person.id) return { kind: 'for_another_account' };
    return { kind: 'for_you', appId: found.appId, appName: found.appName, expiresAt: found.expiresAt };
  }

  /**
   * Accepts or declines the invitation behind a link, as `person`. Only its invitee can;
   * either uses it up. Accepting makes the invitee an owner in the same transaction.
   */
  async decide(token: string, person: PersonRef, decision: 'accept' | 'decline', requestId: string | null): Promise<InvitationOutcome> {
    if (!TOKEN.test(token)) return null;
    return this.store.change(async (changes) => {
      const invitation = await changes.lockInvitation(hashToken(token), this.clock.now());
      if (!invitation) return null;
      if (invitation.personId !== person.id) return { kind: 'for_another_account' } as const;
      await changes.deleteInvitation(invitation.id);
      // An owner removed since cannot bring someone back in through an invitation they sent.
      if (!(await changes.owns(invitation.appId, invitation.invitedBy))) return null;
      const { appId } = invitation;
      const actor: Actor = { kind: 'person', id: person.id, appId, requestId };
      if (decision === 'decline') {
        await changes.audit(actor, [{ action: 'app.owner_invitation_declined', appId, detail: `invitation=${invitation.id}` }]);
        return { kind: 'declined', appId } as const;
      }
      const added = await changes.add(appId, person);
      await changes.audit(actor, [
        { action: 'app.owner_invitation_accepted', appId, detail: `invitation=${invitation.id}` },
        // Owners are opaque person ids, already held by the control plane.
        ...(added ? [{ action: 'app.owner_added', appId, detail: person.id }] : []),
      ]);
      return { kind: 'accepted', appId } as const;
    });
  }

  /** A live invitation: not expired, and its inviter still an owner. */
  async #find(token: string) {
    if (!TOKEN.test(token)) return undefined;
    return this.store.liveInvitation(hashToken(token), this.clock.now());
  }
}
