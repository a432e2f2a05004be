import { isIP } from 'node:net';

/**
 * Return URL protection (DESIGN, "Protection of apps"). A return URL is accepted when it
 * has the scheme, host and port of a listed URL and its path starts with the listed path
 * on a segment boundary. Everything is compared after a real URL parser has normalised
 * it, and anything a parser and a browser might read differently is refused outright.
 */

// Backslashes are read as slashes by browsers but not by every server; control characters
// and spaces are stripped by some parsers; an encoded slash, backslash or dot in the path
// lets `/callback/%2e%2e/admin` look like a sub-path while meaning something else.
const SUSPICIOUS = /[\\\u0000-\u0020\u007f]|%(2f|5c|2e|00)/i;

// In the path, a `;` starts parameters that some servers strip before routing
// (`/callback/..;/admin` reaches `/admin` behind Tomcat-style parsers), and an encoded
// `%` is double encoding (`%252e%252e` becomes `..` once a proxy decodes it again).
const SUSPICIOUS_IN_PATH = /;|%25/i;

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Parses a URL that could be used as a return URL, or returns null with no reason. */
export function parseReturnUrl(value: string): URL | null {
  if (value.length === 0 || value.length > 2048 || SUSPICIOUS.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.username !== '' || url.password !== '') return null;
  if (SUSPICIOUS_IN_PATH.test(url.pathname)) return null;
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return url;
  return null;
}

function pathIsWithin(candidate: string, listed: string): boolean {
  if (listed.endsWith('/')) return candidate.startsWith(listed);
  return candidate === listed || candidate.startsWith(`${listed}/`);
}

/** True when `candidate` is allowed by one of the app's `listed` return URLs. */
export function isReturnUrlAllowed(candidate: string, listed: readonly string[]): boolean {
  const url = parseReturnUrl(candidate);
  if (!url) return false;
  return listed.some((entry) => {
    const allowed = parseReturnUrl(entry);
    return allowed !== null
      && allowed.protocol === url.protocol
      && allowed.hostname === url.hostname
      && allowed.port === url.port
      && pathIsWithin(url.pathname, allowed.pathname);
  });
}
