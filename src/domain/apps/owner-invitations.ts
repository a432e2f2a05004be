import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ControlDatabase } from '../../storage/schema.js';
import { type Actor } from '../audit/audit-log.js';
import { recordControlAudit } from '../../storage/audit-append.js';
import { addSeconds, type Clock } from '../clock.js';
import { KeygateError } from '../errors.js';
import type { AccountMail } from '../people/account-mail.js';
import { normaliseEmail } from '../people/email.js';
import type { PeopleService } from '../people/people-service.js';
import type { InvitationLimits } from '../protection/invitation-limits.js';
import type { PersonRef } from '../zones/zone-registry.js';
import type { App } from './app.js';
import type { AppOwners } from './app-owners.js';

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
export class OwnerInvitations {
  constructor(
    private readonly db: Kysely<ControlDatabase>,
    private readonly people: PeopleService,
    private readonly mail: AccountMail,
    private readonly limits: InvitationLimits,
    private readonly clock: Clock,
    private readonly owners: AppOwners,
    private readonly publicUrl: string,
  ) {}

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
    await recordControlAudit(this.db, actor, [{ action: 'app.owner_invited', appId: app.id, detail: `invitation=${id}` }]);
    this.mail.afterAnswer(async () => {
      const invitee = await this.people.findByEmail(email);
      if (!invitee) return this.people.recordUnknownIdentifier('owner_invitation.unknown_identifier', { requestId });
      if (invitee.id === inviter.id || (await this.owners.isOwner(app.id, invitee.id))) return;
      // The invitations' own budget per address, not the account's: invitations must not
      // use up the mail a person needs to sign in.
      if (!(await this.limits.admitMailTo(email))) return;
      const token = randomBytes(32).toString('base64url');
      await this.db.transaction().execute(async (trx) => {
        // A new invitation replaces the account's earlier one to the same app.
        await trx.deleteFrom('owner_invitations').where('app_id', '=', app.id).where('person_id', '=', invitee.id).execute();
        await trx.insertInto('owner_invitations').values({
          id, token_hash: hashToken(token), app_id: app.id, person_id: invitee.id, invited_by: inviter.id,
          expires_at: addSeconds(this.clock.now(), OWNER_INVITATION_DAYS * 24 * 60 * 60),
        }).execute();
      });
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
    if (found.person_id !== person.id) return { kind: 'for_another_account' };
    return { kind: 'for_you', appId: found.app_id, appName: found.app_name, expiresAt: found.expires_at };
  }

  /**
   * Accepts or declines the invitation behind a link, as `person`. Only its invitee can;
   * either uses it up. Accepting makes the invitee an owner in the same transaction.
   */
  async decide(token: string, person: PersonRef, decision: 'accept' | 'decline', requestId: string | null): Promise<InvitationOutcome> {
    if (!TOKEN.test(token)) return null;
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('owner_invitations').select(['id', 'app_id', 'person_id', 'invited_by'])
        .where('token_hash', '=', hashToken(token)).where('expires_at', '>', this.clock.now()).forUpdate().executeTakeFirst();
      if (!row) return null;
      if (row.person_id !== person.id) return { kind: 'for_another_account' } as const;
      await trx.deleteFrom('owner_invitations').where('id', '=', row.id).execute();
      // An owner removed since cannot bring someone back in through an invitation they sent.
      const inviterOwns = await trx.selectFrom('app_owners').select('person_id')
        .where('app_id', '=', row.app_id).where('person_id', '=', row.invited_by).executeTakeFirst();
      if (!inviterOwns) return null;
      const actor: Actor = { kind: 'person', id: person.id, appId: row.app_id, requestId };
      if (decision === 'decline') {
        await recordControlAudit(trx, actor, [{ action: 'app.owner_invitation_declined', appId: row.app_id, detail: `invitation=${row.id}` }]);
        return { kind: 'declined', appId: row.app_id } as const;
      }
      const added = await trx.insertInto('app_owners').values({ app_id: row.app_id, person_id: person.id, zone: person.zone })
        .onConflict((oc) => oc.columns(['app_id', 'person_id']).doNothing()).returning('person_id').execute();
      await recordControlAudit(trx, actor, [
        { action: 'app.owner_invitation_accepted', appId: row.app_id, detail: `invitation=${row.id}` },
        // Owners are opaque person ids, already held by the control plane.
        ...(added.length > 0 ? [{ action: 'app.owner_added', appId: row.app_id, detail: person.id }] : []),
      ]);
      return { kind: 'accepted', appId: row.app_id } as const;
    });
  }

  /** A live invitation: not expired, and its inviter still an owner. */
  async #find(token: string) {
    if (!TOKEN.test(token)) return undefined;
    return this.db.selectFrom('owner_invitations').innerJoin('apps', 'apps.id', 'owner_invitations.app_id')
      .innerJoin('app_owners', (join) => join.onRef('app_owners.app_id', '=', 'owner_invitations.app_id').onRef('app_owners.person_id', '=', 'owner_invitations.invited_by'))
      .select(['owner_invitations.app_id', 'owner_invitations.person_id', 'owner_invitations.expires_at', 'apps.name as app_name'])
      .where('owner_invitations.token_hash', '=', hashToken(token)).where('owner_invitations.expires_at', '>', this.clock.now())
      .executeTakeFirst();
  }
}
