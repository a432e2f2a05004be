import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { totpCodeAt } from '../../src/crypto/totp.js';
import { GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

const wrongCode = (right: string) => (right === '000000' ? '111111' : '000000');
const secretOf = (page: string) => /name="secret" value="([A-Z2-7]+)"/.exec(page)?.[1];
const proofOf = (page: string) => /name="proof" value="([^"]+)"/.exec(page)?.[1];

describe('a session alone cannot set up, replace or guess its way past the second factor', () => {
  let keygate: TestKeygate;

  before(async () => {
    keygate = await startTestKeygate();
  });
  after(() => keygate.close());

  async function signedUp(email: string) {
    const visitor = new GatewayVisitor(keygate.http);
    await visitor.get('/account/sign-up');
    assert.equal((await visitor.signUp('/account', { ...SIGN_UP_JANA, email }, keygate.outbox)).status, 303);
    await visitor.get('/account/security');
    return { visitor, person: (await keygate.services.personDirectory.findByEmail(email))! };
  }

  async function signedIn(email: string) {
    const visitor = new GatewayVisitor(keygate.http);
    await visitor.get('/account/sign-in');
    assert.equal((await visitor.post('/account/sign-in', { email, password: SIGN_UP_JANA.password })).status, 303);
    return visitor;
  }

  /** Sets up the authenticator app as the person does; returns its secret. */
  async function enrol(visitor: GatewayVisitor, form: Record<string, string>) {
    const start = await visitor.post('/account/security/totp/start', form);
    assert.equal(start.status, 200, 'the set-up page');
    const secret = secretOf(start.html)!;
    const done = await visitor.post('/account/security/totp/confirm', { secret, proof: proofOf(start.html)!, code: totpCodeAt(secret, keygate.clock.now()) });
    assert.equal(done.status, 200);
    keygate.clock.advance(30);
    return secret;
  }

  const secondFactorOn = async (email: string) =>
    (await keygate.services.personDirectory.accountState((await keygate.services.personDirectory.findByEmail(email))!))!.secondFactor;

  it('asks for the password before setting up an authenticator app', async () => {
    const { visitor } = await signedUp('enrol.password@example.cz');
    for (const form of [{}, { password: "not my password" }] as Array<Record<string, string>>) {
      const refused = await visitor.post('/account/security/totp/start', form);
      assert.equal(refused.status, 400);
      assert.equal(secretOf(refused.html), undefined, 'no secret is handed out');
      assert.match(refused.html, /password is not right/);
    }
    await enrol(visitor, { password: SIGN_UP_JANA.password });
    assert.equal(await secondFactorOn('enrol.password@example.cz'), true);
  });

  it('never hands out a set-up from a forged or expired proof', async () => {
    const { visitor } = await signedUp('enrol.proof@example.cz');
    const forged = await visitor.post('/account/security/totp/confirm', { secret: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', proof: '1.x', code: '123456' });
    assert.equal(forged.status, 400);
    assert.equal(proofOf(forged.html), undefined, 'no fresh proof for a session that gave no password');
    assert.match(forged.html, /Start again/);
  });

  it('asks for the password and a current code before replacing a factor that is on', async () => {
    const { visitor } = await signedUp('enrol.replace@example.cz');
    const first = await enrol(visitor, { password: SIGN_UP_JANA.password });
    await visitor.get('/account/security');
    const attempts: Array<Record<string, string>> = [{ password: SIGN_UP_JANA.password }, { password: SIGN_UP_JANA.password, code: wrongCode(totpCodeAt(first, keygate.clock.now())) }, { password: "wrong password", code: totpCodeAt(first, keygate.clock.now()) }];
    for (const form of attempts) {
      const refused = await visitor.post('/account/security/totp/start', form);
      assert.equal(refused.status, 400, JSON.stringify(form));
      assert.equal(secretOf(refused.html), undefined);
    }
    const second = await enrol(visitor, { password: SIGN_UP_JANA.password, code: totpCodeAt(first, keygate.clock.now()) });
    assert.notEqual(second, first);
  });

  it('ends every other session when a factor is set up, and mails a link that lets the owner undo it', async () => {
    const email = 'enrol.undo@example.cz';
    const { visitor: thief, person } = await signedUp(email);
    const owner = await signedIn(email);
    assert.equal((await owner.get('/account/security')).status, 200);
    await enrol(thief, { password: SIGN_UP_JANA.password });
    assert.notEqual((await owner.get('/account/security')).status, 200, 'the other browser is signed out');
    assert.equal((await thief.get('/account/security')).status, 200, 'the browser that set it up continues');

    const link = new URL(await keygate.outbox.link(email, '/second-factor/undo/'));
    assert.equal(link.origin, 'http://localhost:8080');
    const asked = await owner.get(link.pathname);
    assert.equal(asked.status, 200);
    assert.equal(await secondFactorOn(email), true, 'opening the link changes nothing');
    const undone = await owner.post(link.pathname, {});
    assert.equal(undone.status, 200);
    assert.match(undone.html, /Second factor removed/);
    assert.equal(await secondFactorOn(email), false);
    assert.notEqual((await thief.get('/account/security')).status, 200, 'every session ended');
    const trail = await keygate.stores.zones.eu.db.selectFrom('audit_events').select('action').where('person_id', '=', person.id).execute();
    assert.ok(trail.some((r) => r.action === 'second_factor.removed_by_mailed_link'));
    assert.equal((await owner.get(link.pathname)).status, 410, 'the link works once');
    const another = new GatewayVisitor(keygate.http);
    await another.get('/account/sign-in');
    assert.equal((await another.post(link.pathname, {})).status, 410);
  });

  it('counts wrong codes when turning the factor off in the sign-in limiter of the account', async () => {
    const { visitor } = await signedUp('disable.limit@example.cz');
    const secret = await enrol(visitor, { password: SIGN_UP_JANA.password });
    await visitor.get('/account/security');
    for (let i = 0; i < 10; i++) {
      const wrong = await visitor.post('/account/security/totp/disable', { code: wrongCode(totpCodeAt(secret, keygate.clock.now())) });
      assert.equal(wrong.status, 400, `attempt ${i + 1}`);
    }
    const right = await visitor.post('/account/security/totp/disable', { code: totpCodeAt(secret, keygate.clock.now()) });
    assert.equal(right.status, 429, 'the eleventh waits, even with the right code');
    assert.ok(Number(right.headers['retry-after']) > 0);
    assert.equal(await secondFactorOn('disable.limit@example.cz'), true);
    assert.match(right.html, /Too many attempts/);
  });

  it('counts guesses at the current password on the account when changing it', async () => {
    const { visitor } = await signedUp('change.limit@example.cz');
    for (let i = 0; i < 10; i++) {
      assert.equal((await visitor.post('/account/security/password', { current: `guess ${i}`, password: 'another long passphrase here' })).status, 400, `attempt ${i + 1}`);
    }
    const right = await visitor.post('/account/security/password', { current: SIGN_UP_JANA.password, password: 'another long passphrase here' });
    assert.equal(right.status, 429);
    assert.equal(await keygate.services.passwords.checkPassword((await keygate.services.personDirectory.findByEmail('change.limit@example.cz'))!, SIGN_UP_JANA.password), true, 'unchanged');
  });
});
