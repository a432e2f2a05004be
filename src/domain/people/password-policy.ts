import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;
/** zxcvbn's "safely unguessable" (≥ 10^8 guesses): resists online attacks with rate limits. */
const MIN_SCORE = 3;

const estimator = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...english.dictionary },
  graphs: common.adjacencyGraphs,
  translations: english.translations,
});

/** What the person told us at sign-up: a password must not be built from it. */
export interface PasswordContext {
  readonly email: string;
  readonly firstname?: string;
  readonly surname?: string;
}

/**
 * Checks a new password against the policy (DESIGN, "Password policy"); returns the
 * reason to show next to the field, or null when it is acceptable.
 */
export function checkNewPassword(password: string, context: PasswordContext): string | null {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    return `Use ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters.`;
  }
  const lower = password.toLowerCase();
  const email = context.email.trim().toLowerCase();
  const personal = [email, email.split('@')[0] ?? '', context.firstname ?? '', context.surname ?? '']
    .map((value) => value.trim().toLowerCase())
    .filter((value) => value.length >= 3);
  if (personal.some((value) => lower.includes(value))) return 'Do not use your email address or your name in your password.';
  // Common passwords (the zxcvbn password list) and their variations score 0 to 2.
  const estimate = estimator.check(password, personal);
  if (estimate.score < MIN_SCORE) {
    const hint = estimate.feedback.warning ? ` ${estimate.feedback.warning}` : '';
    return `This password is too easy to guess.${hint} A few unrelated words make a strong one.`;
  }
  return null;
}
