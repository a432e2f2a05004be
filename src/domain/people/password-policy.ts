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

/** Why a new password is refused; each front-end words it in its own language. */
export type PasswordProblem =
  | { readonly reason: 'length'; readonly min: number; readonly max: number }
  | { readonly reason: 'personal' }
  | { readonly reason: 'guessable' };

/**
 * Checks a new password against the policy (DESIGN, "Password policy"); returns why it is
 * refused, or null when it is acceptable.
 */
export function checkNewPassword(password: string, context: PasswordContext): PasswordProblem | null {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    return { reason: 'length', min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH };
  }
  const lower = password.toLowerCase();
  const email = context.email.trim().toLowerCase();
  const personal = [email, email.split('@')[0] ?? '', context.firstname ?? '', context.surname ?? '']
    .map((value) => value.trim().toLowerCase())
    .filter((value) => value.length >= 3);
  if (personal.some((value) => lower.includes(value))) return { reason: 'personal' };
  // Common passwords (the zxcvbn password list) and their variations score 0 to 2.
  if (estimator.check(password, personal).score < MIN_SCORE) return { reason: 'guessable' };
  return null;
}
