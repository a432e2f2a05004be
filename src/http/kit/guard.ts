import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PersonRef } from '../../domain/zones/zone-registry.js';
import type { PageContext } from './page-context.js';

const signedIn = new WeakMap<FastifyRequest, PersonRef>();

/**
 * The guard of a surface's signed-in routes, as a preHandler: anyone without a session
 * is sent to the surface's sign-in page. It runs after the form protection of the
 * parent scope, so a forged post is refused before anything else is looked at.
 */
export function requirePerson(context: PageContext, signInUrl: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const person = await context.currentPerson(request);
    if (!person) return reply.redirect(signInUrl, 303);
    signedIn.set(request, person);
    return undefined;
  };
}

/** The person `requirePerson` let through; only for routes behind it. */
export function personOf(request: FastifyRequest): PersonRef {
  const person = signedIn.get(request);
  if (!person) throw new Error('personOf is only for routes behind requirePerson');
  return person;
}
