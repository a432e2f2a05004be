import type { FastifyInstance } from 'fastify';
import { registerStandaloneSignIn, type SignInServices } from '../interaction/sign-in-flow.js';
import { requirePerson } from '../kit/guard.js';
import { html } from '../kit/html.js';
import type { PageContext } from '../kit/page-context.js';
import { accountCentreRoutes, type CentreServices } from './centre.js';
import { accountSecurityRoutes, type SecurityServices } from './security.js';

/**
 * A person's own account: signing in to it, then (behind one guard) the account centre
 * and the security settings.
 */
/** What the account uses: its centre, its security settings and the sign-in steps. */
export type AccountServices = CentreServices & SecurityServices & SignInServices;

export async function accountPages(server: FastifyInstance, { context, services }: { context: PageContext; services: AccountServices }): Promise<void> {
  server.get('/account', async (_request, reply) => reply.redirect('/account/profile', 303));
  registerStandaloneSignIn(server, context, services, { base: '/account', lead: (t) => html`${t.t('account.signIn.lead')}`, home: '/account/profile' });

  await server.register(async (signedIn) => {
    signedIn.addHook('preHandler', requirePerson(context, '/account/sign-in'));
    accountSecurityRoutes(signedIn, context, services);
    accountCentreRoutes(signedIn, context, services);
  });
}
