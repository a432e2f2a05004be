import { isIP } from 'node:net';
import { parseReturnUrl } from './return-url.js';

/**
 * OpenID Connect redirect URIs (RFC 9700 §2.1, §4.1.3): a presented URI must equal a
 * registered one character for character, with one exception from RFC 8252 §7.3: for a
 * loopback IP literal over http, a native app's port is chosen at run time, so the port
 * alone may differ. Registration accepts what the return-URL parser accepts (https, or
 * http on loopback; no credentials, nothing parsers read differently) and no fragment.
 */

const loopbackLiteral = (hostname: string): boolean => {
  const host = hostname.replace(/^\[|\]$/g, '');
  return (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
};

/** The registered form of a redirect URI, or null when it cannot be one. */
export function parseRedirectUri(value: string): string | null {
  const url = parseReturnUrl(value);
  if (!url || url.hash !== '' || value.includes('#')) return null;
  return value;
}

// The authority of an http URL on an IP literal: the host, then an optional port.
const LOOPBACK_AUTHORITY = /^http:\/\/(\[[^\]]*\]|[0-9.]+)(:\d*)?(?=[/?]|$)/;

/** The URI as written with its port left out, when it is http on a loopback IP literal; otherwise null. */
function loopbackWithoutPort(uri: string): string | null {
  const match = LOOPBACK_AUTHORITY.exec(uri);
  if (!match || !loopbackLiteral(match[1]!)) return null;
  return `http://${match[1]}${uri.slice(match[0].length)}`;
}

/** True when `presented` is one of the `registered` redirect URIs. */
export function isRegisteredRedirectUri(presented: string, registered: readonly string[]): boolean {
  if (registered.includes(presented)) return true;
  const portless = parseRedirectUri(presented) === null ? null : loopbackWithoutPort(presented);
  return portless !== null && registered.some((entry) => loopbackWithoutPort(entry) === portless);
}
