import { decryptFieldText } from '../../crypto/field-cipher.js';
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

/**
 * One consent decision as the app's developers see it: when, what was asked, required and
 * granted, and the decision, the person known only by the app's own id for them. Not the
 * client address: the owners need none to prove the consent, so it stays for the person's
 * own view and the audit.
 */
export interface AppConsentProof extends Omit<ConsentDecision, 'from'> {
  readonly userId: string;
}

/** The proofs of the consents given to an app, gathered from every zone for its owners. */
export class ConsentProofs {
  constructor(private readonly zones: ZoneRegistry) {}

  async forApp(appId: string, limit = 50): Promise<AppConsentProof[]> {
    const perZone = await Promise.all(this.zones.all().map(async (zone) => {
      const rows = await zone.db.selectFrom('consent_records as c')
        .innerJoin('app_users as u', (join) => join.onRef('u.person_id', '=', 'c.person_id').onRef('u.app_id', '=', 'c.app_id'))
        .select(['u.user_id', 'c.decided_at', 'c.decision', 'c.requested', 'c.mandatory', 'c.legal_basis', 'c.granted'])
        .where('c.app_id', '=', appId).orderBy('c.decided_at', 'desc').limit(limit).execute();
      return rows.map((r): AppConsentProof => ({
        userId: r.user_id,
        decidedAt: r.decided_at,
        decision: r.decision,
        requested: r.requested,
        mandatory: r.mandatory,
        legalBasis: r.legal_basis,
        granted: r.granted,
      }));
    }));
    return perZone.flat().sort((a, b) => b.decidedAt.getTime() - a.decidedAt.getTime()).slice(0, limit);
  }
}
