import { isIP } from 'node:net';

/**
 * Normalises an origin to `scheme://host[:port]` (lower-case host, IDN in punycode,
 * default port dropped), or returns null when the value is not a bare origin.
 * `null` (the opaque origin browsers send from sandboxes and files) is never an origin.
 */
export function normaliseOrigin(value: string): string | null {
  if (value.length === 0 || value.length > 512 || /[\\\s@]/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // A trailing dot names the same host to DNS but not to a string comparison: refuse it.
  if (host.endsWith('.')) return null;
  if (isIP(host) === 0 && !/^[a-z0-9.-]+$/.test(host)) return null;
  return url.origin;
}

/** True when the `X-Origin` a server sent, once normalised, is one of the app's origins. */
export function isOriginAllowed(sent: string | undefined, listed: readonly string[]): boolean {
  if (sent === undefined) return false;
  const origin = normaliseOrigin(sent);
  return origin !== null && listed.includes(origin);
}

/**
 * True when a browser's `Origin` header is one of the app's origins. Browsers always send
 * the canonical form, so anything else is refused rather than normalised: the value may
 * be echoed back in `Access-Control-Allow-Origin`.
 */
export function isBrowserOriginAllowed(sent: string | undefined, listed: readonly string[]): boolean {
  return sent !== undefined && normaliseOrigin(sent) === sent && listed.includes(sent);
}
