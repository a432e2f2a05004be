import type { Services } from '../../domain/services.js';
import type { FastifyInstance } from 'fastify';
import type { PageContext } from '../kit/page-context.js';
import { sendPage } from '../kit/send-page.js';
import { undoSecondFactorPage } from './sign-in-views.js';

/** The page the link mailed at a second factor's set-up opens: the owner's way back, signed in or not. */
export async function secondFactorUndoPages(server: FastifyInstance, { context, services }: { context: PageContext; services: Pick<Services, 'secondFactor'> }): Promise<void> {
  const { csrf } = context;
  // Opening the link changes nothing (mail scanners open links); the button does.
  server.get<{ Params: { token: string } }>('/second-factor/undo/:token', async (request, reply) => {
    if (!(await services.secondFactor.isUndoLinkLive(request.params.token))) return sendPage(reply, 410, undoSecondFactorPage(context.texts(request), { csrf: '', token: '', state: 'expired' }));
    return sendPage(reply, 200, undoSecondFactorPage(context.texts(request), { csrf: csrf.tokenFor(request, reply), token: request.params.token, state: 'ask' }));
  });

  server.post<{ Params: { token: string } }>('/second-factor/undo/:token', async (request, reply) => {
    if (!(await services.secondFactor.undoEnrolment(request.params.token, { requestId: request.id }))) {
      return sendPage(reply, 410, undoSecondFactorPage(context.texts(request), { csrf: '', token: '', state: 'expired' }));
    }
    // Every session ended, this browser's included.
    await context.endSession(request, reply);
    return sendPage(reply, 200, undoSecondFactorPage(context.texts(request), { csrf: '', token: '', state: 'done' }));
  });
}
