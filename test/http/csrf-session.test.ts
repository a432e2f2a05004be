import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

const CSRF_COOKIE = 'keygate-csrf';

describe('a form token is good only for the session it was made for', () => {
  let keygate: TestKeygate;

  before(async () => {
    keygate = await startTestKeygate();
    const owner = new GatewayVisitor(keygate.http);
    await owner.get('/account/sign-up');
    assert.equal((await owner.signUp('/account', SIGN_UP_JANA, keygate.outbox)).status, 303);
  });
  after(() => keygate.close());

  /** Someone who can plant cookies in the victim's browser (plain HTTP) first gets a secret and its token for themselves. */
  async function attackerSecret() {
    const attacker = new GatewayVisitor(keygate.http);
    await attacker.get('/account/sign-in');
    return { secret: attacker.cookies.get(CSRF_COOKIE)!, token: attacker.csrf! };
  }

  async function signedInWithPlantedSecret(secret: string) {
    const victim = new GatewayVisitor(keygate.http);
    victim.cookies.set(CSRF_COOKIE, secret);
    await victim.get('/account/sign-in');
    const signedIn = await victim.post('/account/sign-in', { email: SIGN_UP_JANA.email, password: SIGN_UP_JANA.password });
    assert.equal(signedIn.status, 303);
    return victim;
  }

  it('gives the browser a new form secret when it signs in, so a planted one is worth nothing after', async () => {
    const { secret } = await attackerSecret();
    const victim = await signedInWithPlantedSecret(secret);
    assert.ok(victim.cookies.get(CSRF_COOKIE), 'a secret is set');
    assert.notEqual(victim.cookies.get(CSRF_COOKIE), secret);
  });

  it('refuses a signed-in session a form whose token was made without it, even with the secret planted again', async () => {
    const { secret, token } = await attackerSecret();
    const victim = await signedInWithPlantedSecret(secret);
    victim.cookies.set(CSRF_COOKIE, secret);
    const forged = await victim.post('/account/security/nickname', { nickname: 'planted', _csrf: token });
    assert.equal(forged.status, 403);
    assert.match(forged.html, /This form has expired/);
    const person = (await keygate.services.personDirectory.findByEmail(SIGN_UP_JANA.email))!;
    assert.equal(await keygate.services.profiles.nicknameOf(person), null, 'nothing changed');

    // The person's own form, from a page of their session, still works with that secret.
    await victim.get('/account/security');
    assert.equal((await victim.post('/account/security/nickname', { nickname: 'jana' })).status, 200);
    assert.equal(await keygate.services.profiles.nicknameOf(person), 'jana');
    assert.equal((await victim.post('/account/security/nickname', { nickname: '' })).status, 200);
  });

  it('refuses a token made for another session of the same person', async () => {
    const first = await signedInWithPlantedSecret((await attackerSecret()).secret);
    const second = await signedInWithPlantedSecret((await attackerSecret()).secret);
    await first.get('/account/security');
    await second.get('/account/security');
    second.cookies.set(CSRF_COOKIE, first.cookies.get(CSRF_COOKIE)!);
    const crossed = await second.post('/account/security/nickname', { nickname: 'crossed', _csrf: first.csrf! });
    assert.equal(crossed.status, 403);
  });
});
