/** The personal fields an app can ask for (spec, "Permissions"). */
export const FIELD_CODES = ['firstname', 'surname', 'email', 'image', 'country', 'language'] as const;
export type FieldCode = (typeof FIELD_CODES)[number];

export const isFieldCode = (value: unknown): value is FieldCode =>
  typeof value === 'string' && (FIELD_CODES as readonly string[]).includes(value);

/** A requested scope: the fields asked for, and which of them the app makes mandatory. */
export interface Scope {
  readonly fields: readonly FieldCode[];
  readonly mandatory: readonly FieldCode[];
}

/**
 * Fields an app may make mandatory without the operator's approval. Email and image
 * identify a person too well to be demanded by default (spec: "operator may restrict").
 */
export const MANDATORY_BY_DEFAULT: readonly FieldCode[] = ['firstname', 'surname', 'country', 'language'];

/**
 * What an app may ask for, as the control plane stores it (`apps.permissions`): a field
 * code, or the code with a trailing `!` where the app may make that field mandatory. The
 * same form stores a request's scope (`connect_requests.scope`). It predates the protocol
 * modules and stays because changing it would rewrite stored rows and audit details.
 */
export const storedPermission = (field: FieldCode, mandatory: boolean): string => (mandatory ? `${field}!` : field);

export const DEFAULT_PERMISSIONS: readonly string[] = [
  ...FIELD_CODES,
  ...MANDATORY_BY_DEFAULT.map((field) => storedPermission(field, true)),
];

/** Whether an app with these stored permissions may ask for `field` (as mandatory, when `mandatory`). */
export const mayAskFor = (permissions: readonly string[], field: FieldCode, mandatory: boolean): boolean =>
  permissions.includes(storedPermission(field, mandatory));

/** A scope in its stored form (`connect_requests.scope`), mandatory fields marked. */
export const storedScope = (scope: Scope): string[] =>
  scope.fields.map((f) => storedPermission(f, scope.mandatory.includes(f)));

/** A scope read back from its stored form, fields in canonical order. */
export function scopeFromStored(stored: readonly string[]): Scope {
  const fields = new Set(stored.map((entry) => (entry.endsWith('!') ? entry.slice(0, -1) : entry)));
  const mandatory = new Set(stored.filter((entry) => entry.endsWith('!')).map((entry) => entry.slice(0, -1)));
  return {
    fields: FIELD_CODES.filter((f) => fields.has(f)),
    mandatory: FIELD_CODES.filter((f) => mandatory.has(f)),
  };
}
