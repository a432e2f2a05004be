import { decryptFieldText } from '../../crypto/field-cipher.js';
import { unwrapDataKey } from '../../crypto/key-ring.js';
import { recordAudit, type Actor } from '../audit/audit-log.js';
import type { ZoneRegistry } from '../zones/zone-registry.js';
import type { Selectable } from 'kysely';
import type { ConsentRecordsTable } from '../../storage/schema.js';
import { consentAddressLocation } from './consent-service.js';

/** What a consent record proves: what was asked and required (why), what was granted, when and from where. */
export interface ConsentDecision {
  readonly decidedAt: Date;
  readonly decision: 'allowed' | 'canceled';
  readonly requested: readonly string[];
  readonly mandatory: readonly string[];
  readonly legalBasis: string | null;
  readonly granted: readonly string[];
  readonly from: string | null;
}

type ConsentRow = Pick<Selectable<ConsentRecordsTable>, 'id' | 'decided_at' | 'decision' | 'requested' | 'mandatory' | 'legal_basis' | 'granted' | 'ip_ct'>;

/** A consent record as its proof reads, its sealed address opened with the person's data key. */
export function consentDecisionOf(row: ConsentRow, dataKey: Uint8Array | null): ConsentDecision {
  return {
    decidedAt: row.decided_at,
    decision: row.decision,
    requested: row.requested,
    mandatory: row.mandatory,
    legalBasis: row.legal_basis,
    granted: row.granted,
    from: row.ip_ct && dataKey ? decryptFieldText(dataKey, consentAddressLocation(row.id), row.ip_ct) : null,
  };
}

/** One consent decision as the app's developers see it: the person only by the app's own id for them. */
export interface AppConsentProof extends ConsentDecision {
  readonly userId: string;
}

/**
 * The proofs of the consents given to an app, gathered from every zone for its owners.
 * Opening a person's sealed address is a read of their data: recorded in their zone, in
 * the same transaction, as the developer's read.
 */
export class ConsentProofs {
  constructor(private readonly zones: ZoneRegistry) {}

  async forApp(appId: string, reader: Actor, limit = 50): Promise<AppConsentProof[]> {
    const perZone = await Promise.all(this.zones.all().map((zone) => zone.db.transaction().execute(async (trx) => {
      const rows = await trx.selectFrom('consent_records as c')
        .innerJoin('app_users as u', (join) => join.onRef('u.person_id', '=', 'c.person_id').onRef('u.app_id', '=', 'c.app_id'))
        .innerJoin('person_keys as k', 'k.person_id', 'c.person_id')
        .select(['c.id', 'c.person_id', 'u.user_id', 'c.decided_at', 'c.decision', 'c.requested', 'c.mandatory', 'c.legal_basis', 'c.granted', 'c.ip_ct', 'k.master_key_id', 'k.wrapped_key'])
        .where('c.app_id', '=', appId).orderBy('c.decided_at', 'desc').limit(limit).execute();
      const opened = rows.filter((r) => r.ip_ct);
      await recordAudit(trx, { ...reader, appId }, opened.map((r) => ({ action: 'field.read', personId: r.person_id, field: 'consent_address', purpose: 'app consent proof' })));
      return rows.map((r): AppConsentProof => ({
        userId: r.user_id,
        ...consentDecisionOf(r, r.ip_ct ? unwrapDataKey(zone.ring, r.person_id, { masterKeyId: r.master_key_id, wrappedKey: r.wrapped_key }) : null),
      }));
    })));
    return perZone.flat().sort((a, b) => b.decidedAt.getTime() - a.decidedAt.getTime()).slice(0, limit);
  }
}
