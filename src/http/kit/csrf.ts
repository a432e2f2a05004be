import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * CSRF tokens for the pages' forms. The browser holds a random secret in an HttpOnly
 * cookie; each form carries the HMAC, under a server key, of that secret and of the
 * browser's session cookie (none before sign-in). A forged form from another site has
 * neither. Where a cookie can be planted (plain HTTP, or a sibling domain without the
 * `__Host-` prefix), the planter knows the secret and so can forge the forms of a
 * signed-out browser (sign-in included); but a token is only good for the session it was
 * made for, and signing in gives the browser a fresh secret, so no planted cookie yields
 * a form a signed-in person's session accepts. Any node can check it: nothing is stored.
 */
export class CsrfTokens {
  constructor(
    private readonly key: Buffer,
    private readonly cookie: { readonly name: string; readonly secure: boolean },
    /** The browser's session cookie, which every token is bound to. */
    private readonly sessionOf: (request: FastifyRequest) => string | undefined,
  ) {}

  #sign(secret: string, session: string | undefined): string {
    return createHmac('sha256', this.key).update(secret).update('\0').update(session ?? '').digest('base64url');
  }

  #secretOf(request: FastifyRequest): string | undefined {
    const secret = request.cookies[this.cookie.name];
    return secret && /^[A-Za-z0-9_-]{43}$/.test(secret) ? secret : undefined;
  }

  #giveSecret(request: FastifyRequest, reply: FastifyReply): string {
    const secret = randomBytes(32).toString('base64url');
    reply.setCookie(this.cookie.name, secret, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.cookie.secure });
    // The rest of this request (a re-rendered form) must sign the secret just given.
    request.cookies[this.cookie.name] = secret;
    return secret;
  }

  /** The token for the forms of the page being answered; gives the browser its secret first if needed. */
  tokenFor(request: FastifyRequest, reply: FastifyReply): string {
    return this.#sign(this.#secretOf(request) ?? this.#giveSecret(request, reply), this.sessionOf(request));
  }

  /** A new secret for the browser, when a session starts: whatever secret it held before is worth nothing after. */
  renew(request: FastifyRequest, reply: FastifyReply): void {
    this.#giveSecret(request, reply);
  }

  /** Whether a form post carries the token that matches the browser's secret and session. */
  isValid(request: FastifyRequest): boolean {
    const secret = this.#secretOf(request);
    const sent = (request.body as Record<string, unknown> | undefined)?._csrf;
    if (!secret || typeof sent !== 'string') return false;
    const expected = Buffer.from(this.#sign(secret, this.sessionOf(request)));
    const given = Buffer.from(sent);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
