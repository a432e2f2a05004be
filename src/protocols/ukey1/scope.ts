import { FIELD_CODES, isFieldCode, mayAskFor, type FieldCode, type Scope } from '../../domain/consent/fields.js';
import { KeygateError } from '../../domain/errors.js';

/** The mark that makes a scope entry mandatory on the wire (spec, "Permissions"): `email!`. */
const MANDATORY_MARK = '!';

/**
 * Parses the `scope` of `POST /auth/v2/connect` against what the app may ask for. Entries
 * are checked in the order sent, so the refusal names the first offending one.
 * Duplicates collapse; a field asked both with and without `!` is mandatory. Fields keep
 * the canonical order so that the consent screen is stable.
 */
export function parseScope(input: readonly string[], permissions: readonly string[]): Scope {
  const fields = new Set<FieldCode>();
  const mandatory = new Set<FieldCode>();
  for (const raw of input) {
    const isMandatory = raw.endsWith(MANDATORY_MARK);
    const code = isMandatory ? raw.slice(0, -MANDATORY_MARK.length) : raw;
    if (!isFieldCode(code)) throw new KeygateError('invalid_scope', { field: raw, reason: 'unknown_field' });
    if (!mayAskFor(permissions, code, isMandatory)) {
      throw new KeygateError('invalid_scope', { field: code, reason: isMandatory ? 'mandatory_not_permitted' : 'not_permitted' });
    }
    fields.add(code);
    if (isMandatory) mandatory.add(code);
  }
  return {
    fields: FIELD_CODES.filter((f) => fields.has(f)),
    mandatory: FIELD_CODES.filter((f) => mandatory.has(f)),
  };
}

