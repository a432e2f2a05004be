import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../domain/services.js';
import { accountPages } from './account/account.js';
import type { ClientAddress } from './client-address.js';
import { dashboardPages } from './dashboard/dashboard.js';
import { gatewayPages } from './gateway/gateway.js';
import { authorizeRoutes } from './oidc/authorize.js';
import { logoutRoutes } from './oidc/logout.js';
import { passwordResetPages } from './interaction/password-reset.js';
import { secondFactorUndoPages } from './interaction/second-factor-undo.js';
import { refuseForeignForms } from './kit/form-protection.js';
import { homePage } from './kit/layout.js';
import { createPageContext } from './kit/page-context.js';
import { pageErrorHandler } from './kit/page-errors.js';
import { sendPage } from './kit/send-page.js';
import { registerStaticAssets } from './kit/static.js';

export interface WebPagesOptions {
  readonly services: Services;
  readonly publicUrl: string;
  /** Keys the HMAC of the forms' CSRF tokens; the same on every node. */
  readonly csrfKey: Buffer;
  readonly clientAddress: ClientAddress;
}

/**
 * The server-rendered pages: the gateway people sign in through, the developers'
 * dashboard and the person's account. The only module that knows every surface: each is
 * an encapsulated plugin registered here, inside the scope whose form parser, form
 * protection and error handler every page route shares.
 */
export async function webPages(server: FastifyInstance, options: WebPagesOptions): Promise<void> {
  const { services } = options;
  await server.register(formbody, { bodyLimit: 64 * 1024 });
  const context = createPageContext(options);
  server.addHook('preHandler', refuseForeignForms(options.publicUrl, context.csrf));
  server.setErrorHandler(pageErrorHandler);

  server.get('/', async (request, reply) => sendPage(reply, 200, homePage(context.texts(request))));
  registerStaticAssets(server);

  // A profile picture behind an app's expiring link: embeddable by the app's pages (any origin).
  server.get<{ Params: { token: string } }>('/images/:token', async (request, reply) => {
    const image = await services.images.fetchForApp(request.params.token, request.id);
    if (!image) return reply.code(404).type('text/plain; charset=utf-8').header('Cache-Control', 'no-store').send('This link has expired or the picture is no longer shared.');
    return reply.type('image/webp').header('Cache-Control', 'private, max-age=300').header('Cross-Origin-Resource-Policy', 'cross-origin').send(image);
  });

  // Each surface is given the services it declares it uses.
  await server.register(passwordResetPages, { context, services });
  await server.register(secondFactorUndoPages, { context, services });
  await server.register(gatewayPages, { context, services });
  await server.register(authorizeRoutes, { context, services });
  await server.register(logoutRoutes, { context, services });
  await server.register(dashboardPages, { context, services });
  await server.register(accountPages, { context, services });
}
