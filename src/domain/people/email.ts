import { domainToASCII } from 'node:url';

const MAX_EMAIL_LENGTH = 254;

/**
 * The canonical form of an email used for lookups: Unicode NFKC, trimmed, lower-case,
 * domain in punycode without a trailing dot. Two spellings of one address must find
 * the same person, and no look-alike spelling may reach another. Returns null when the
 * value is not a plausible address.
 */
export function normaliseEmail(value: string): string | null {
  const text = value.normalize('NFKC').trim().toLowerCase();
  if (text.length === 0 || text.length > MAX_EMAIL_LENGTH) return null;
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return null;
  const local = text.slice(0, at);
  if (!/^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+$/.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return null;
  const domain = domainToASCII(text.slice(at + 1).replace(/\.$/, ''));
  if (domain === '' || !/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]{2,}$/.test(domain)) return null;
  return `${local}@${domain}`;
}
