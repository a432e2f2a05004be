import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { blindIndex } from '../../crypto/blind-index.js';
import type { KeyRing } from '../../crypto/key-ring.js';
import type { Mailer } from '../../mail/mailer.js';
import { extranetInvitation, resolveLocale, type Locale } from '../../mail/messages.js';
import { SYSTEM, type Actor } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { InvitationLimits } from '../protection/invitation-limits.js';
import { KeygateError } from '../errors.js';
import { normaliseEmail } from '../people/email.js';
import type { PersonProfiles } from '../people/person-profiles.js';
import type { PersonRef } from '../zones/zone-registry.js';
import { isUuid, type App } from './app.js';
import type { AppOwners } from './app-owners.js';
import type { ListedAddress, PrivateListStore } from './private-list-store.js';

export interface ExtranetMember {
  readonly referenceId: string;
  readonly email: string;
  readonly invitedAt: Date;
  /** When an invitation was last mailed to the address; null: none went out yet. */
  readonly mailedAt: Date | null;
}

/**
 * What the API answers for an address put on the list. It is always `email-sent`: the
 * Ukey1 spec fixes the two values `connected` and `email-sent`, and telling them apart
 * would tell an app which addresses belong to its users. It means "the address is on the
 * list; Keygate mails it an invitation when it is first listed".
 */
export type InvitationStatus = 'email-sent';

/** What happened to the invitation mail: what the owners' dashboard says, never the API. */
export type InvitationMail = 'sent' | 'withheld' | 'already_listed';

const EMAIL_INDEX_PURPOSE = 'extranet.email';
const memberEmailLocation = (referenceId: string) => ({ table: 'extranet_members', column: 'email_ct', rowId: referenceId });

/**
 * Private ("extranet") apps: only the app's owners and the people on its list may sign
 * in. The list is of email addresses (an invitee may not have an account yet), sealed
 * under the control plane's key and matched through a keyed blind index.
 *
 * Listing an address mails it an invitation from Keygate's own address, so the mail is
 * held to what an app's owners cannot choose: one invitation per (app, address) unless an
 * owner resends it explicitly, within a budget per app and per recipient
 * (`InvitationLimits`), and a link to Keygate's own page about the app, never to a URL
 * the caller gives. Whether the address has an account, or already uses the app, plays
 * no part: it is not looked up.
 */
export interface ExtranetOptions {
  readonly store: PrivateListStore;
  /** The control plane's master keys, which seal the listed addresses. */
  readonly ring: KeyRing;
  /** The control plane's blind-index key. */
  readonly indexKey: Uint8Array;
  readonly owners: AppOwners;
  /** Reads a signed-in person's email to check the list (an audited read). */
  readonly profiles: PersonProfiles;
  readonly mailer: Mailer;
  readonly limits: InvitationLimits;
  readonly clock: Clock;
  /** Keygate's public URL: the invitation links to its page about the app. */
  readonly publicUrl: string;
  readonly logger: Logger;
}

export class ExtranetService {
  private readonly store: PrivateListStore;
  private readonly ring: KeyRing;
  private readonly indexKey: Uint8Array;
  private readonly owners: AppOwners;
  private readonly profiles: PersonProfiles;
  private readonly mailer: Mailer;
  private readonly limits: InvitationLimits;
  private readonly clock: Clock;
  private readonly publicUrl: string;
  private readonly logger: Logger;

  constructor(options: ExtranetOptions) {
    ({
      store: this.store, ring: this.ring, indexKey: this.indexKey, owners: this.owners, profiles: this.profiles, mailer: this.mailer,
      limits: this.limits, clock: this.clock, publicUrl: this.publicUrl, logger: this.logger,
    } = options);
  }

