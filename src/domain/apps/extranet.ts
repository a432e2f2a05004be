import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { blindIndex } from '../../crypto/blind-index.js';
import type { KeyRing } from '../../crypto/key-ring.js';
import type { Mailer } from '../../mail/mailer.js';
import { extranetInvitation, resolveLocale } from '../../mail/messages.js';
import type { ControlDatabase } from '../../storage/schema.js';
import { recordControlAudit, SYSTEM, type Actor } from '../audit/audit-log.js';
import { KeygateError } from '../errors.js';
import { normaliseEmail } from '../people/email.js';
import type { PeopleService } from '../people/people-service.js';
import type { PersonRef } from '../zones/zone-registry.js';
import { isUuid, type App, type AppsService } from './apps-service.js';

export interface ExtranetMember {
  readonly referenceId: string;
  readonly email: string;
  readonly invitedAt: Date;
}

export type InvitationStatus = 'connected' | 'email-sent';

const EMAIL_INDEX_PURPOSE = 'extranet.email';
const memberEmailLocation = (referenceId: string) => ({ table: 'extranet_members', column: 'email_ct', rowId: referenceId });

/**
 * Private ("extranet") apps: only the app's owners and the people on its list may sign
 * in. The list is of email addresses (an invitee may not have an account yet), sealed
 * under the control plane's key and matched through a keyed blind index.
 */
export class ExtranetService {
  constructor(
    private readonly db: Kysely<ControlDatabase>,
    private readonly ring: KeyRing,
    private readonly indexKey: Uint8Array,
    private readonly apps: AppsService,
    private readonly people: PeopleService,
    private readonly mailer: Mailer,
    private readonly logger: Logger,
  ) {}

  #index(normalisedEmail: string): Buffer {
    return blindIndex(this.indexKey, EMAIL_INDEX_PURPOSE, normalisedEmail);
  }

  /**
   * Puts an email on the app's list. A person who already uses the app is `connected`;
   * anyone else gets an invitation in `locale` (en_GB when unknown). Inviting the same
   * address again returns its existing reference id (and sends the invitation again).
   */
  async invite(app: App, emailInput: string, locale: string | undefined, actor: Actor = SYSTEM): Promise<{ status: InvitationStatus; referenceId: string }> {
    const invited = await this.#invite(app, emailInput, locale);
    // Recorded once done (the reference id, never the address): an invitation is mailed
    // between the insert and its possible withdrawal, so this is not one transaction.
    await recordControlAudit(this.db, actor, [{ action: 'extranet.invited', appId: app.id, detail: `reference=${invited.referenceId},status=${invited.status}` }]);
    return invited;
  }

  async #invite(app: App, emailInput: string, locale: string | undefined): Promise<{ status: InvitationStatus; referenceId: string }> {
    if (!app.private) throw new KeygateError('not_private_app');
    const email = normaliseEmail(emailInput);
    if (!email) throw new KeygateError('invalid_request', { field: 'email', reason: 'not_an_email' });
    const emailIndex = this.#index(email);
    const existing = await this.db.selectFrom('extranet_members').select('reference_id')
      .where('app_id', '=', app.id).where('email_index', '=', emailIndex).executeTakeFirst();
    const referenceId = existing?.reference_id ?? randomUUID();
    if (!existing) {
      const { keyId, sealed } = this.ring.seal(memberEmailLocation(referenceId), Buffer.from(email, 'utf8'));
      await this.db.insertInto('extranet_members').values({
        reference_id: referenceId, app_id: app.id, email_index: emailIndex, email_ct: sealed, email_master_key_id: keyId,
      }).onConflict((oc) => oc.columns(['app_id', 'email_index']).doNothing()).execute();
    }
    const person = await this.people.findByEmail(email);
    if (person && (await this.people.usesApp(person, app.id))) return { status: 'connected', referenceId };

    const message = extranetInvitation(resolveLocale(locale), { appName: app.name, signInUrl: appHome(app) });
    try {
      await this.mailer.send({ to: email, ...message });
    } catch (error) {
      this.logger.warn({ err: (error as Error).message, appId: app.id }, 'could not send an invitation');
      // Nothing half-done: a new entry whose invitation did not go out is withdrawn.
      if (!existing) await this.db.deleteFrom('extranet_members').where('reference_id', '=', referenceId).execute();
      throw new KeygateError('mail_unavailable');
    }
    return { status: 'email-sent', referenceId };
  }

  async remove(app: App, referenceId: string, actor: Actor = SYSTEM): Promise<void> {
    if (!app.private) throw new KeygateError('not_private_app');
    const reference = referenceId.toLowerCase();
    await this.db.transaction().execute(async (trx) => {
      const result = isUuid(reference)
        ? await trx.deleteFrom('extranet_members').where('app_id', '=', app.id).where('reference_id', '=', reference).executeTakeFirst()
        : { numDeletedRows: 0n };
      if (result.numDeletedRows === 0n) throw new KeygateError('unknown_reference');
      await recordControlAudit(trx, actor, [{ action: 'extranet.removed', appId: app.id, detail: `reference=${reference}` }]);
    });
  }

  /** The app's list, decrypted for its owners' dashboard. */
  async list(appId: string): Promise<ExtranetMember[]> {
    const rows = await this.db.selectFrom('extranet_members').selectAll().where('app_id', '=', appId).orderBy('invited_at').execute();
    return rows.map((row) => ({
      referenceId: row.reference_id,
      email: this.ring.open(row.email_master_key_id, memberEmailLocation(row.reference_id), row.email_ct).toString('utf8'),
      invitedAt: row.invited_at,
    }));
  }

  /**
   * Whether a signed-in person may use a private app: its owners always, others when
   * their email is on the list. Reading the email for this check is an audited read.
   */
  async admits(app: App, person: PersonRef, requestId: string): Promise<boolean> {
    if (!app.private || (await this.apps.isOwner(app.id, person.id))) return true;
    const profile = await this.people.readFieldsOf(person, ['email'], { kind: 'system', id: null, appId: app.id, requestId }, 'private app list check');
    const email = profile?.email;
    if (!email) return false;
    const row = await this.db.selectFrom('extranet_members').select('reference_id')
      .where('app_id', '=', app.id).where('email_index', '=', this.#index(email)).executeTakeFirst();
    return row !== undefined;
  }
}

/** Where an invitee starts: the app's site (its first origin, or its first return URL's). */
const appHome = (app: App): string => app.origins[0] ?? new URL(app.returnUrls[0]!).origin;
