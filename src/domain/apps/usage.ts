import type { Clock } from '../clock.js';
import type { ZoneRegistry } from '../zones/zone-registry.js';

export interface UsageDay {
  /** UTC day, `YYYY-MM-DD`. */
  readonly day: string;
  /** People signed in to the app (a consent given: every authorized sign-in request). */
  readonly signIns: number;
  readonly tokens: number;
}

const SIGN_IN_ACTION = 'consent.given';
const TOKEN_ACTION = 'token.issued';

const dayOf = (date: Date) => date.toISOString().slice(0, 10);

/**
 * An app's usage per day, counted from the audit records in every zone: the trail
 * already records each sign-in and token issue, so usage needs no second write on the
 * hot path, and only counts leave the zones.
 */
export class UsageReport {
  constructor(private readonly zones: ZoneRegistry, private readonly clock: Clock) {}

  async lastDays(appId: string, days = 30): Promise<UsageDay[]> {
    const today = new Date(`${dayOf(this.clock.now())}T00:00:00Z`);
    const since = new Date(today.getTime() - (days - 1) * 86_400_000);
    const counts = new Map<string, { signIns: number; tokens: number }>();
    for (let i = 0; i < days; i++) counts.set(dayOf(new Date(since.getTime() + i * 86_400_000)), { signIns: 0, tokens: 0 });
    await Promise.all(this.zones.all().map(async (zone) => {
      const rows = await zone.activity.dailyCounts(appId, [SIGN_IN_ACTION, TOKEN_ACTION], since);
      for (const row of rows) {
        const day = counts.get(row.day);
        if (!day) continue;
        if (row.action === SIGN_IN_ACTION) day.signIns += row.count;
        else day.tokens += row.count;
      }
    }));
    return [...counts].map(([day, c]) => ({ day, ...c }));
  }
}
