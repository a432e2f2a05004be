/**
 * The ways a person proves who they are, and what each proves. A sign-in completes one or
 * more of them (see `sign-in-flows.ts`); the session records the RFC 8176 values they add
 * up to, so that later steps and protocols can ask how, and when, the person signed in.
 */

/** RFC 8176 authentication method reference values Keygate records. */
export type AmrValue = 'pwd' | 'otp' | 'mfa';

const AMR_VALUES: readonly AmrValue[] = ['pwd', 'otp', 'mfa'];
export const isAmrValue = (value: string): value is AmrValue => (AMR_VALUES as readonly string[]).includes(value);

export type SignInMethodName = 'password' | 'email_code' | 'totp';

/** What kind of evidence a method is: two of different kinds make a multi-factor sign-in. */
type Factor = 'knowledge' | 'possession';

interface MethodFacts {
  readonly amr: Exclude<AmrValue, 'mfa'>;
  readonly factor: Factor;
}

export const SIGN_IN_METHODS: Readonly<Record<SignInMethodName, MethodFacts>> = {
  password: { amr: 'pwd', factor: 'knowledge' },
  // A code sent to the person's address proves they hold the mailbox.
  email_code: { amr: 'otp', factor: 'possession' },
  // The current code of an enrolled authenticator, or one of its recovery codes.
  totp: { amr: 'otp', factor: 'possession' },
};

export const isSignInMethodName = (value: string): value is SignInMethodName => Object.hasOwn(SIGN_IN_METHODS, value);

/** The `amr` of a sign-in that completed `methods`, in a stable order; `mfa` when they span two kinds of factor. */
export function amrOf(methods: readonly SignInMethodName[]): AmrValue[] {
  const values = new Set<AmrValue>(methods.map((m) => SIGN_IN_METHODS[m].amr));
  const factors = new Set(methods.map((m) => SIGN_IN_METHODS[m].factor));
  if (factors.size > 1) values.add('mfa');
  return AMR_VALUES.filter((v) => values.has(v));
}
