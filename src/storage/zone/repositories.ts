import type { Kysely } from 'kysely';
import type { Zone } from '../../domain/zones/zone-registry.js';
import type { ZoneDatabase } from '../schema.js';
import { ActivityRepo } from './activity.js';
import { ConsentRepo } from './consent.js';
import { ChallengesRepo, PeopleRepo } from './people.js';
import { SessionsRepo } from './sessions.js';
import { TokenLineageRepo } from './token-lineage.js';

/** A zone's database and the repositories over it, as a `Zone` holds them. */
export function zoneRepositories(db: Kysely<ZoneDatabase>): Pick<Zone, 'db' | 'consent' | 'lineage' | 'sessions' | 'activity' | 'people' | 'challenges'> {
  return {
    db, consent: new ConsentRepo(db), lineage: new TokenLineageRepo(db), sessions: new SessionsRepo(db), activity: new ActivityRepo(db),
    people: new PeopleRepo(db), challenges: new ChallengesRepo(db),
  };
}
