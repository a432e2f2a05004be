/**
 * The canonical form of a nickname: Unicode NFKC, lower-case, 3 to 30 characters of
 * ASCII letters, digits, dot, dash and underscore, starting with a letter or digit.
 * ASCII only, so that no look-alike spelling can sign in as someone else; never an
 * `@`, so that a nickname cannot be read as an email.
 */
export function normaliseNickname(value: string): string | null {
  const text = value.normalize('NFKC').trim().toLowerCase();
  return /^[a-z0-9][a-z0-9._-]{2,29}$/.test(text) ? text : null;
}
