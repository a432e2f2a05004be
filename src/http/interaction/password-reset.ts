import type { Services } from '../../domain/services.js';
import type { FastifyInstance } from 'fastify';
import { formString, type Form } from '../kit/forms.js';
import type { PageContext } from '../kit/page-context.js';
import { sendPage } from '../kit/send-page.js';
import { passwordProblemText } from '../kit/texts.js';
import { resetPasswordPage } from './sign-in-views.js';

/** The page a password-reset link opens; not tied to an app or the dashboard. */
export async function passwordResetPages(server: FastifyInstance, { context, services }: { context: PageContext; services: Pick<Services, 'accounts'> }): Promise<void> {
  const { csrf } = context;
  server.get<{ Params: { token: string } }>('/reset/:token', async (request, reply) => {
    const valid = await services.accounts.isResetLinkValid(request.params.token);
    if (!valid) return sendPage(reply, 410, resetPasswordPage(context.texts(request), { csrf: '', token: '', expired: true }));
    return sendPage(reply, 200, resetPasswordPage(context.texts(request), { csrf: csrf.tokenFor(request, reply), token: request.params.token }));
  });

  server.post<{ Params: { token: string }; Body: Form }>('/reset/:token', async (request, reply) => {
    const { token } = request.params;
    const outcome = await services.accounts.resetPassword(token, formString(request.body ?? {}, 'password', 1024) ?? '', { requestId: request.id });
    if (outcome === 'expired') return sendPage(reply, 410, resetPasswordPage(context.texts(request), { csrf: '', token: '', expired: true }));
    if (outcome) return sendPage(reply, 400, resetPasswordPage(context.texts(request), { csrf: csrf.tokenFor(request, reply), token, error: passwordProblemText(context.texts(request), outcome) }));
    // Every session ended with the reset, this browser's included.
    await context.endSession(request, reply);
    return sendPage(reply, 200, resetPasswordPage(context.texts(request), { csrf: '', token: '', done: true }));
  });
}
