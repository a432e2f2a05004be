import { sql, type Kysely } from 'kysely';
import type { ActivityStore, DailyCount } from '../../domain/audit/activity-store.js';
import type { ZoneDatabase } from '../schema.js';

export class ActivityRepo implements ActivityStore {
  constructor(private readonly db: Kysely<ZoneDatabase>) {}

  async dailyCounts(appId: string, actions: readonly string[], since: Date): Promise<DailyCount[]> {
    if (actions.length === 0) return [];
    const rows = await this.db.selectFrom('audit_events')
      .select([
        sql<string>`to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD')`.as('day'),
        'action',
        (eb) => eb.fn.countAll<string>().as('n'),
      ])
      .where('app_id', '=', appId)
      .where('action', 'in', [...actions])
      .where('occurred_at', '>=', since)
      .groupBy(['day', 'action'])
      .execute();
    return rows.map((row) => ({ day: row.day, action: row.action, count: Number(row.n) }));
  }
}
