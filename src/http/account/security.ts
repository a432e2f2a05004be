import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PersonRef } from '../../domain/zones/zone-registry.js';
import type { FieldErrors } from '../kit/form-controls.js';
import { formString, type Form } from '../kit/forms.js';
import { personOf } from '../kit/guard.js';
import type { PageContext } from '../kit/page-context.js';
import { sendScriptedPage as send } from '../kit/send-page.js';
import { enrolmentPage, recoveryCodesPage, securityPage } from './views.js';

/** A signed-in person's own security settings: password, nickname, second factor (behind the account's guard). */
export function accountSecurityRoutes(server: FastifyInstance, context: PageContext): void {
  const { services, csrf } = context;

  async function render(request: FastifyRequest, reply: FastifyReply, person: PersonRef, status = 200, extra: { notice?: string; errors?: FieldErrors } = {}) {
    const state = await services.people.accountState(person);
    return send(reply, status, securityPage({
      csrf: csrf.tokenFor(request, reply),
      nickname: await services.people.nicknameOf(person),
      secondFactor: state?.secondFactor ?? false,
      recoveryCodesLeft: state?.secondFactor ? await services.secondFactor.remainingRecoveryCodes(person) : 0,
      ...extra,
    }));
  }

  server.get('/account/security', async (request, reply) => {
    const person = personOf(request);
    return render(request, reply, person);
  });

  server.post<{ Body: Form }>('/account/security/nickname', async (request, reply) => {
    const person = personOf(request);
    const value = (formString(request.body ?? {}, 'nickname', 100) ?? '').trim();
    const outcome = await services.people.setNickname(person, value === '' ? null : value, { requestId: request.id });
    if (outcome === 'invalid') return render(request, reply, person, 400, { errors: { nickname: 'Use 3 to 30 characters: letters a–z, digits, dot, dash or underscore, starting with a letter or digit.' } });
    if (outcome === 'taken') return render(request, reply, person, 400, { errors: { nickname: 'This nickname is taken. Choose another.' } });
    return render(request, reply, person, 200, { notice: value === '' ? 'Nickname removed.' : 'Nickname saved.' });
  });

  server.post<{ Body: Form }>('/account/security/password', async (request, reply) => {
    const person = personOf(request);
    const form = request.body ?? {};
    // Read before the change ends every session: the renewed one keeps how the person signed in.
    const signedIn = await context.sessionAuthentication(request);
    const problem = await services.accounts.changePassword(person, formString(form, 'current', 256) ?? '', formString(form, 'password', 1024) ?? '', { requestId: request.id });
    if (problem) return render(request, reply, person, 400, { errors: { [problem.field]: problem.message } });
    // Every session ended with the change; this browser continues on a fresh one.
    await context.startSession(request, reply, person, signedIn ?? undefined);
    return render(request, reply, person, 200, { notice: 'Password changed. Every other device was signed out.' });
  });

  server.post('/account/security/totp/start', async (request, reply) => {
    const person = personOf(request);
    const enrolment = await services.secondFactor.beginEnrolment(person, request.id);
    return send(reply, 200, enrolmentPage({ csrf: csrf.tokenFor(request, reply), ...enrolment }));
  });

  server.post<{ Body: Form }>('/account/security/totp/confirm', async (request, reply) => {
    const person = personOf(request);
    const form = request.body ?? {};
    const secret = formString(form, 'secret', 64) ?? '';
    const proof = formString(form, 'proof', 128) ?? '';
    const codes = /^[A-Z2-7]{16,64}$/.test(secret)
      ? await services.secondFactor.confirmEnrolment(person, secret, proof, formString(form, 'code', 32) ?? '', { requestId: request.id })
      : null;
    if (!codes) {
      const same = await services.secondFactor.resumeEnrolment(person, secret, proof, request.id);
      const enrolment = same ?? await services.secondFactor.beginEnrolment(person, request.id);
      const error = same ? 'That code did not match. Enter the current code from the app.' : 'This set-up expired. Scan this new code and try again.';
      return send(reply, 400, enrolmentPage({ csrf: csrf.tokenFor(request, reply), ...enrolment, error }));
    }
    // A change of privilege: a fresh session id.
    await context.startSession(request, reply, person);
    return send(reply, 200, recoveryCodesPage({ csrf: csrf.tokenFor(request, reply), codes }));
  });

  server.post<{ Body: Form }>('/account/security/totp/disable', async (request, reply) => {
    const person = personOf(request);
    if (!(await services.secondFactor.verify(person, formString(request.body ?? {}, 'code', 64) ?? '', { requestId: request.id }))) {
      return render(request, reply, person, 400, { errors: { disable: 'This code is not right.' } });
    }
    await services.secondFactor.disable(person, { requestId: request.id });
    return render(request, reply, person, 200, { notice: 'The second factor is off.' });
  });
}
