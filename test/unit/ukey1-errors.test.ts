import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CODES, KeygateError } from '../../src/domain/errors.js';
import { describeRefusal, UKEY1_ERRORS } from '../../src/protocols/ukey1/errors.js';
import { parseScope } from '../../src/protocols/ukey1/scope.js';

const refusalOf = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof KeygateError);
    return describeRefusal(error);
  }
  assert.fail('expected a refusal');
};

describe('Ukey1 error mapping (spec, "Response envelope")', () => {
  it('words every refusal of the domain with a status and a message', () => {
    for (const code of ERROR_CODES) {
      const { status, message } = UKEY1_ERRORS[code];
      assert.ok(status >= 400 && status < 600, code);
      assert.ok(message.trim().length > 0, code);
    }
  });

  it('words a refused scope entry from its details, as the API always has', () => {
    assert.deepEqual(refusalOf(() => parseScope(['phone'], ['email'])), {
      status: 400, code: 'invalid_scope', message: 'Unknown field code in scope: "phone".',
    });
    assert.equal(refusalOf(() => parseScope(['email!'], ['email'])).message, 'This app may not make "email" mandatory.');
    assert.equal(refusalOf(() => parseScope(['image'], ['email'])).message, 'This app may not request "image".');
  });

  it('cuts an unknown scope entry short and quotes it', () => {
    const { message } = refusalOf(() => parseScope([`${'x'.repeat(50)}"`], ['email']));
    assert.equal(message, `Unknown field code in scope: "${'x'.repeat(40)}".`);
  });

  it('names the first offending entry in the order sent', () => {
    assert.equal(refusalOf(() => parseScope(['image', 'phone'], ['email'])).message, 'This app may not request "image".');
  });

  it('uses the default message when a refusal carries no details', () => {
    assert.deepEqual(describeRefusal(new KeygateError('invalid_request')), { status: 400, code: 'invalid_request', message: 'The request is malformed.' });
    assert.equal(describeRefusal(new KeygateError('missing_app_id')).message, 'The X-Ukey1-App header is missing.');
  });

  it('words input problems', () => {
    assert.equal(describeRefusal(new KeygateError('invalid_request', { field: 'email', reason: 'not_an_email' })).message, 'Invalid email: not an email address.');
    assert.equal(describeRefusal(new KeygateError('invalid_request', { field: 'scope.0', reason: 'schema', issue: 'Too big' })).message, 'Invalid scope.0: Too big');
  });

  it('passes on how long to wait', () => {
    assert.deepEqual(describeRefusal(new KeygateError('too_many_requests', { retryAfterSeconds: 7 })), {
      status: 429, code: 'too_many_requests', message: 'Too many calls for this app. Wait as long as Retry-After says, then try again.', retryAfterSeconds: 7,
    });
  });
});
