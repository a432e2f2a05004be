import { randomUUID } from 'node:crypto';
import { blindIndex } from '../../crypto/blind-index.js';
import { decryptFieldText, encryptField } from '../../crypto/field-cipher.js';
import { unwrapDataKey, wrapDataKey } from '../../crypto/key-ring.js';
import type { RequestActor } from '../audit/audit-log.js';
import { MOVED_OUT_ACTION, movedOutPurpose } from '../audit/chain.js';
import type { Clock } from '../clock.js';
import { NO_METRICS, type Metrics, type ZoneMoveOutcome } from '../metrics.js';
import { PERSON_DATA, sealedAt } from '../residency/person-data.js';
import type { PersonRef, Zone, ZoneRegistry } from './zone-registry.js';
import { ZoneMoveError, type MoveSource, type PersonSnapshot, type ZoneMoveJournal } from './zone-move-store.js';
import type { ZoneName } from './zones.js';

export { ZoneMoveError } from './zone-move-store.js';

/** A move still open after this long is no longer running anywhere: it was interrupted. */
const SETTLED_AFTER_MS = 60_000;

export interface ZoneMoveFaults {
  /** Called when the new zone has everything and is about to commit (fault tests). */
  readonly beforeDestinationCommit?: () => Promise<void> | void;
  /** Called after the new zone committed and before the old one does (fault tests). */
  readonly afterDestinationCommit?: () => Promise<void> | void;
}

/**
 * Moving a person between zones when their country changes (DESIGN, "Data location").
 *
 * The new zone receives every row about the person in one transaction: the profile with
 * its blind indexes recomputed under the new zone's index key, the data key re-wrapped by
 * the new zone's master key (so every ciphertext moves as it is), grants, consents, codes,
 * tokens, sessions, devices and recovery codes, and a copy of every audit record about
 * them (chained as copies, naming the original's zone, id and time). Before it commits,
 * what arrived is compared with what was read. The old zone then, in one transaction
 * that was opened first and holds the person's row, records the move, redacts the
 * originals (their contents go; ids and hashes stay, so its chain still verifies) and
 * deletes every row. The new zone commits first: the journal in the control plane lets
 * `finishInterrupted` complete a move whose second commit never happened.
 */
