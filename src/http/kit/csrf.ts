import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * CSRF tokens for the gateway's forms, as a signed double submit: the browser holds a
 * random secret in an HttpOnly cookie, each form carries the HMAC of that secret under a
 * server key. A forged form from another site has neither; a cookie planted by a sibling
 * domain cannot produce the matching HMAC. Any node can check it: nothing is stored.
 */
export class CsrfTokens {
  constructor(
    private readonly key: Buffer,
    private readonly cookie: { readonly name: string; readonly secure: boolean },
  ) {}

  #sign(secret: string): string {
    return createHmac('sha256', this.key).update(secret).digest('base64url');
  }

  #secretOf(request: FastifyRequest): string | undefined {
    const secret = request.cookies[this.cookie.name];
    return secret && /^[A-Za-z0-9_-]{43}$/.test(secret) ? secret : undefined;
  }

  /** The token for the forms of the page being answered; gives the browser its secret first if needed. */
  tokenFor(request: FastifyRequest, reply: FastifyReply): string {
    let secret = this.#secretOf(request);
    if (!secret) {
      secret = randomBytes(32).toString('base64url');
      reply.setCookie(this.cookie.name, secret, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.cookie.secure });
      // The rest of this request (a re-rendered form) must sign the secret just given.
      request.cookies[this.cookie.name] = secret;
    }
    return this.#sign(secret);
  }

  /** Whether a form post carries the token that matches the browser's secret. */
  isValid(request: FastifyRequest): boolean {
    const secret = this.#secretOf(request);
    const sent = (request.body as Record<string, unknown> | undefined)?._csrf;
    if (!secret || typeof sent !== 'string') return false;
    const expected = Buffer.from(this.#sign(secret));
    const given = Buffer.from(sent);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
