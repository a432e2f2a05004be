import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { encryptField } from '../../crypto/field-cipher.js';
import { requireDataKey } from '../people/data-key.js';
import type { Actor, RequestActor } from '../audit/audit-log.js';
import { legalBasisFor, type App } from '../apps/app.js';
import { addSeconds, type Clock } from '../clock.js';
import type { ConnectRequest, ConnectService } from '../connect/connect-service.js';
import { KeygateError } from '../errors.js';
import { sealedAt } from '../residency/person-data.js';
import type { PersonRef, Zone, ZoneRegistry } from '../zones/zone-registry.js';
import { AlreadyDecided, type ConsentRecordEntry, type ConsentWrites } from './consent-store.js';
import type { FieldCode } from './fields.js';
import type { SessionAuthentication } from '../sessions/session-service.js';

export const consentAddressLocation = (recordId: string) => sealedAt('consent_records', 'ip_ct', recordId);

/** Writes a consent record; the client address, when known, sealed under the person's data key. */
async function recordConsent(writes: ConsentWrites, zone: Zone, record: Omit<ConsentRecordEntry, 'sealedAddress'>, from: string | null): Promise<void> {
  let sealedAddress: Uint8Array | null = null;
  if (from) {
    sealedAddress = encryptField(await requireDataKey(writes, zone, record.personId), consentAddressLocation(record.id), from);
  }
  await writes.recordConsent({ ...record, sealedAddress });
}

/**
 * How a connect request ended, as its app is told: `authorized` with a one-time code,
 * `canceled` (the person refused) or `denied` (a private app does not admit them), both
 * without one. Each protocol carries it back to the app its own way.
 */
export type ConnectDecision =
  | { readonly result: 'authorized'; readonly code: string }
  | { readonly result: 'canceled' }
  | { readonly result: 'denied' };

/** The outcome of an attempt to allow: the decision, or the mandatory fields left unticked. */
export type ConsentOutcome =
  | { readonly ok: true; readonly result: 'authorized'; readonly code: string }
  | { readonly ok: false; readonly missingMandatory: readonly FieldCode[] };

/** One-time codes are looked up by their hash, so a stolen database holds no usable code. */
export const hashCode = (code: string): Buffer => createHash('sha256').update(code, 'utf8').digest();

/**
 * The proof of a decision: what was asked, what was mandatory and on which legal basis,
 * and what the person granted.
 */
function consentRecord(person: PersonRef, app: App, connect: ConnectRequest, decision: 'allowed' | 'canceled', granted: readonly FieldCode[]): Omit<ConsentRecordEntry, 'sealedAddress'> {
  return {
    id: randomUUID(),
    personId: person.id,
    appId: app.id,
    connectId: connect.id,
    requested: connect.scope.fields,
    mandatory: connect.scope.mandatory,
    granted,
    legalBasis: connect.scope.mandatory.length > 0 ? connect.scope.mandatory.map((f) => `${f}: ${legalBasisFor(app, f)}`).join('\n') : null,
    decision,
  };
}

/** Where a decision came from. */
export interface DecisionContext {
  /** The client address, kept sealed with the consent record as part of its proof. */
  readonly from?: string | null;
  /** When and how the person had signed in: the code carries it, for the ID token's `auth_time` and `amr`. */
  readonly authentication?: SessionAuthentication | null;
  /** The browser session the decision was made in, as OpenID Connect names it (`sid`). */
  readonly sessionId?: string | null;
}

/** How the person had signed in, as the code keeps it. */
const codeAuthentication = (context: DecisionContext) => (context.authentication
  ? { authTime: context.authentication.authTime, amr: context.authentication.amr, sid: context.sessionId ?? null }
  : null);

export class ConsentService {
  constructor(
    private readonly zones: ZoneRegistry,
    private readonly connects: ConnectService,
    private readonly clock: Clock,
    private readonly codeTtlSeconds: number,
  ) {}

  /**
   * The person allows the app to read `granted` (a subset of what it asked for; every
   * mandatory field included). Writes the grant, the consent record and a one-time code
   * to the person's zone in one transaction, then settles the connect request.
   */
  async allow(person: PersonRef, app: App, connect: ConnectRequest, granted: readonly FieldCode[], actor: RequestActor, context: DecisionContext = {}): Promise<ConsentOutcome> {
    const fields = connect.scope.fields.filter((f) => granted.includes(f));
    const missingMandatory = connect.scope.mandatory.filter((f) => !fields.includes(f));
    if (missingMandatory.length > 0) return { ok: false, missingMandatory };

    const zone = this.zones.get(person.zone);
    const code = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const who: Actor = { ...actor, kind: 'person', id: person.id, appId: app.id };
    try {
      await zone.consent.decide(async (writes) => {
        await writes.admitAppUser(person.id, app.id, randomUUID());
        await writes.grant(person.id, app.id, fields, now);
        await recordConsent(writes, zone, consentRecord(person, app, connect, 'allowed', fields), context.from ?? null);
        await writes.issueCode({
          codeHash: hashCode(code), connectId: connect.id, appId: app.id, personId: person.id, scope: fields, expiresAt: addSeconds(now, this.codeTtlSeconds),
          authentication: codeAuthentication(context),
        });
        await writes.audit(who, [
          { action: 'consent.given', personId: person.id },
          { action: 'code.issued', personId: person.id },
        ]);
      });
    } catch (error) {
      if (error instanceof AlreadyDecided) throw new KeygateError('connect_already_decided');
      throw error;
    }
    if (!(await this.connects.settleConnect(connect.id, 'authorized', person.zone))) {
      // Someone else decided this request first: withdraw the code we just wrote.
      await zone.consent.withdrawCode(connect.id, person.id);
      throw new KeygateError('connect_already_decided');
    }
    return { ok: true, result: 'authorized', code };
  }

