import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { totpCodeAt } from '../../src/crypto/totp.js';
import { GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

const sessionCookie = (visitor: GatewayVisitor) => visitor.cookies.get('keygate-session');

describe('a sign-in is a flow of methods, and the session records when and how it completed', () => {
  let keygate: TestKeygate;

  before(async () => {
    keygate = await startTestKeygate();
  });
  after(() => keygate.close());

  /** What the store kept of the visitor's session: its sign-in time and methods. */
  async function recorded(visitor: GatewayVisitor) {
    const token = sessionCookie(visitor);
    assert.ok(token, 'a session was started');
    const idHash = createHash('sha256').update(token, 'utf8').digest();
    return keygate.stores.zones.eu.db.selectFrom('sessions').select(['auth_time', 'amr']).where('id_hash', '=', idHash).executeTakeFirstOrThrow();
  }

  async function account(email: string) {
    const visitor = new GatewayVisitor(keygate.http);
    await visitor.get('/account/sign-up');
    assert.equal((await visitor.signUp('/account', { ...SIGN_UP_JANA, email }, keygate.outbox)).status, 303);
    return { visitor, person: (await keygate.services.personDirectory.findByEmail(email))! };
  }

  async function passwordSignIn(base: string, email: string) {
    const visitor = new GatewayVisitor(keygate.http);
    await visitor.get(`${base}/sign-in`);
    const response = await visitor.post(`${base}/sign-in`, { email, password: SIGN_UP_JANA.password });
    return { visitor, response };
  }

  async function enrolSecondFactor(email: string) {
    const { person } = await account(email);
    const enrolment = await keygate.services.secondFactor.beginEnrolment(person, 't');
    await keygate.services.secondFactor.confirmEnrolment(person, enrolment.secret, enrolment.proof, totpCodeAt(enrolment.secret, keygate.clock.now()), { requestId: 't' });
    keygate.clock.advance(30);
    return enrolment.secret;
  }

  it('records a password sign-in as pwd, at the time it completed, and keeps no flow', async () => {
    await account('pwd@example.cz');
    const before = keygate.clock.now().getTime();
    const { visitor, response } = await passwordSignIn('/account', 'pwd@example.cz');
    assert.equal(response.status, 303);
    const session = await recorded(visitor);
    assert.deepEqual(session.amr, ['pwd']);
    assert.ok(Math.abs(session.auth_time.getTime() - before) < 5_000);
    assert.equal(visitor.cookies.has('keygate-sign-in'), false, 'a completed sign-in leaves no flow in the browser');
  });

  it('records a confirmed sign-up as otp: the emailed code is what was proved', async () => {
    const { visitor } = await account('signup.amr@example.cz');
    assert.deepEqual((await recorded(visitor)).amr, ['otp']);
  });

  it('records a password and a second factor as pwd, otp and mfa', async () => {
    const secret = await enrolSecondFactor('mfa@example.cz');
    const { visitor, response } = await passwordSignIn('/account', 'mfa@example.cz');
    assert.match(response.location!, /\/account\/second-factor$/);
    assert.equal(sessionCookie(visitor), undefined, 'no session before the second factor');
    assert.equal((await visitor.post('/account/second-factor', { code: totpCodeAt(secret, keygate.clock.now()) })).status, 303);
    assert.deepEqual((await recorded(visitor)).amr, ['pwd', 'otp', 'mfa']);
  });

  it('records a sign-in with an emailed code as otp', async () => {
    await account('code.amr@example.cz');
    const visitor = new GatewayVisitor(keygate.http);
    await visitor.get('/account/email-code');
    assert.equal((await visitor.post('/account/email-code', { email: 'code.amr@example.cz' })).status, 200);
    await keygate.mailSettled();
    assert.equal((await visitor.post('/account/email-code/confirm', { code: await keygate.outbox.code('code.amr@example.cz') })).status, 303);
    assert.deepEqual((await recorded(visitor)).amr, ['otp']);
  });

  it('finishes a sign-in only on the surface that started it: a second factor pending for the dashboard does not sign in to the account centre', async () => {
    const secret = await enrolSecondFactor('surface@example.cz');
    const { visitor, response } = await passwordSignIn('/dashboard', 'surface@example.cz');
    assert.match(response.location!, /\/dashboard\/second-factor$/);
    await visitor.get('/account/sign-in');
    const elsewhere = await visitor.post('/account/second-factor', { code: totpCodeAt(secret, keygate.clock.now()) });
    assert.equal(elsewhere.status, 400);
    assert.match(elsewhere.html, /took too long/);
    assert.equal(sessionCookie(visitor), undefined);
    await visitor.get('/dashboard/second-factor');
    assert.equal((await visitor.post('/dashboard/second-factor', { code: totpCodeAt(secret, keygate.clock.now()) })).status, 303);
    assert.deepEqual((await recorded(visitor)).amr, ['pwd', 'otp', 'mfa']);
  });

  it('keeps the sign-in time and methods when the session is renewed after a password change', async () => {
    const { visitor } = await passwordSignIn('/account', 'pwd@example.cz');
    const signedIn = await recorded(visitor);
    keygate.clock.advance(60);
    await visitor.get('/account/security');
    const changed = await visitor.post('/account/security/password', { current: SIGN_UP_JANA.password, password: 'another long passphrase here' });
    assert.ok(changed.status < 400, `password changed (${changed.status})`);
    const renewed = await recorded(visitor);
    assert.deepEqual(renewed.amr, signedIn.amr);
    assert.equal(renewed.auth_time.getTime(), signedIn.auth_time.getTime());
  });
});
