import type { Kysely } from 'kysely';
import type { MoveEntry, ZoneMoveJournal } from '../../domain/zones/zone-move-store.js';
import type { ZoneName } from '../../domain/zones/zones.js';
import type { ControlDatabase } from '../schema.js';

export class ZoneMoveJournalRepo implements ZoneMoveJournal {
  constructor(private readonly db: Kysely<ControlDatabase>) {}

  async open(move: MoveEntry): Promise<void> {
    await this.db.insertInto('zone_moves').values({
      id: move.id, person_id: move.personId, from_zone: move.from, to_zone: move.to, started_at: move.startedAt, finished_at: null, outcome: null,
    }).execute();
  }

  async close(moveId: string, outcome: 'moved' | 'abandoned', at: Date): Promise<void> {
    await this.db.updateTable('zone_moves').set({ finished_at: at, outcome }).where('id', '=', moveId).execute();
  }

  async openBefore(before: Date): Promise<MoveEntry[]> {
    const rows = await this.db.selectFrom('zone_moves').selectAll().where('finished_at', 'is', null).where('started_at', '<', before).orderBy('started_at').execute();
    return rows.map((r) => ({ id: r.id, personId: r.person_id, from: r.from_zone as ZoneName, to: r.to_zone as ZoneName, startedAt: r.started_at }));
  }

  async settle(personId: string, zone: ZoneName): Promise<void> {
    await this.db.updateTable('app_owners').set({ zone }).where('person_id', '=', personId).execute();
    // A sign-in half done (a second factor to give) goes on in the new zone.
    await this.db.updateTable('sign_in_flows').set({ zone }).where('person_id', '=', personId).execute();
  }
}
