import type { Clock } from '../../domain/clock.js';
import { addSeconds } from '../../domain/clock.js';
import type { Stores } from '../stores.js';
import { PERSON_DATA, zoneTablesWhere, type ExpiringTable, type Retention } from '../../domain/residency/person-data.js';

/** How long finished connect requests are kept before they are deleted (data minimisation). */
const KEEP_FINISHED_CONNECTS_SECONDS = 24 * 3600;

/** The name the purge reports for each zone table the person-data registry gives a retention (one each, or it does not compile). */
const PURGED = {
  auth_codes: 'codes',
  sessions: 'sessions',
  access_tokens: 'accessTokens',
  refresh_tokens: 'refreshTokens',
  challenges: 'challenges',
} as const satisfies Record<ExpiringTable, string>;

type PurgedTable = keyof typeof PURGED;

export type PurgeResult = { readonly connects: number; readonly signInFlows: number; readonly ownerInvitations: number; readonly clientAssertions: number } & { readonly [T in PurgedTable as (typeof PURGED)[T]]: number };

/**
 * Deletes what has outlived its use: connect requests a day after they expired, sign-in
 * flows and owner invitations once expired, and in
 * every zone each table the person-data registry gives a retention (one-time codes and
 * challenges a day after they expired, kept that long to recognise a replay; sessions and
 * tokens once expired). Idempotent, so every node may run it. Consents, grants and audit
 * records have none: they are the person's history.
 */
export async function purgeExpired(stores: Stores, clock: Clock): Promise<PurgeResult> {
  const now = clock.now();
  const connects = await stores.control.db.deleteFrom('connect_requests')
    .where('expires_at', '<', addSeconds(now, -KEEP_FINISHED_CONNECTS_SECONDS)).executeTakeFirst();
  // A sign-in not finished within its time is over; nothing about it is worth keeping.
  const flows = await stores.control.db.deleteFrom('sign_in_flows').where('expires_at', '<', now).executeTakeFirst();
  // An owner invitation nobody accepted in time is worth nothing either.
  const invitations = await stores.control.db.deleteFrom('owner_invitations').where('expires_at', '<', now).executeTakeFirst();
  // A used assertion's id is worth keeping only while the assertion could still be presented.
  const assertions = await stores.control.db.deleteFrom('client_assertions').where('expires_at', '<', now).executeTakeFirst();
  const expiring = zoneTablesWhere((entry) => entry.expires !== null) as ExpiringTable[];
  const counts = Object.fromEntries(Object.values(PURGED).map((name) => [name, 0])) as Record<(typeof PURGED)[PurgedTable], number>;
  for (const zone of Object.values(stores.zones)) {
    for (const table of expiring) {
      const { column, afterSeconds } = PERSON_DATA[table].expires as Retention<PurgedTable>;
      const deleted = await zone.db.deleteFrom(table).where(column as 'expires_at', '<', addSeconds(now, -afterSeconds)).executeTakeFirst();
      counts[PURGED[table]] += Number(deleted.numDeletedRows);
    }
  }
  return { connects: Number(connects.numDeletedRows), signInFlows: Number(flows.numDeletedRows), ownerInvitations: Number(invitations.numDeletedRows), clientAssertions: Number(assertions.numDeletedRows), ...counts };
}
