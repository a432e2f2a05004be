import type { Kysely } from 'kysely';
import type { Zone } from '../../domain/zones/zone-registry.js';
import type { ZoneDatabase } from '../schema.js';
import { ActivityRepo } from './activity.js';
import { ConsentRepo } from './consent.js';
import { ChallengesRepo, PeopleRepo } from './people.js';
import { SessionsRepo } from './sessions.js';
import { TokenLineageRepo } from './token-lineage.js';
import { ZoneMovesRepo } from './zone-moves.js';

/** The repositories over a zone's database, as a `Zone` holds them. */
export function zoneRepositories(db: Kysely<ZoneDatabase>): Pick<Zone, 'consent' | 'lineage' | 'sessions' | 'activity' | 'people' | 'challenges' | 'moves'> {
  return {
    consent: new ConsentRepo(db), lineage: new TokenLineageRepo(db), sessions: new SessionsRepo(db), activity: new ActivityRepo(db),
    people: new PeopleRepo(db), challenges: new ChallengesRepo(db), moves: new ZoneMovesRepo(db),
  };
}
