import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PERMISSIONS, storedScope } from '../../src/domain/consent/fields.js';
import { parseScope } from '../../src/protocols/ukey1/scope.js';
import { KeygateError } from '../../src/domain/errors.js';

describe('scope parsing (spec, "Permissions")', () => {
  it('reads optional and mandatory fields in canonical order', () => {
    const scope = parseScope(['email', 'firstname!', 'country'], DEFAULT_PERMISSIONS);
    assert.deepEqual(scope, { fields: ['firstname', 'email', 'country'], mandatory: ['firstname'] });
    assert.deepEqual(storedScope(scope), ['firstname!', 'email', 'country']);
  });

  it('collapses duplicates, and a field asked both ways is mandatory', () => {
    assert.deepEqual(parseScope(['email', 'email', 'surname', 'surname!'], DEFAULT_PERMISSIONS), { fields: ['surname', 'email'], mandatory: ['surname'] });
  });

  it('accepts an empty scope', () => {
    assert.deepEqual(parseScope([], DEFAULT_PERMISSIONS), { fields: [], mandatory: [] });
  });

  for (const code of ['phone', 'EMAIL', 'email!!', '!email', '', ' email', 'firstname?']) {
    it(`refuses the unknown code ${JSON.stringify(code)}`, () => {
      assert.throws(() => parseScope([code], DEFAULT_PERMISSIONS), (e: unknown) => e instanceof KeygateError && e.code === 'invalid_scope');
    });
  }

  it('refuses `email!` and `image!` unless the operator allowed them', () => {
    for (const code of ['email!', 'image!']) {
      assert.throws(() => parseScope([code], DEFAULT_PERMISSIONS), (e: unknown) => e instanceof KeygateError && e.code === 'invalid_scope');
      assert.deepEqual(parseScope([code], [...DEFAULT_PERMISSIONS, code]).mandatory, [code.slice(0, -1)]);
    }
  });

  it('refuses a field the app may not request at all', () => {
    assert.throws(() => parseScope(['image'], ['firstname', 'email']), KeygateError);
  });
});
