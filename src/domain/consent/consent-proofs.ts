import { decryptFieldText } from '../../crypto/field-cipher.js';
import type { ZoneRegistry } from '../zones/zone-registry.js';
import { consentAddressLocation } from './consent-service.js';
import type { AppConsentProof, ConsentDecision, StoredConsentRecord } from './consent-store.js';

/** A consent record as its proof reads, its sealed address opened with the person's data key. */
export function consentDecisionOf(row: Omit<StoredConsentRecord, 'app_id'>, dataKey: Uint8Array | null): ConsentDecision {
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

/** The proofs of the consents given to an app, gathered from every zone for its owners. */
export class ConsentProofs {
  constructor(private readonly zones: ZoneRegistry) {}

  async forApp(appId: string, limit = 50): Promise<AppConsentProof[]> {
    const perZone = await Promise.all(this.zones.all().map((zone) => zone.consent.proofsForApp(appId, limit)));
    return perZone.flat().sort((a, b) => b.decidedAt.getTime() - a.decidedAt.getTime()).slice(0, limit);
  }
}
