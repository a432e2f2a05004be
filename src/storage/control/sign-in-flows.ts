import type { Kysely } from 'kysely';
import type { PendingStep, SignInFlowRecord, SignInFlowStore } from '../../domain/authn/sign-in-flow-store.js';
import type { PersonRef } from '../../domain/zones/zone-registry.js';
import { isZoneName } from '../../domain/zones/zones.js';
import type { ControlDatabase } from '../schema.js';

export class SignInFlowsRepo implements SignInFlowStore {
  constructor(private readonly db: Kysely<ControlDatabase>) {}

  async find(idHash: Uint8Array, now: Date): Promise<SignInFlowRecord | undefined> {
    const row = await this.db.selectFrom('sign_in_flows').selectAll()
      .where('id_hash', '=', idHash).where('expires_at', '>', now).executeTakeFirst();
    if (!row) return undefined;
    const person = row.person_id && isZoneName(row.zone) ? { id: row.person_id, zone: row.zone } : null;
    return { idHash: row.id_hash, returnTo: row.return_to, person, methods: row.methods, step: row.step, expiresAt: row.expires_at };
  }

  async insert(flow: SignInFlowRecord): Promise<void> {
    await this.db.insertInto('sign_in_flows').values({
      id_hash: flow.idHash, return_to: flow.returnTo, person_id: flow.person?.id ?? null, zone: flow.person?.zone ?? null,
      methods: [...flow.methods], step: flow.step, expires_at: flow.expiresAt,
    }).execute();
  }

  async update(idHash: Uint8Array, progress: { person: PersonRef; methods: readonly string[]; step: PendingStep }): Promise<void> {
    await this.db.updateTable('sign_in_flows')
      .set({ person_id: progress.person.id, zone: progress.person.zone, methods: [...progress.methods], step: progress.step })
      .where('id_hash', '=', idHash).execute();
  }

  async delete(idHash: Uint8Array): Promise<void> {
    await this.db.deleteFrom('sign_in_flows').where('id_hash', '=', idHash).execute();
  }
}
