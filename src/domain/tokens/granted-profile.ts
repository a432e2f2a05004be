import type { GrantedProfileRead, GrantedProfileRow, TokenLineageStore } from './lineage-store.js';

/** The reads waiting for a store's next statement, and whether one is running. */
interface ReadQueue {
  readonly pending: Array<{ read: GrantedProfileRead; done: (row: GrantedProfileRow | undefined) => void; fail: (error: unknown) => void }>;
  running: boolean;
}

/** One statement at a time per store, at most this many reads in it. */
const MAX_BATCH = 64;

/**
 * Reads granted profiles as they are asked for, gathering those that arrive while a
 * store is busy into the next statement (group commit): under load, many `/me` calls
 * share one round trip and one turn of the zone's chain lock; alone, a call runs at once.
 * Each read is audited in the statement that reads it (`TokenLineageStore.readGrantedProfiles`).
 */
export class GrantedProfileReader {
  readonly #queues = new Map<TokenLineageStore, ReadQueue>();

  read(store: TokenLineageStore, read: GrantedProfileRead): Promise<GrantedProfileRow | undefined> {
    let queue = this.#queues.get(store);
    if (!queue) {
      queue = { pending: [], running: false };
      this.#queues.set(store, queue);
    }
    const waiting = queue;
    return new Promise((done, fail) => {
      waiting.pending.push({ read, done, fail });
      if (!waiting.running) void this.#drain(store, waiting);
    });
  }

  async #drain(store: TokenLineageStore, queue: ReadQueue): Promise<void> {
    queue.running = true;
    try {
      while (queue.pending.length > 0) {
        const batch = queue.pending.splice(0, MAX_BATCH);
        try {
          const rows = await store.readGrantedProfiles(batch.map((b) => b.read));
          batch.forEach((b, i) => b.done(rows[i]));
        } catch (error) {
          batch.forEach((b) => b.fail(error));
        }
      }
    } finally {
      queue.running = false;
    }
  }
}
