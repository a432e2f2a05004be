/**
 * Legal zones. Each zone has its own database and keys; a person's country decides
 * their zone, and every row about that person lives only there (DESIGN, "Data location").
 */
export const ZONE_NAMES = ['eu', 'us'] as const;
export type ZoneName = (typeof ZONE_NAMES)[number];

// EU member states, the rest of the EEA (IS, LI, NO), the United Kingdom and Switzerland:
// the countries whose people fall under GDPR-equivalent law and so are stored in the EU.
const EU_ZONE_COUNTRIES = new Set([
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT',
  'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
  'IS', 'LI', 'NO',
  'GB', 'CH',
]);

/** The zone that must hold the data of a person living in `country` (ISO 3166-1 alpha-2). */
export function zoneOfCountry(country: string): ZoneName {
  return EU_ZONE_COUNTRIES.has(country.toUpperCase()) ? 'eu' : 'us';
}

export function isZoneName(value: unknown): value is ZoneName {
  return typeof value === 'string' && (ZONE_NAMES as readonly string[]).includes(value);
}
