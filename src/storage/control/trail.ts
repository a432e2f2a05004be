import type { Kysely } from 'kysely';
import type { Actor, ControlAuditEvent, ControlTrail } from '../../domain/audit/audit-log.js';
import { recordControlAudit } from '../audit-append.js';
import type { ControlDatabase } from '../schema.js';

export class ControlTrailRepo implements ControlTrail {
  constructor(private readonly db: Kysely<ControlDatabase>) {}

  async audit(actor: Actor, events: readonly ControlAuditEvent[]): Promise<void> {
    await this.db.transaction().execute((trx) => recordControlAudit(trx, actor, events));
  }
}