  /**
   * Lets a signed-in person back into an app without asking again (OpenID Connect
   * `prompt=none`), only when what the request asks for is all granted already: a code
   * for those fields, and no new consent record, for the person decided nothing new.
   * `granted: false` when something asked for is not granted, and nothing is written.
   */
  async allowAgain(
    person: PersonRef, app: App, connect: ConnectRequest, actor: RequestActor, context: DecisionContext & { readonly expectedUserIds?: readonly string[] } = {},
  ): Promise<{ granted: true; code: string } | { granted: false; otherPerson: boolean }> {
    const zone = this.zones.get(person.zone);
    const code = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const who: Actor = { ...actor, kind: 'person', id: person.id, appId: app.id };
    const issued = await zone.consent.decide(async (writes) => {
      // The client named who it expects (an ID token hint): someone else is signed in here.
      if (context.expectedUserIds && !context.expectedUserIds.includes((await writes.appUserId(person.id, app.id)) ?? '')) return 'other_person';
      const grant = await writes.currentGrant(person.id, app.id);
      if (!grant || !connect.scope.fields.every((f) => grant.includes(f))) return 'not_granted';
      await writes.issueCode({
        codeHash: hashCode(code), connectId: connect.id, appId: app.id, personId: person.id, scope: connect.scope.fields, expiresAt: addSeconds(now, this.codeTtlSeconds),
        authentication: codeAuthentication(context),
      });
      await writes.audit(who, [{ action: 'code.issued', personId: person.id }]);
      return 'issued';
    }).catch((error: unknown) => {
      throw error instanceof AlreadyDecided ? new KeygateError('connect_already_decided') : error;
    });
    if (issued !== 'issued') return { granted: false, otherPerson: issued === 'other_person' };
    if (!(await this.connects.settleConnect(connect.id, 'authorized', person.zone))) {
      await zone.consent.withdrawCode(connect.id, person.id);
      throw new KeygateError('connect_already_decided');
    }
    return { granted: true, code };
  }

  /** The person's id for the app, or null when they never used it. */
  async userIdFor(person: PersonRef, appId: string): Promise<string | null> {
    return (await this.zones.get(person.zone).consent.decide((writes) => writes.appUserId(person.id, appId))) ?? null;
  }

  /** The person refuses: the app learns `canceled` and receives no code. */
  async cancel(person: PersonRef | null, app: App, connect: ConnectRequest, actor: RequestActor, from: string | null = null): Promise<ConnectDecision> {
    if (!(await this.connects.settleConnect(connect.id, 'canceled', null))) throw new KeygateError('connect_already_decided');
    if (person) {
      const zone = this.zones.get(person.zone);
      await zone.consent.decide(async (writes) => {
        await recordConsent(writes, zone, consentRecord(person, app, connect, 'canceled', []), from);
        await writes.audit({ ...actor, kind: 'person', id: person.id, appId: app.id }, [{ action: 'consent.refused', personId: person.id }]);
      }).catch((error: unknown) => {
        throw error instanceof AlreadyDecided ? new KeygateError('connect_already_decided') : error;
      });
    }
    return { result: 'canceled' };
  }

  /** A private app does not admit this person: the app learns `denied` and receives no code. */
  /**
   * `reason`: a private list that does not hold the person (`private_app.denied`), or a
   * request the app made for someone else (`connect.other_person`).
   */
  async deny(person: PersonRef, app: App, connect: ConnectRequest, actor: RequestActor, reason: 'private_app.denied' | 'connect.other_person' = 'private_app.denied'): Promise<ConnectDecision> {
    if (!(await this.connects.settleConnect(connect.id, 'denied', null))) throw new KeygateError('connect_already_decided');
    await this.zones.get(person.zone).consent.decide((writes) => writes.audit({ ...actor, kind: 'system', id: null, appId: app.id }, [{ action: reason, personId: person.id }]));
    return { result: 'denied' };
  }
}