  #index(normalisedEmail: string): Buffer {
    return blindIndex(this.indexKey, EMAIL_INDEX_PURPOSE, normalisedEmail);
  }

  #open(listed: ListedAddress): string {
    return this.ring.open(listed.sealedEmail.masterKeyId, memberEmailLocation(listed.referenceId), listed.sealedEmail.sealed).toString('utf8');
  }

  /**
   * Puts an email on the app's list and mails it an invitation in `locale` (en_GB when
   * unknown). An address already listed keeps its reference id and is not mailed again
   * (see `resend`). The answer is the same for every address.
   */
  async invite(app: App, emailInput: string, locale: string | undefined, actor: Actor = SYSTEM): Promise<{ status: InvitationStatus; referenceId: string; mail: InvitationMail }> {
    if (!app.private) throw new KeygateError('not_private_app');
    const email = normaliseEmail(emailInput);
    if (!email) throw new KeygateError('invalid_request', { field: 'email', reason: 'not_an_email' });
    const emailIndex = this.#index(email);
    const existing = await this.store.referenceOf(app.id, emailIndex);
    if (existing) {
      await this.store.audit(actor, [{ action: 'extranet.invited', appId: app.id, detail: `reference=${existing},mail=already_listed` }]);
      return { status: 'email-sent', referenceId: existing, mail: 'already_listed' };
    }
    await this.#admitAppMail(app);
    const referenceId = randomUUID();
    const resolved = resolveLocale(locale);
    const { keyId, sealed } = this.ring.seal(memberEmailLocation(referenceId), Buffer.from(email, 'utf8'));
    const inserted = await this.store.insertIfAbsent({
      referenceId, appId: app.id, emailIndex, sealedEmail: { masterKeyId: keyId, sealed }, locale: resolved,
    });
    if (!inserted) {
      // A parallel call listed it first: that call mails it.
      const winner = await this.store.referenceOf(app.id, emailIndex);
      if (!winner) throw new Error('a listed address vanished while it was listed');
      return { status: 'email-sent', referenceId: winner, mail: 'already_listed' };
    }
    let mail: InvitationMail;
    try {
      mail = await this.#mail(app, referenceId, email, resolved);
    } catch (error) {
      // Nothing half-done: a new entry whose invitation did not go out is withdrawn.
      await this.store.withdraw(referenceId);
      throw error;
    }
    // Recorded once done (the reference id, never the address): an invitation is mailed
    // between the insert and its possible withdrawal, so this is not one transaction.
    await this.store.audit(actor, [{ action: 'extranet.invited', appId: app.id, detail: `reference=${referenceId},mail=${mail}` }]);
    return { status: 'email-sent', referenceId, mail };
  }

  /**
   * Mails the invitation of a listed address again, in the language it was first asked
   * in: an owner's explicit act, within the same limits as the first mail.
   */
  async resend(app: App, referenceId: string, actor: Actor = SYSTEM): Promise<Exclude<InvitationMail, 'already_listed'>> {
    if (!app.private) throw new KeygateError('not_private_app');
    const reference = referenceId.toLowerCase();
    const listed = isUuid(reference) ? await this.store.find(app.id, reference) : undefined;
    if (!listed) throw new KeygateError('unknown_reference');
    await this.#admitAppMail(app);
    const mail = await this.#mail(app, listed.referenceId, this.#open(listed), resolveLocale(listed.locale));
    await this.store.audit(actor, [{ action: 'extranet.invitation_resent', appId: app.id, detail: `reference=${listed.referenceId},mail=${mail}` }]);
    return mail;
  }

  /** The app's budget of invitation mails; over it, nothing is listed or mailed. */
  async #admitAppMail(app: App): Promise<void> {
    const verdict = await this.limits.admitListMail(app.id);
    if (!verdict.allowed) throw new KeygateError('too_many_requests', { retryAfterSeconds: verdict.retryAfterSeconds });
  }

  /**
   * Mails the invitation unless the address has had its share of invitations (from any
   * app) today: then it stays listed, unmailed, and the owners may resend later.
   */
  async #mail(app: App, referenceId: string, email: string, locale: Locale): Promise<'sent' | 'withheld'> {
    if (!(await this.limits.admitMailTo(email))) return 'withheld';
    const message = extranetInvitation(locale, { appName: app.name, signInUrl: invitationPageUrl(this.publicUrl, app.id) });
    try {
      await this.mailer.send({ to: email, ...message });
    } catch (error) {
      this.logger.warn({ err: (error as Error).message, appId: app.id }, 'could not send an invitation');
      throw new KeygateError('mail_unavailable');
    }
    await this.store.markMailed(referenceId, this.clock.now());
    return 'sent';
  }

  async remove(app: App, referenceId: string, actor: Actor = SYSTEM): Promise<void> {
    if (!app.private) throw new KeygateError('not_private_app');
    const reference = referenceId.toLowerCase();
    const removed = isUuid(reference)
      && await this.store.remove(app.id, reference, actor, [{ action: 'extranet.removed', appId: app.id, detail: `reference=${reference}` }]);
    if (!removed) throw new KeygateError('unknown_reference');
  }

  /** The app's list, decrypted for its owners' dashboard. */
  async list(appId: string): Promise<ExtranetMember[]> {
    return (await this.store.list(appId)).map((listed) => ({
      referenceId: listed.referenceId, email: this.#open(listed), invitedAt: listed.invitedAt, mailedAt: listed.mailedAt,
    }));
  }

  /**
   * Whether a signed-in person may use a private app: its owners always, others when
   * their email is on the list. Reading the email for this check is an audited read.
   */
  async admits(app: App, person: PersonRef, requestId: string): Promise<boolean> {
    if (!app.private || (await this.owners.isOwner(app.id, person.id))) return true;
    const profile = await this.profiles.readFieldsOf(person, ['email'], { kind: 'system', id: null, appId: app.id, requestId }, 'private app list check');
    const email = profile?.email;
    if (!email) return false;
    return (await this.store.referenceOf(app.id, this.#index(email))) !== undefined;
  }
}

/** Keygate's page about a private app: where an invitation links to (see the gateway's `/invitations/:appId`). */
export const invitationPageUrl = (publicUrl: string, appId: string): string => `${publicUrl.replace(/\/+$/, '')}/invitations/${appId}`;

/** Where an invitee goes on from Keygate's page: the app's site as its owners registered it (first origin, or first return URL's). */
export const appHome = (app: App): string => app.origins[0] ?? new URL(app.returnUrls[0]!).origin;
