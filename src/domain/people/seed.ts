import { randomInt } from 'node:crypto';
import type { AppDirectory } from '../apps/app-directory.js';
import type { AppsService } from '../apps/apps-service.js';
import type { ConnectService } from '../connect/connect-service.js';
import type { ConsentService } from '../consent/consent-service.js';
import type { FieldCode } from '../consent/fields.js';
import type { PeopleService } from './people-service.js';

const FIRST_NAMES = ['Jana', 'Petr', 'Eliška', 'Tomáš', 'Lukas', 'Anna', 'Sophie', 'Mateo', 'Olivia', 'Liam', 'Chloé', 'Jakub', 'Marie', 'Noah', 'Emma', 'Léa', 'Hugo', 'Ava'];
const SURNAMES = ['Nováková', 'Svoboda', 'Dvořák', 'Müller', 'Schmidt', 'Dubois', 'García', 'Rossi', 'Smith', 'Johnson', 'Brown', 'Kowalski', 'Jansen', 'Silva'];
const PLACES: ReadonlyArray<[country: string, language: string, domain: string]> = [
  ['CZ', 'cs', 'example.cz'], ['DE', 'de', 'example.de'], ['FR', 'fr', 'example.fr'], ['ES', 'es', 'example.es'],
  ['GB', 'en', 'example.co.uk'], ['US', 'en', 'example.com'], ['CA', 'en', 'example.ca'], ['BR', 'pt', 'example.com.br'],
];
const FIELD_SETS: ReadonlyArray<readonly FieldCode[]> = [['firstname'], ['firstname', 'surname'], ['firstname', 'email', 'country'], ['email', 'language']];

const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)]!;

export interface SeedResult {
  readonly people: number;
  readonly consents: number;
  readonly appId: string;
}

/**
 * Fills a development deployment with fake people who signed up through the product's
 * own code (sealed, zoned, audited like real ones), and a demo app they granted fields
 * to: nobody needs a copy of live data to work on Keygate. Every seeded person has the
 * same known password, so seeded accounts can be signed in to.
 */
export async function seedPeople(
  services: { apps: AppsService; appDirectory: AppDirectory; connects: ConnectService; consents: ConsentService; people: PeopleService },
  count: number,
  password: string,
  onProgress?: (done: number) => void,
): Promise<SeedResult> {
  const { appId } = await services.apps.createApp({
    name: 'Seeded demo app', origins: ['http://localhost:3000'], returnUrls: ['http://localhost:3000/callback/'],
  });
  const app = (await services.appDirectory.findApp(appId))!;
  let consents = 0;
  for (let i = 0; i < count; i++) {
    const [country, language, domain] = pick(PLACES);
    const firstname = pick(FIRST_NAMES);
    const surname = pick(SURNAMES);
    const email = `${firstname}.${surname}.${i}`.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase() + `@seed.${domain}`;
    const made = await services.people.signUp({ email, password, firstname, surname, country, language }, { requestId: 'seed' }, { emailVerified: true });
    if (!made.ok) continue;
    if (i % 3 !== 2) {
      const fields = pick(FIELD_SETS);
      const { connectId } = await services.connects.openConnect(app, { requestId: `seed-${i}`, scope: { fields: [...fields], mandatory: [] }, returnUrl: 'http://localhost:3000/callback/' });
      const connect = (await services.connects.findOpenConnect(connectId))!;
      const outcome = await services.consents.allow(made.person, app, connect, fields, { requestId: 'seed' });
      if (outcome.ok) consents++;
    }
    onProgress?.(i + 1);
  }
  return { people: count, consents, appId };
}
