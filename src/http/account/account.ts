import type { FastifyInstance } from 'fastify';
import { registerStandaloneSignIn } from '../interaction/sign-in-flow.js';
import { requirePerson } from '../kit/guard.js';
import { html } from '../kit/html.js';
import type { PageContext } from '../kit/page-context.js';
import { accountCentreRoutes } from './centre.js';
import { accountSecurityRoutes } from './security.js';

/**
 * A person's own account: signing in to it, then (behind one guard) the account centre
 * and the security settings.
 */
export async function accountPages(server: FastifyInstance, { context }: { context: PageContext }): Promise<void> {
  server.get('/account', async (_request, reply) => reply.redirect('/account/profile', 303));
  registerStandaloneSignIn(server, context, { base: '/account', lead: (t) => html`${t.t('account.signIn.lead')}`, home: '/account/profile' });

  await server.register(async (signedIn) => {
    signedIn.addHook('preHandler', requirePerson(context, '/account/sign-in'));
    accountSecurityRoutes(signedIn, context);
    accountCentreRoutes(signedIn, context);
  });
}
