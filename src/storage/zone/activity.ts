import { sql, type Kysely } from 'kysely';
import type { ActivityStore, DailyCount, ExportedRecord, PersonActivity } from '../../domain/audit/activity-store.js';
import type { ZoneDatabase } from '../schema.js';

export class ActivityRepo implements ActivityStore {
  constructor(private readonly db: Kysely<ZoneDatabase>) {}

  async aboutPerson(personId: string, options: { appId?: string; limit: number }): Promise<PersonActivity[]> {
    let query = this.db.selectFrom('audit_events')
      // A record copied when the person moved zones shows when it first happened.
      .select((eb) => [eb.fn.coalesce('origin_at', 'occurred_at').as('occurred_at'), 'action', 'field', 'app_id', 'actor_kind', 'purpose'])
      .where('person_id', '=', personId);
    if (options.appId) query = query.where('app_id', '=', options.appId);
    const rows = await query.orderBy('id', 'desc').limit(options.limit).execute();
    return rows.map((r) => ({ at: r.occurred_at, action: r.action, field: r.field, appId: r.app_id, actorKind: r.actor_kind, purpose: r.purpose }));
  }

  exportFor(personId: string): Promise<ExportedRecord[]> {
    return this.db.selectFrom('audit_events')
      .select(['id', 'occurred_at', 'action', 'field', 'actor_kind', 'app_id', 'purpose', 'request_id', 'origin_store', 'origin_id', 'origin_at'])
      .where('person_id', '=', personId).orderBy('id').execute();
  }

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
