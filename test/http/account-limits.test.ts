import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { totpCodeAt } from '../../src/crypto/totp.js';
import { GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { sleep } from '../support/services.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

/** A code that is not the right one now. */
const wrongCode = (right: string) => (right === '000000' ? '111111' : '000000');

describe('every limit on an account counts on the account, whatever identifier, challenge or sign-in', () => {
  let keygate: TestKeygate;

  before(async () => {
    keygate = await startTestKeygate();
  });
  after(() => keygate.close());

  async function confirmedAccount(email: string, nickname?: string) {
    const visitor = new GatewayVisitor(keygate.http);
    await visitor.get('/account/sign-up');
    assert.equal((await visitor.signUp('/account', { ...SIGN_UP_JANA, email }, keygate.outbox)).status, 303);
    const person = (await keygate.services.personDirectory.findByEmail(email))!;
    if (nickname) assert.equal(await keygate.services.people.setNickname(person, nickname, { requestId: 't' }), 'ok');
    return person;
  }

  /** A fresh browser (its own cookies) posting one form of the account centre's sign-in. */
  async function fresh(path: string, form: Record<string, string>) {
    const visitor = new GatewayVisitor(keygate.http);
    await visitor.get('/account/sign-in');
    return { visitor, response: await visitor.post(path, form) };
  }

  const mailsTo = async (email: string, subject: RegExp) => (await keygate.outbox.all()).filter((m) => m.to === email && subject.test(m.subject)).length;

  it('counts wrong passwords typed with the email and with the nickname on one account', async () => {
    await confirmedAccount('two.names@example.cz', 'twonames');
    for (let i = 0; i < 10; i++) {
      const identifier = i % 2 === 0 ? 'two.names@example.cz' : 'twonames';
      assert.equal((await fresh('/account/sign-in', { email: identifier, password: `wrong ${i}` })).response.status, 401, `attempt ${i + 1}`);
    }
    const eleventh = await fresh('/account/sign-in', { email: 'twonames', password: SIGN_UP_JANA.password });
    assert.equal(eleventh.response.status, 429, 'the eleventh attempt waits, whichever identifier it uses');
  });

  it('counts wrong second-factor codes on the account across sign-ins: a right password reopens nothing, and the person is told', async () => {
    const person = await confirmedAccount('second.factor@example.cz');
    const enrolment = await keygate.services.secondFactor.beginEnrolment(person, 't');
    await keygate.services.secondFactor.confirmEnrolment(person, enrolment.secret, enrolment.proof, totpCodeAt(enrolment.secret, keygate.clock.now()), { requestId: 't' });
    keygate.clock.advance(30);
    const refusals: number[] = [];
    // Each sign-in: the right password, then wrong codes until the step is burnt or refused.
    for (let signIn = 0; signIn < 4 && !refusals.includes(429); signIn++) {
      const { visitor, response } = await fresh('/account/sign-in', { email: 'second.factor@example.cz', password: SIGN_UP_JANA.password });
      if (response.status === 429) {
        refusals.push(429);
        break;
      }
      assert.match(response.location!, /second-factor$/);
      for (let guess = 0; guess < 5; guess++) {
        const answer = await visitor.post('/account/second-factor', { code: wrongCode(totpCodeAt(enrolment.secret, keygate.clock.now())) });
        refusals.push(answer.status);
        if (answer.status === 429) break;
      }
    }
    assert.ok(refusals.includes(429), `wrong codes are limited across sign-ins (${refusals.join(' ')})`);
    assert.ok(refusals.filter((s) => s === 400).length <= 9, 'at most ten attempts a minute in all, the passwords included');
    await keygate.mailSettled();
    assert.ok(await mailsTo('second.factor@example.cz', /paused|pozastaveno/) >= 1, 'the person is told that sign-in is paused');
  });

  it('counts wrong confirmation codes on the account across sign-ins, and keeps its mail within the budget', async () => {
    await keygate.services.accounts.beginSignUp({ ...SIGN_UP_JANA, email: 'unconfirmed@example.cz' }, { requestId: 't' });
    await keygate.mailSettled();
    const statuses: number[] = [];
    for (let signIn = 0; signIn < 8 && !statuses.includes(429); signIn++) {
      const { visitor, response } = await fresh('/account/sign-in', { email: 'unconfirmed@example.cz', password: SIGN_UP_JANA.password });
      if (response.status === 429) {
        statuses.push(429);
        break;
      }
      assert.match(response.html, /Check your email/);
      for (let guess = 0; guess < 2; guess++) statuses.push((await visitor.post('/account/confirm', { code: '000000' })).status);
    }
    assert.ok(statuses.includes(429), `wrong codes are limited across sign-ins (${statuses.join(' ')})`);
    await keygate.mailSettled();
    await sleep(100);
    assert.ok(await mailsTo('unconfirmed@example.cz', /\d{6}/) <= 5, 'no more than five mails to the account in fifteen minutes');
  });

  it('keeps one account\'s mail within its budget, asked through its email and its nickname', async () => {
    await confirmedAccount('mail.budget@example.cz', 'mailbudget');
    const before = await mailsTo('mail.budget@example.cz', /\d{6}/);
    for (let i = 0; i < 8; i++) {
      const { response } = await fresh('/account/email-code', { email: i % 2 === 0 ? 'mail.budget@example.cz' : 'mailbudget' });
      assert.equal(response.status, 200, 'the same answer every time');
    }
    await keygate.mailSettled();
    await sleep(100);
    const sent = (await mailsTo('mail.budget@example.cz', /\d{6}/)) - before;
    assert.equal(sent, 4, 'the sign-up code and four of these fill the budget of five');
  });

  it('limits how many nicknames one account may try, so "taken" cannot map who holds which', async () => {
    await confirmedAccount('nickname.holder@example.cz', 'holder');
    const visitor = new GatewayVisitor(keygate.http);
    await visitor.get('/account/sign-up');
    assert.equal((await visitor.signUp('/account', { ...SIGN_UP_JANA, email: 'nickname.prober@example.cz' }, keygate.outbox)).status, 303);
    await visitor.get('/account/security');
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await visitor.post('/account/security/nickname', { nickname: i === 11 ? 'free-at-last' : i % 2 === 0 ? 'holder' : `probe${i}` })).status);
    assert.deepEqual(statuses.slice(0, 10).filter((s) => s === 429), [], 'ten tries go through');
    assert.deepEqual(statuses.slice(10), [429, 429], 'then the form waits');
    const prober = (await keygate.services.personDirectory.findByEmail('nickname.prober@example.cz'))!;
    assert.equal(await keygate.services.profiles.nicknameOf(prober), 'probe9', 'the last nickname taken before the limit');
    assert.equal((await visitor.post('/account/security/nickname', { nickname: '' })).status, 200, 'removing one is never limited');
  });
});
