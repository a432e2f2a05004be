import { KeygateError } from '../errors.js';

/** The personal fields an app can ask for (spec, "Permissions"). */
export const FIELD_CODES = ['firstname', 'surname', 'email', 'image', 'country', 'language'] as const;
export type FieldCode = (typeof FIELD_CODES)[number];

export const FIELD_LABELS: Readonly<Record<FieldCode, string>> = {
  firstname: 'First name',
  surname: 'Surname',
  email: 'Email',
  image: 'Profile image',
  country: 'Country',
  language: 'Language',
};

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

export const DEFAULT_PERMISSIONS: readonly string[] = [
  ...FIELD_CODES,
  ...MANDATORY_BY_DEFAULT.map((field) => `${field}!`),
];

/**
 * Parses the `scope` of a connect request against what the app may ask for.
 * Duplicates collapse; a field asked both with and without `!` is mandatory.
 * Fields keep the canonical order so that the consent screen is stable.
 */
export function parseScope(input: readonly string[], permissions: readonly string[]): Scope {
  const allowed = new Set(permissions);
  const fields = new Set<FieldCode>();
  const mandatory = new Set<FieldCode>();
  for (const raw of input) {
    const isMandatory = raw.endsWith('!');
    const code = isMandatory ? raw.slice(0, -1) : raw;
    if (!isFieldCode(code)) {
      throw new KeygateError('invalid_scope', `Unknown field code in scope: ${JSON.stringify(raw.slice(0, 40))}.`);
    }
    if (!allowed.has(raw)) {
      throw new KeygateError('invalid_scope', isMandatory
        ? `This app may not make "${code}" mandatory.`
        : `This app may not request "${code}".`);
    }
    fields.add(code);
    if (isMandatory) mandatory.add(code);
  }
  return {
    fields: FIELD_CODES.filter((f) => fields.has(f)),
    mandatory: FIELD_CODES.filter((f) => mandatory.has(f)),
  };
}

/** Serialises a scope back to its wire form (`email!` for a mandatory email). */
export const formatScope = (scope: Scope): string[] =>
  scope.fields.map((f) => (scope.mandatory.includes(f) ? `${f}!` : f));
