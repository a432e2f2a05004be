import type { Clock } from './clock.js';
import { addSeconds } from './clock.js';
import type { Stores } from '../storage/stores.js';

/** How long finished things are kept before they are deleted (data minimisation). */
const KEEP_FINISHED_CONNECTS_SECONDS = 24 * 3600;
const KEEP_USED_CODES_SECONDS = 24 * 3600;

export interface PurgeResult {
  readonly connects: number;
  readonly codes: number;
  readonly sessions: number;
  readonly accessTokens: number;
  readonly refreshTokens: number;
}

/**
 * Deletes what has outlived its use: connect requests a day after they expired, one-time
 * codes a day after they expired (kept that long to recognise a replay), sessions past
 * their absolute expiry, and tokens past theirs. Idempotent, so every node may run it.
 * Consents, grants and audit records are not touched: they are the person's history.
 */
export async function purgeExpired(stores: Stores, clock: Clock): Promise<PurgeResult> {
  const now = clock.now();
  const connects = await stores.control.db.deleteFrom('connect_requests')
    .where('expires_at', '<', addSeconds(now, -KEEP_FINISHED_CONNECTS_SECONDS)).executeTakeFirst();
  let codes = 0n;
  let sessions = 0n;
  let accessTokens = 0n;
  let refreshTokens = 0n;
  for (const zone of Object.values(stores.zones)) {
    codes += (await zone.db.deleteFrom('auth_codes').where('expires_at', '<', addSeconds(now, -KEEP_USED_CODES_SECONDS)).executeTakeFirst()).numDeletedRows;
    sessions += (await zone.db.deleteFrom('sessions').where('expires_at', '<', now).executeTakeFirst()).numDeletedRows;
    accessTokens += (await zone.db.deleteFrom('access_tokens').where('expires_at', '<', now).executeTakeFirst()).numDeletedRows;
    refreshTokens += (await zone.db.deleteFrom('refresh_tokens').where('expires_at', '<', now).executeTakeFirst()).numDeletedRows;
  }
  return {
    connects: Number(connects.numDeletedRows),
    codes: Number(codes),
    sessions: Number(sessions),
    accessTokens: Number(accessTokens),
    refreshTokens: Number(refreshTokens),
  };
}
