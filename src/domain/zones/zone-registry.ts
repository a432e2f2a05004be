import type { KeyRing } from '../../crypto/key-ring.js';
import type { ActivityStore } from '../audit/activity-store.js';
import type { ConsentStore } from '../consent/consent-store.js';
import type { ChallengeStore, PersonStore } from '../people/person-store.js';
import type { SessionStore } from '../sessions/session-store.js';
import type { TokenLineageStore } from '../tokens/lineage-store.js';
import type { ZoneMoveStore } from './zone-move-store.js';
import { ZONE_NAMES, zoneOfCountry, type ZoneName } from './zones.js';

/** One legal zone: the repositories over its database, its master keys and its blind-index key. */
export interface Zone {
  readonly name: ZoneName;
  readonly consent: ConsentStore;
  readonly lineage: TokenLineageStore;
  readonly sessions: SessionStore;
  readonly activity: ActivityStore;
  readonly people: PersonStore;
  readonly challenges: ChallengeStore;
  readonly moves: ZoneMoveStore;
  readonly ring: KeyRing;
  readonly indexKey: Buffer;
}

/** A person is found by id and zone: the zone says which database may hold them. */
export interface PersonRef {
  readonly id: string;
  readonly zone: ZoneName;
}

export class ZoneRegistry {
  readonly #zones: ReadonlyMap<ZoneName, Zone>;

  constructor(zones: readonly Zone[]) {
    this.#zones = new Map(zones.map((z) => [z.name, z]));
    for (const name of ZONE_NAMES) if (!this.#zones.has(name)) throw new Error(`zone ${name} is not configured`);
  }

  get(name: ZoneName): Zone {
    return this.#zones.get(name)!;
  }

  all(): Zone[] {
    return [...this.#zones.values()];
  }

  /**
   * The named zone first, then the others. A token or cookie names the zone it was issued
   * in; a person who moved since is found in another one.
   */
  searchOrder(first: ZoneName): Zone[] {
    return [this.get(first), ...this.all().filter((z) => z.name !== first)];
  }

  forCountry(country: string): Zone {
    return this.get(zoneOfCountry(country));
  }
}
