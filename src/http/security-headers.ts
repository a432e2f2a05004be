import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/**
 * The security headers every answer carries, as helmet decides them, computed once at
 * start: they depend on the configuration only, and running helmet's middleware on each
 * request cost more CPU than anything else in the answer's headers. Pages replace the
 * Content-Security-Policy with their own (sendPage).
 */
export function securityHeaders(options: { hsts: boolean }): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  helmet({
    // Pages send a policy of their own; everything else gets the server's default.
    contentSecurityPolicy: false,
    // Two years, subdomains included (what HSTS preload lists ask for).
    strictTransportSecurity: options.hsts ? { maxAge: 63_072_000, includeSubDomains: true } : false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  })({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return Object.freeze(headers);
}