export class ZoneMoves {
  // Moves run one at a time in a process: an embedded store is held whole by a
  // transaction, so two moves in opposite directions would wait on each other forever.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly zones: ZoneRegistry,
    private readonly journal: ZoneMoveJournal,
    private readonly clock: Clock,
    private readonly faults: ZoneMoveFaults = {},
    private readonly metrics: Metrics = NO_METRICS,
  ) {}

  #serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => {});
    return run;
  }

  /**
   * Sets the person's country. Within their zone only the field changes; otherwise the
   * person moves to the country's zone. Returns where the person is now.
   */
  async changeCountry(person: PersonRef, country: string, actor: RequestActor): Promise<PersonRef> {
    const to = this.zones.forCountry(country);
    if (to.name === person.zone) {
      await this.#setCountry(this.zones.get(person.zone), person.id, country, actor);
      return person;
    }
    return this.#serialised(async () => {
      await this.#finishInterruptedNow();
      return this.#move(person, to, country, actor);
    });
  }

  async #setCountry(zone: Zone, personId: string, country: string, actor: RequestActor): Promise<void> {
    await zone.people.transaction(async (writes) => {
      const key = await writes.wrappedDataKey(personId);
      if (!key) throw new ZoneMoveError('the person is not in this zone');
      const dataKey = unwrapDataKey(zone.ring, personId, key);
      await writes.setSealedFields(personId, { country_ct: encryptField(dataKey, countryLocation(personId), country) });
      await writes.audit({ ...actor, kind: 'person', id: personId }, [{ action: 'person.field_changed', personId, field: 'country' }]);
    });
  }

  async #move(person: PersonRef, to: Zone, country: string, actor: RequestActor): Promise<PersonRef> {
    const from = this.zones.get(person.zone);
    const moveId = randomUUID();
    await this.journal.open({ id: moveId, personId: person.id, from: from.name, to: to.name, startedAt: this.clock.now() });
    try {
      await from.moves.asSource(async (source) => {
        const snapshot = await source.readPerson(person.id);
        if (!snapshot) throw new ZoneMoveError('the person is not in this zone');
        await to.moves.asDestination(async (destination) => {
          await destination.arrive(snapshot, this.#arrival(from, to, snapshot, country));
          await destination.copyAudit(from.name, snapshot.audit);
          await destination.audit({ ...actor, kind: 'person', id: person.id }, [
            { action: 'person.zone_moved_in', personId: person.id, purpose: `from ${from.name}; ${snapshot.audit.length} records copied` },
          ]);
          await destination.verifyArrival(snapshot, from.name);
          await this.faults.beforeDestinationCommit?.();
        });
        await this.faults.afterDestinationCommit?.();
        await leave(source, to, snapshot, actor);
      });
    } catch (error) {
      // Nothing committed in the new zone unless the person is there now: then the move stands and is finished later.
      if (!(await to.moves.holds(person.id))) await this.#close(moveId, from.name, to.name, 'abandoned');
      throw error;
    }
    await this.journal.settle(person.id, to.name);
    await this.#close(moveId, from.name, to.name, 'moved');
    return { id: person.id, zone: to.name };
  }

  /**
   * How the person's rows change on arrival: the blind indexes recomputed under the new
   * zone's index key, the new country, and the same data key wrapped by the new zone's
   * master key (so every ciphertext moves as it is).
   */
  #arrival(from: Zone, to: Zone, snapshot: PersonSnapshot, country: string) {
    const personId = snapshot.personId;
    const dataKey = unwrapDataKey(from.ring, personId, snapshot.key);
    const indexes: Record<string, Buffer | null> = {};
    for (const [column, index] of Object.entries(PERSON_DATA.people.blindIndexes)) {
      const sealed = snapshot.indexedValues[index.of];
      indexes[column] = sealed ? blindIndex(to.indexKey, index.purpose, decryptFieldText(dataKey, sealedAt('people', index.of, personId), sealed)) : null;
    }
    return {
      from: from.name,
      indexes,
      sealedCountry: encryptField(dataKey, countryLocation(personId), country),
      key: wrapDataKey(to.ring, personId, dataKey),
    };
  }

  /** Closes the journal entry of a move; `finished_later` is recorded as moved, by the clean-up. */
  async #close(moveId: string, from: ZoneName, to: ZoneName, outcome: ZoneMoveOutcome): Promise<void> {
    await this.journal.close(moveId, outcome === 'abandoned' ? 'abandoned' : 'moved', this.clock.now());
    this.metrics.zoneMove(from, to, outcome);
  }

  /**
   * Completes moves interrupted between their two commits (a crash, a lost connection):
   * the person is in the new zone, so the old zone's copy is redacted and deleted now.
   * A move that never committed in the new zone is closed as abandoned. Moves younger
   * than `olderThanMs` may still be running on another node and are left alone.
   */
  finishInterrupted(olderThanMs = SETTLED_AFTER_MS): Promise<number> {
    return this.#serialised(() => this.#finishInterruptedNow(olderThanMs));
  }

  async #finishInterruptedNow(olderThanMs = SETTLED_AFTER_MS): Promise<number> {
    const before = new Date(this.clock.now().getTime() - olderThanMs);
    const open = await this.journal.openBefore(before);
    let finished = 0;
    for (const move of open) {
      const from = this.zones.get(move.from);
      const to = this.zones.get(move.to);
      if (!(await to.moves.holds(move.personId))) {
        await this.#close(move.id, from.name, to.name, 'abandoned');
        continue;
      }
      await from.moves.asSource(async (source) => {
        const snapshot = await source.readPerson(move.personId);
        if (!snapshot) return;
        // Records written in the old zone since the copy are copied before they are redacted.
        await to.moves.asDestination(async (destination) => {
          const known = await destination.copiedFrom(from.name, move.personId);
          await destination.copyAudit(from.name, snapshot.audit.filter((r) => !known.has(r.id)));
        });
        await leave(source, to, snapshot, { requestId: null });
      });
      await this.journal.settle(move.personId, to.name);
      await this.#close(move.id, from.name, to.name, 'finished_later');
      finished++;
    }
    return finished;
  }
}

const countryLocation = (personId: string) => sealedAt('people', 'country_ct', personId);

/**
 * The old zone's half: a record of the move that commits to the records it redacts, the
 * redaction, and the deletion of every row about the person.
 */
function leave(source: MoveSource, to: Zone, snapshot: PersonSnapshot, actor: RequestActor): Promise<void> {
  return source.leave(snapshot.personId, {
    actor: { ...actor, kind: 'person', id: null },
    events: [{ action: MOVED_OUT_ACTION, personId: null, purpose: movedOutPurpose(to.name, snapshot.audit) }],
  }, snapshot.audit);
}
