import { createHash, randomBytes } from 'node:crypto';
import { encryptField, type FieldLocation } from '../../crypto/field-cipher.js';
import { sealedAt, sealedRowKey } from '../residency/person-data.js';
import { openDataKey } from '../people/data-key.js';
import { describeDevice, describeNetwork, type SessionOrigin } from './session-origin.js';
import { addSeconds, type Clock } from '../clock.js';
import type { PersonRef, ZoneRegistry } from '../zones/zone-registry.js';
import { isZoneName } from '../zones/zones.js';
import { isAmrValue, type AmrValue } from '../authn/methods.js';

/** When and how the person proved who they are for a session. */
export interface SessionAuthentication {
  readonly authTime: Date;
  readonly amr: readonly AmrValue[];
}

/** Told when a person signs out of a session, after it ended: what apps signed in with it may want to hear. */
export type SignOutListener = (person: PersonRef, publicSessionId: string) => void;

/** Where a session's sealed values live: bound to the session's row. */
export type SessionSealedColumn = 'device_ct' | 'network_ct';

export const sessionField = (idHash: Uint8Array, column: SessionSealedColumn): FieldLocation =>
  sealedAt('sessions', column, sealedRowKey('sessions', { id_hash: idHash }));

/**
 * Gateway sessions. The cookie holds `zone.secret` where the secret is 256 random bits;
 * the person's zone stores only its SHA-256, so a database leak yields no usable session.
 * The zone prefix is routing, not a credential: a person who moved zones since is found
 * in their new zone.
 */
export class SessionService {
  readonly #signOutListeners: SignOutListener[] = [];

  constructor(
    private readonly zones: ZoneRegistry,
    private readonly clock: Clock,
    private readonly idleMinutes: number,
    private readonly absoluteHours: number,
  ) {}

  #hash(token: string): Buffer {
    return createHash('sha256').update(token, 'utf8').digest();
  }

  #zoneOf(token: string) {
    const [zone, secret] = token.split('.');
    if (!isZoneName(zone) || !secret || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
    return this.zones.get(zone);
  }

  /**
   * Starts a session for a person who just proved who they are; returns the cookie value.
   * The browser and network it comes from are kept sealed, for the person's list of sessions.
   */
  async startSession(person: PersonRef, origin: SessionOrigin = {}, authentication: SessionAuthentication = { authTime: this.clock.now(), amr: [] }): Promise<string> {
    const token = `${person.zone}.${randomBytes(32).toString('base64url')}`;
    const now = this.clock.now();
    const zone = this.zones.get(person.zone);
    const idHash = this.#hash(token);
    const dataKey = await openDataKey(zone.people, zone, person.id);
    const seal = (column: SessionSealedColumn, value: string | null) =>
      dataKey && value ? encryptField(dataKey, sessionField(idHash, column), value) : null;
    await zone.sessions.insert({
      idHash,
      personId: person.id,
      lastSeenAt: now,
      expiresAt: addSeconds(now, this.absoluteHours * 3600),
      sealedDevice: seal('device_ct', describeDevice(origin.userAgent)),
      sealedNetwork: seal('network_ct', describeNetwork(origin.address)),
      authTime: authentication.authTime,
      amr: authentication.amr,
    });
    return token;
  }

  /**
   * The session's public id: what an app may be told to name this browser session (an
   * OpenID Connect `sid`) and later hear it ended. A digest of the session's stored id,
   * so it gives nobody the session; null for a value that cannot be a session token.
   */
  publicSessionId(token: string | undefined): string | null {
    if (!token || !this.#zoneOf(token)) return null;
    return createHash('sha256').update('keygate/public-session-id\0').update(this.#hash(token)).digest('base64url').slice(0, 32);
  }

  /** Calls `listener` after every sign-out (the person's own act, not a session replaced or ended with the account). */
  onSignOut(listener: SignOutListener): void {
    this.#signOutListeners.push(listener);
  }

  /** When and how the person behind a live session proved who they are (null: no such session). */
  async authenticationOf(token: string | undefined): Promise<SessionAuthentication | null> {
    const named = token ? this.#zoneOf(token) : null;
    if (!named || !token) return null;
    const now = this.clock.now();
    for (const zone of this.zones.searchOrder(named.name)) {
      const found = await zone.sessions.authentication(this.#hash(token), now);
      if (found) return { authTime: found.authTime, amr: found.amr.filter(isAmrValue) };
    }
    return null;
  }

  /** The person behind a session cookie, or null when it is unknown, idle too long or too old. */
  async resolveSession(token: string | undefined): Promise<PersonRef | null> {
    if (!token) return null;
    const named = this.#zoneOf(token);
    if (!named) return null;
    const now = this.clock.now();
    const idHash = this.#hash(token);
    const idleSince = addSeconds(now, -this.idleMinutes * 60);
    for (const zone of this.zones.searchOrder(named.name)) {
      const personId = await zone.sessions.touch(idHash, now, idleSince);
      if (personId) return { id: personId, zone: zone.name };
    }
    return null;
  }

  /**
   * Ends a session. A sign-out (`signOut`, the person's own act) is recorded in the same
   * transaction; a session replaced at sign-in or ended with the account is not one.
   */
  async endSession(token: string | undefined, options: { signOut?: boolean; requestId?: string } = {}): Promise<void> {
    const named = token ? this.#zoneOf(token) : null;
    if (!named || !token) return;
    for (const zone of this.zones.searchOrder(named.name)) {
      let personId: string | undefined;
      const ended = await zone.sessions.end(this.#hash(token), (id) => {
        personId = id;
        return options.signOut ? { actor: { kind: 'person', id, requestId: options.requestId }, events: [{ action: 'person.signed_out', personId: id }] } : null;
      });
      if (!ended) continue;
      const publicId = this.publicSessionId(token);
      if (options.signOut && personId && publicId) for (const listener of this.#signOutListeners) listener({ id: personId, zone: zone.name }, publicId);
      return;
    }
  }
}
