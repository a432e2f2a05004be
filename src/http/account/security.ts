import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PersonRef } from '../../domain/zones/zone-registry.js';
import { sendPage } from '../gateway/pages.js';
import type { FieldErrors } from '../gateway/views.js';
import { html } from '../html.js';
import { registerSignInFlow } from '../web/sign-in-flow.js';
import { signInPage, signUpPage, type SignInPlace } from '../web/sign-in-views.js';
import { formString, type Form, type PageContext } from '../web/web-pages.js';
import { enrolmentPage, recoveryCodesPage, securityPage } from './views.js';

const send = (reply: FastifyReply, status: number, page: string) => sendPage(reply, status, page, undefined, { script: true });

/** A signed-in person's own security settings: password, nickname, second factor. */
export function accountSecurityRoutes(server: FastifyInstance, context: PageContext): void {
  const { services, csrf } = context;

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

  async function requirePerson(request: FastifyRequest, reply: FastifyReply): Promise<PersonRef | null> {
    const person = await context.currentPerson(request);
    if (!person) reply.redirect('/account/sign-in', 303);
    return person;
  }

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
    const person = await requirePerson(request, reply);
    if (!person) return reply;
    return render(request, reply, person);
  });

  server.post<{ Body: Form }>('/account/security/nickname', async (request, reply) => {
    const person = await requirePerson(request, reply);
    if (!person) return reply;
    const value = (formString(request.body ?? {}, 'nickname', 100) ?? '').trim();
    const outcome = await services.people.setNickname(person, value === '' ? null : value, { requestId: request.id });
    if (outcome === 'invalid') return render(request, reply, person, 400, { errors: { nickname: 'Use 3 to 30 characters: letters a–z, digits, dot, dash or underscore, starting with a letter or digit.' } });
    if (outcome === 'taken') return render(request, reply, person, 400, { errors: { nickname: 'This nickname is taken. Choose another.' } });
    return render(request, reply, person, 200, { notice: value === '' ? 'Nickname removed.' : 'Nickname saved.' });
  });

  server.post<{ Body: Form }>('/account/security/password', async (request, reply) => {
    const person = await requirePerson(request, reply);
    if (!person) return reply;
    const form = request.body ?? {};
    const problem = await services.accounts.changePassword(person, formString(form, 'current', 256) ?? '', formString(form, 'password', 1024) ?? '', { requestId: request.id });
    if (problem) return render(request, reply, person, 400, { errors: { [problem.field]: problem.message } });
    // Every session ended with the change; this browser continues on a fresh one.
    await context.startSession(request, reply, person);
    return render(request, reply, person, 200, { notice: 'Password changed. Every other device was signed out.' });
  });

  server.post('/account/security/totp/start', async (request, reply) => {
    const person = await requirePerson(request, reply);
    if (!person) return reply;
    const enrolment = await services.secondFactor.beginEnrolment(person, request.id);
    return send(reply, 200, enrolmentPage({ csrf: csrf.tokenFor(request, reply), ...enrolment }));
  });

  server.post<{ Body: Form }>('/account/security/totp/confirm', async (request, reply) => {
    const person = await requirePerson(request, reply);
    if (!person) return reply;
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
    const person = await requirePerson(request, reply);
    if (!person) return reply;
    if (!(await services.secondFactor.verify(person, formString(request.body ?? {}, 'code', 64) ?? '', { requestId: request.id }))) {
      return render(request, reply, person, 400, { errors: { disable: 'This code is not right.' } });
    }
    await services.secondFactor.disable(person, { requestId: request.id });
    return render(request, reply, person, 200, { notice: 'The second factor is off.' });
  });
}
