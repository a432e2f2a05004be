import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { amrOf } from '../../src/domain/authn/methods.js';
import { challengeTokenOf, nextStepFor } from '../../src/domain/authn/sign-in-flows.js';

describe('sign-in methods and their RFC 8176 values', () => {
  it('records a password alone as pwd and an emailed code alone as otp', () => {
    assert.deepEqual(amrOf(['password']), ['pwd']);
    assert.deepEqual(amrOf(['email_code']), ['otp']);
  });

  it('adds mfa only when the methods span two kinds of factor', () => {
    assert.deepEqual(amrOf(['password', 'totp']), ['pwd', 'otp', 'mfa']);
    assert.deepEqual(amrOf(['password', 'email_code']), ['pwd', 'otp', 'mfa']);
    // Two possession proofs are still one kind of factor.
    assert.deepEqual(amrOf(['email_code', 'totp']), ['otp']);
    assert.deepEqual(amrOf(['totp', 'password', 'password']), ['pwd', 'otp', 'mfa']);
  });
});

describe('the steps of a sign-in', () => {
  const confirmed = { emailVerified: true, secondFactor: false };
  const withFactor = { emailVerified: true, secondFactor: true };

  it('asks an unconfirmed address for its code before anything else', () => {
    assert.equal(nextStepFor({ emailVerified: false, secondFactor: true }, ['password']), 'confirm_email');
  });

  it('asks for the enrolled second factor until it is done, whatever the first method', () => {
    assert.equal(nextStepFor(withFactor, ['password']), 'second_factor');
    assert.equal(nextStepFor(withFactor, ['email_code']), 'second_factor');
    assert.equal(nextStepFor(withFactor, ['password', 'totp']), 'complete');
    assert.equal(nextStepFor(confirmed, ['password']), 'complete');
  });

  it('gives each kind of step its own challenge token, derived from the flow token', () => {
    const flow = { token: 'A'.repeat(43) };
    const signUp = challengeTokenOf(flow, 'sign_up');
    assert.match(signUp, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(signUp, challengeTokenOf(flow, 'second_factor'));
    assert.notEqual(signUp, challengeTokenOf({ token: 'B'.repeat(43) }, 'sign_up'));
    assert.equal(signUp, challengeTokenOf(flow, 'sign_up'));
  });
});
