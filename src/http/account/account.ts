import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { registerSignInFlow } from '../interaction/sign-in-flow.js';
import { signInPage, signUpPage, type SignInPlace } from '../interaction/sign-in-views.js';
import { requirePerson } from '../kit/guard.js';
import { html } from '../kit/html.js';
import type { PageContext } from '../kit/page-context.js';
import { sendScriptedPage as send } from '../kit/send-page.js';
import { accountCentreRoutes } from './centre.js';
import { accountSecurityRoutes } from './security.js';

/**
 * A person's own account: signing in to it, then (behind one guard) the account centre
 * and the security settings.
 */
export async function accountPages(server: FastifyInstance, { context }: { context: PageContext }): Promise<void> {
  const { csrf } = context;

  const place = (request: FastifyRequest, reply: FastifyReply): SignInPlace => ({
    base: '/account',
    lead: html`Your Keygate account.`,
    cancellable: false,
    standalone: true,
    csrf: csrf.tokenFor(request, reply),
  });

  server.get('/account', async (_request, reply) => reply.redirect('/account/profile', 303));
  server.get('/account/sign-in', async (request, reply) => {
    if (await context.currentPerson(request)) return reply.redirect('/account/profile', 303);
    return send(reply, 200, signInPage(place(request, reply)));
  });
  server.get('/account/sign-up', async (request, reply) => send(reply, 200, signUpPage(place(request, reply))));
  registerSignInFlow(server, context, {
    prefix: '/account',
    resolve: async (request, reply) => ({ place: place(request, reply), continueUrl: '/account/profile' }),
  });

  server.post('/account/sign-out', async (request, reply) => {
    await context.endSession(request, reply, { signOut: true });
    return reply.redirect('/account/sign-in', 303);
  });

  await server.register(async (signedIn) => {
    signedIn.addHook('preHandler', requirePerson(context, '/account/sign-in'));
    accountSecurityRoutes(signedIn, context);
    accountCentreRoutes(signedIn, context);
  });
}
