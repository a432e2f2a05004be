import type { Services } from '../../domain/services.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PersonRef } from '../../domain/zones/zone-registry.js';
import type { FieldErrors } from '../kit/form-controls.js';
import { formString, type Form } from '../kit/forms.js';
import { personOf } from '../kit/guard.js';
import type { PageContext } from '../kit/page-context.js';
import { sendScriptedPage as send } from '../kit/send-page.js';
import { passwordProblemText } from '../kit/texts.js';
import { enrolmentPage, recoveryCodesPage, securityPage } from './views.js';

/** A signed-in person's own security settings: password, nickname, second factor (behind the account's guard). */
/** What the security settings use. */
export type SecurityServices = Pick<Services, 'accounts' | 'people' | 'personDirectory' | 'profiles' | 'reauthentication' | 'secondFactor' | 'signInThrottle'>;

export function accountSecurityRoutes(server: FastifyInstance, context: PageContext, services: SecurityServices): void {
  const { csrf } = context;

  async function render(request: FastifyRequest, reply: FastifyReply, person: PersonRef, status = 200, extra: { notice?: string; errors?: FieldErrors } = {}) {
    const state = await services.personDirectory.accountState(person);
    return send(reply, status, securityPage(context.texts(request), {
      csrf: csrf.tokenFor(request, reply),
      nickname: await services.profiles.nicknameOf(person),
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
    const t = context.texts(request);
    const value = (formString(request.body ?? {}, 'nickname', 100) ?? '').trim();
    if (value !== '') {
      const verdict = await services.signInThrottle.admitNicknameTry(person);
      if (!verdict.allowed) return waited(reply, request, person, verdict.retryAfterSeconds, 'nickname');
    }
    const outcome = await services.people.setNickname(person, value === '' ? null : value, { requestId: request.id });
    if (outcome === 'invalid') return render(request, reply, person, 400, { errors: { nickname: t.t('account.security.nickname.invalid') } });
    if (outcome === 'taken') return render(request, reply, person, 400, { errors: { nickname: t.t('account.security.nickname.taken') } });
    return render(request, reply, person, 200, { notice: t.t(value === '' ? 'account.security.nickname.removed' : 'account.security.nickname.saved') });
  });

  /** Answers 429 when the account's limit refused the attempt, and says how long to wait. */
  function waited(reply: FastifyReply, request: FastifyRequest, person: PersonRef, retryAfterSeconds: number, field: string) {
    reply.header('Retry-After', String(retryAfterSeconds));
    return render(request, reply, person, 429, { errors: { [field]: context.texts(request).t('account.tooManyAttempts', { seconds: retryAfterSeconds }) } });
  }

  server.post<{ Body: Form }>('/account/security/password', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    const form = request.body ?? {};
    // The current password is a guess like a sign-in's: counted on the account.
    const verdict = await services.reauthentication.admit(person, request.id);
    if (!verdict.allowed) return waited(reply, request, person, verdict.retryAfterSeconds, 'current');
    // Read before the change ends every session: the renewed one keeps how the person signed in.
    const signedIn = await context.sessionAuthentication(request);
    const problem = await services.accounts.changePassword(person, formString(form, 'current', 256) ?? '', formString(form, 'password', 1024) ?? '', { requestId: request.id });
    if (problem) {
      const message = problem.field === 'current' ? t.t('account.security.password.wrongCurrent') : passwordProblemText(t, problem.problem);
      return render(request, reply, person, 400, { errors: { [problem.field]: message } });
    }
    await services.reauthentication.succeeded(person);
    // Every session ended with the change; this browser continues on a fresh one.
    await context.startSession(request, reply, person, signedIn ?? undefined);
    // Worded after the new session started: a fresh sign-in may have set the page's language.
    return render(request, reply, person, 200, { notice: context.texts(request).t('account.security.password.changed') });
  });

  // Setting up or replacing the second factor needs the password again, and a current
  // code when one is on: a session alone must not be able to lock its owner out.
  server.post<{ Body: Form }>('/account/security/totp/start', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    const form = request.body ?? {};
    const proved = await services.reauthentication.confirm(person, {
      password: formString(form, 'password', 256) ?? '',
      code: formString(form, 'code', 64) ?? '',
    }, { requestId: request.id });
    if (!proved.ok) {
      if ('retryAfterSeconds' in proved) return waited(reply, request, person, proved.retryAfterSeconds, 'enrol');
      // The refusal is told at the field it is about, where a screen reader reads it with the field.
      const errors = proved.wrong === 'password' ? { enrolPassword: t.t('account.security.totp.wrongPassword') } : { enrolCode: t.t('account.security.totp.wrongCode') };
      return render(request, reply, person, 400, { errors });
    }
    const enrolment = await services.secondFactor.beginEnrolment(person, request.id);
    return send(reply, 200, enrolmentPage(t, { csrf: csrf.tokenFor(request, reply), ...enrolment }));
  });

  server.post<{ Body: Form }>('/account/security/totp/confirm', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    const form = request.body ?? {};
    const secret = formString(form, 'secret', 64) ?? '';
    const proof = formString(form, 'proof', 128) ?? '';
    const wellFormed = /^[A-Z2-7]{16,64}$/.test(secret);
    // The proof is given only after the password: an expired or forged one starts over there.
    if (!wellFormed || !services.secondFactor.isEnrolmentLive(person, secret, proof)) {
      return render(request, reply, person, 400, { errors: { enrol: t.t('account.security.totp.expired') } });
    }
    const signedIn = await context.sessionAuthentication(request);
    const codes = await services.secondFactor.confirmEnrolment(person, secret, proof, formString(form, 'code', 32) ?? '', { requestId: request.id });
    const retry = codes ? null : await services.secondFactor.resumeEnrolment(person, secret, proof, request.id);
    if (!codes) {
      if (!retry) return render(request, reply, person, 400, { errors: { enrol: t.t('account.security.totp.expired') } });
      return send(reply, 400, enrolmentPage(t, { csrf: csrf.tokenFor(request, reply), ...retry, error: t.t('account.enrol.mismatch') }));
    }
    // Every session ended with the change of privilege; this browser continues on a fresh one.
    await context.startSession(request, reply, person, signedIn ?? undefined);
    return send(reply, 200, recoveryCodesPage(context.texts(request), { csrf: csrf.tokenFor(request, reply), codes }));
  });

  server.post<{ Body: Form }>('/account/security/totp/disable', async (request, reply) => {
    const person = personOf(request);
    const t = context.texts(request);
    const checked = await services.reauthentication.confirmCode(person, formString(request.body ?? {}, 'code', 64) ?? '', { requestId: request.id });
    if (!checked.ok) {
      if ('retryAfterSeconds' in checked) return waited(reply, request, person, checked.retryAfterSeconds, 'disable');
      return render(request, reply, person, 400, { errors: { disable: t.t('account.security.totp.wrongDisableCode') } });
    }
    await services.secondFactor.disable(person, { requestId: request.id });
    return render(request, reply, person, 200, { notice: t.t('account.security.totp.off') });
  });
}
