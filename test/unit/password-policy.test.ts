import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkNewPassword } from '../../src/domain/people/password-policy.js';

const jana = { email: 'jana.novakova@example.cz', firstname: 'Jana', surname: 'Nováková' };

describe('password policy', () => {
  for (const strong of ['correct horse battery staple', 'Weltraum-Fahrrad-Kaffee-42', 'plum-orchard-violin-2026']) {
    it(`accepts a hard-to-guess password: ${strong}`, () => assert.equal(checkNewPassword(strong, jana), null));
  }

  it('refuses fewer than 10 or more than 256 characters', () => {
    assert.deepEqual(checkNewPassword('Ab1!xY9#q', jana), { reason: 'length', min: 10, max: 256 });
    assert.deepEqual(checkNewPassword(`${'correct horse battery staple '.repeat(9)}x`, jana), { reason: 'length', min: 10, max: 256 });
  });

  for (const common of ['password123', 'qwertyuiop', '1234567890', 'iloveyou12', 'Password2024']) {
    it(`refuses the common password ${common}`, () => assert.deepEqual(checkNewPassword(common, jana), { reason: 'guessable' }));
  }

  for (const personal of ['Jana2026!!x', 'jana.novakova1', 'my NOVÁKOVÁ rocket', 'xx-jana.novakova@example.cz']) {
    it(`refuses a password built from the person's email or names: ${personal}`, () => {
      assert.deepEqual(checkNewPassword(personal, jana), { reason: 'personal' });
    });
  }
});
