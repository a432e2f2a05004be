import { decryptFieldText } from '../../crypto/field-cipher.js';
import type { ZoneRegistry } from '../zones/zone-registry.js';
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

/** A consent record's columns, as the person's own views read them. */
interface ConsentRow {
  readonly id: string;
  readonly decided_at: Date;
  readonly decision: 'allowed' | 'canceled';
  readonly requested: readonly string[];
  readonly mandatory: readonly string[];
  readonly legal_basis: string | null;
  readonly granted: readonly string[];
  readonly ip_ct: Uint8Array | null;
}

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
    const perZone = await Promise.all(this.zones.all().map((zone) => zone.consent.proofsForApp(appId, limit)));
    return perZone.flat().sort((a, b) => b.decidedAt.getTime() - a.decidedAt.getTime()).slice(0, limit);
  }
}
