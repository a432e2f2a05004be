import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { ControlDatabase } from '../../storage/schema.js';
import type { App, AppsService } from '../apps/apps-service.js';
import { ExtranetService, type InvitationStatus } from '../apps/extranet.js';
import { ConnectService, type ConnectInput } from '../connect/connect-service.js';
import { KeygateError } from '../errors.js';
import { recordControlAudit, SYSTEM, type Actor } from './audit-log.js';

/**
 * The private-app list with its changes recorded in the control plane's trail (the
 * reference id only, never the address). The list itself is not changed in a transaction
 * (an invitation is mailed between the insert and its possible withdrawal), so the record
 * is written once the change is done.
 */
export class AuditedExtranetService extends ExtranetService {
  readonly #db: Kysely<ControlDatabase>;

  constructor(...args: ConstructorParameters<typeof ExtranetService>) {
    super(...args);
    this.#db = args[0];
  }

  override async invite(app: App, emailInput: string, locale: string | undefined, actor: Actor = SYSTEM): Promise<{ status: InvitationStatus; referenceId: string }> {
    const invited = await super.invite(app, emailInput, locale);
    await recordControlAudit(this.#db, actor, [{ action: 'extranet.invited', appId: app.id, detail: `reference=${invited.referenceId},status=${invited.status}` }]);
    return invited;
  }

  override async remove(app: App, referenceId: string, actor: Actor = SYSTEM): Promise<void> {
    await super.remove(app, referenceId);
    await recordControlAudit(this.#db, actor, [{ action: 'extranet.removed', appId: app.id, detail: `reference=${referenceId.toLowerCase()}` }]);
  }
}

/** Connect requests, with return-URL refusals recorded in the control plane's trail (the code only). */
export class AuditedConnectService extends ConnectService {
  constructor(private readonly apps: AppsService, private readonly logger: Logger, ...args: ConstructorParameters<typeof ConnectService>) {
    super(...args);
  }

  override async openConnect(app: App, input: ConnectInput): Promise<{ connectId: string; gateway: string }> {
    try {
      return await super.openConnect(app, input);
    } catch (error) {
      if (error instanceof KeygateError && error.code === 'return_url_not_allowed') {
        await this.apps.recordRefusal(app.id, error.code, null)
          .catch((failure: Error) => this.logger.warn({ err: failure.message, appId: app.id }, 'could not record a refusal in the audit trail'));
      }
      throw error;
    }
  }
}
