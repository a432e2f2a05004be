import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { totpCodeAt } from '../../src/crypto/totp.js';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://acct.example.org';
const RETURN = `${ORIGIN}/back`;

/** The page as a person reads it: without the per-browser CSRF token. */
const readable = (page: string) => page.replace(/name="_csrf" value="[^"]+"/g, '');

describe('account security: sessions, enumeration, email flows, nickname and second factor', () => {
  let keygate: TestKeygate;
  let smtp: TestSmtpServer;
  let client: Ukey1ServerClient;

  before(async () => {
    smtp = await startSmtpServer();
    keygate = await startTestKeygate({ env: { KEYGATE_SMTP_URL: smtp.url } });
    const app = await keygate.services.apps.createApp({ name: 'Account App', origins: [ORIGIN], returnUrls: [RETURN] });
    client = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
  });
  after(async () => {
    await keygate.close();
    await smtp.close();
  });

  const people = async () => Number((await keygate.stores.zones.eu.db.selectFrom('people').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
  const gateway = async () => `/gateway/${connectIdOf((await client.connect({ request_id: 'a', scope: ['firstname'], return_url: RETURN })).body.gateway)}`;
  const codeFor = async (email: string, subject: RegExp) => {
    const mail = await smtp.waitFor((m) => m.to.includes(email) && subject.test(m.subject));
    smtp.messages.splice(smtp.messages.indexOf(mail), 1);
    return /(\d{6})/.exec(mail.subject)![1]!;
  };

  async function signUp(email: string) {
    const visitor = new GatewayVisitor(keygate.http);
    const base = await gateway();
    assert.equal((await visitor.post(`${base}/sign-up`, { ...SIGN_UP_JANA, email })).status, 200);
    const confirmed = await visitor.post(`${base}/confirm`, { code: await codeFor(email, /\d{6}/) });
    assert.equal(confirmed.status, 303);
    return { visitor, base };
  }

  async function signIn(identifier: string, password = SIGN_UP_JANA.password) {
    const visitor = new GatewayVisitor(keygate.http);
    const base = await gateway();
    const response = await visitor.post(`${base}/sign-in`, { email: identifier, password });
    return { visitor, base, response };
  }

  it('confirms a new address with an emailed code before the account can be used; a wrong code five times burns it', async () => {
    const visitor = new GatewayVisitor(keygate.http);
    const base = await gateway();
    const started = await visitor.post(`${base}/sign-up`, { ...SIGN_UP_JANA, email: 'confirm.me@example.cz' });
    assert.equal(started.status, 200);
    assert.match(started.html, /Check your email/);
    const mail = await smtp.waitFor((m) => m.to.includes('confirm.me@example.cz'));
    assert.match(mail.subject, /^Váš kód pro Keygate: \d{6}$/, 'in the language chosen at sign-up');
    const code = /(\d{6})/.exec(mail.subject)![1]!;
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) assert.equal((await visitor.post(`${base}/confirm`, { code: wrong })).status, 400);
    assert.equal((await visitor.post(`${base}/confirm`, { code })).status, 400, 'five wrong codes burn the challenge');
    // Signing in with the right password sends a fresh code.
    smtp.messages.length = 0;
    const again = await signIn('confirm.me@example.cz');
    assert.equal(again.response.status, 200);
    const fresh = await codeFor('confirm.me@example.cz', /Keygate code|kód/);
    assert.equal((await again.visitor.post(`${again.base}/confirm`, { code: fresh })).status, 303);
  });

  it('answers a sign-up with a taken address exactly like one with a new address, and tells the owner by email', async () => {
    await signUp('taken@example.cz');
    const before = await people();
    const base = await gateway();
    const forNew = await new GatewayVisitor(keygate.http).post(`${base}/sign-up`, { ...SIGN_UP_JANA, email: 'brand.new@example.cz' });
    const forTaken = await new GatewayVisitor(keygate.http).post(`${base}/sign-up`, { ...SIGN_UP_JANA, email: 'taken@example.cz' });
    assert.equal(forTaken.status, forNew.status);
    assert.equal(readable(forTaken.html), readable(forNew.html));
    assert.deepEqual(Object.keys(forTaken.headers).sort(), Object.keys(forNew.headers).sort());
    assert.equal(await people(), before + 1, 'only the new address got an account');
    await smtp.waitFor((m) => m.to.includes('taken@example.cz') && /already have|už máte/.test(m.subject));
  });

  it('answers reset and email-code requests the same for unknown and known accounts', async () => {
    await signUp('known@example.cz');
    smtp.messages.length = 0;
    const base = await gateway();
    for (const path of ['forgot', 'email-code']) {
      const known = await new GatewayVisitor(keygate.http).post(`${base}/${path}`, { email: 'known@example.cz' });
      const unknown = await new GatewayVisitor(keygate.http).post(`${base}/${path}`, { email: 'nobody@example.cz' });
      assert.equal(known.status, unknown.status, path);
      assert.equal(readable(known.html), readable(unknown.html), path);
    }
    await smtp.waitFor((m) => m.to.includes('known@example.cz') && /password|hesla/i.test(m.subject));
    assert.ok(!smtp.messages.some((m) => m.to.includes('nobody@example.cz')));
  });

  it('signs in with a one-time email code, once', async () => {
    await signUp('passwordless@example.cz');
    const visitor = new GatewayVisitor(keygate.http);
    const base = await gateway();
    assert.equal((await visitor.post(`${base}/email-code`, { email: 'Passwordless@Example.cz' })).status, 200);
    const code = await codeFor('passwordless@example.cz', /sign-in code|přihlašovací kód/);
    const signedIn = await visitor.post(`${base}/email-code/confirm`, { code });
    assert.equal(signedIn.status, 303);
    assert.match((await visitor.get(base)).html, /Allow Account App/);
    assert.equal((await new GatewayVisitor(keygate.http).post(`${base}/email-code/confirm`, { code })).status, 400, 'another browser cannot use it');
  });

  it('resets a password through a single-use link that expires in 30 minutes, and signs out every session', async () => {
    const { visitor: oldBrowser, base } = await signUp('reset.me@example.cz');
    assert.match((await oldBrowser.get(base)).html, /Allow/);
    smtp.messages.length = 0;
    await new GatewayVisitor(keygate.http).post(`${await gateway()}/forgot`, { email: 'reset.me@example.cz' });
    const mail = await smtp.waitFor((m) => m.to.includes('reset.me@example.cz') && /password|hesla/i.test(m.subject));
    const link = new URL(/(https?:\/\/\S+\/reset\/\S+)/.exec(mail.text)![1]!);
    const resetter = new GatewayVisitor(keygate.http);
    assert.equal((await resetter.get(link.pathname)).status, 200);
    const weak = await resetter.post(link.pathname, { password: 'password123' });
    assert.equal(weak.status, 400);
    assert.match(weak.html, /id="password-error"/);
    const done = await resetter.post(link.pathname, { password: 'lantern-orbit-meadow-91' });
    assert.equal(done.status, 200);
    assert.match(done.html, /Password changed/);
    assert.equal((await resetter.get(link.pathname)).status, 410, 'the link works once');
    assert.match((await oldBrowser.get(base)).html, /Sign in/, 'the session from before the reset is gone');
    assert.equal((await signIn('reset.me@example.cz')).response.status, 401, 'the old password no longer works');
    assert.equal((await signIn('reset.me@example.cz', 'lantern-orbit-meadow-91')).response.status, 303);

    smtp.messages.length = 0;
    await new GatewayVisitor(keygate.http).post(`${await gateway()}/forgot`, { email: 'reset.me@example.cz' });
    const late = new URL(/(https?:\/\/\S+\/reset\/\S+)/.exec((await smtp.waitFor((m) => m.to.includes('reset.me@example.cz') && /password|hesla/i.test(m.subject))).text)![1]!);
    keygate.clock.advance(31 * 60);
    assert.equal((await new GatewayVisitor(keygate.http).get(late.pathname)).status, 410);
  });

  it('gives a new session id at sign-in: a cookie planted before is useless after', async () => {
    await signUp('fixation@example.cz');
    const visitor = new GatewayVisitor(keygate.http);
    const base = await gateway();
    visitor.cookies.set('keygate-session', 'eu.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await visitor.get(base);
    const planted = visitor.cookies.get('keygate-session');
    assert.equal((await visitor.post(`${base}/sign-in`, { email: 'fixation@example.cz', password: SIGN_UP_JANA.password })).status, 303);
    assert.notEqual(visitor.cookies.get('keygate-session'), planted);
    const attacker = new GatewayVisitor(keygate.http);
    attacker.cookies.set('keygate-session', planted!);
    assert.match((await attacker.get(base)).html, /Sign in/);
  });

  it('ends a session after 30 idle minutes', async () => {
    const { visitor, base } = await signUp('idle@example.cz');
    keygate.clock.advance(29 * 60);
    assert.match((await visitor.get(base)).html, /Allow/);
    keygate.clock.advance(31 * 60);
    // A new request from the app: the person has to sign in again.
    assert.match((await visitor.get(await gateway())).html, /<h1>Sign in<\/h1>/);
  });

  it('changes the password from account security: other sessions end, this one continues on a new id', async () => {
    const { visitor: other, base } = await signUp('changer@example.cz');
    const me = (await signIn('changer@example.cz')).visitor;
    const page = await me.get('/account/security');
    assert.equal(page.status, 200);
    const before = me.cookies.get('keygate-session');
    const wrong = await me.post('/account/security/password', { current: 'not it', password: 'copper-harbor-violet-58' });
    assert.equal(wrong.status, 400);
    assert.match(wrong.html, /id="current-error"/);
    const changed = await me.post('/account/security/password', { current: SIGN_UP_JANA.password, password: 'copper-harbor-violet-58' });
    assert.equal(changed.status, 200);
    assert.notEqual(me.cookies.get('keygate-session'), before);
    assert.equal((await me.get('/account/security')).status, 200);
    assert.match((await other.get(base)).html, /Sign in/, 'the other browser is signed out');
  });

  it('signs in with a nickname, unique across zones and never an email look-alike', async () => {
    const { visitor } = await signUp('nick@example.cz');
    await visitor.get('/account/security');
    assert.equal((await visitor.post('/account/security/nickname', { nickname: 'Jana.N' })).status, 200);
    const usPerson = await keygate.services.people.signUp({ ...SIGN_UP_JANA, email: 'nick@example.com', country: 'US' }, {}, { emailVerified: true });
    assert.ok(usPerson.ok);
    assert.equal(await keygate.services.people.setNickname(usPerson.person, 'jana.n', {}), 'taken', 'taken in another zone');
    assert.equal(await keygate.services.people.setNickname(usPerson.person, 'jаna.n', {}), 'invalid', 'a Cyrillic look-alike is refused');
    assert.equal((await visitor.post('/account/security/nickname', { nickname: 'a' })).status, 400);
    assert.equal((await signIn('JANA.N')).response.status, 303);
    assert.equal((await signIn('jana.n', 'wrong password here')).response.status, 401);
  });

  it('finds one account for every spelling of an address, and none for a look-alike', async () => {
    await signUp('unicode@example.cz');
    for (const spelling of ['UNICODE@EXAMPLE.CZ', ' unicode@example.cz. ', 'ｕｎｉｃｏｄｅ@example.cz']) {
      assert.equal((await signIn(spelling)).response.status, 303, spelling);
    }
    assert.equal((await signIn('unicоde@example.cz')).response.status, 401, 'Cyrillic о');
    const base = await gateway();
    const before = await people();
    const again = await new GatewayVisitor(keygate.http).post(`${base}/sign-up`, { ...SIGN_UP_JANA, email: 'ＵＮＩＣＯＤＥ@example.cz' });
    assert.equal(again.status, 200);
    assert.equal(await people(), before, 'no second account for another spelling');
  });

  it('requires the second factor once enrolled: replays and wrong codes fail, a recovery code works once', async () => {
    const { visitor } = await signUp('totp@example.cz');
    await visitor.get('/account/security');
    const start = await visitor.post('/account/security/totp/start', { password: SIGN_UP_JANA.password });
    assert.equal(start.status, 200);
    assert.doesNotMatch(start.html, /style=/);
    const secret = /name="secret" value="([A-Z2-7]+)"/.exec(start.html)![1]!;
    const bad = await visitor.post('/account/security/totp/confirm', { secret, proof: /name="proof" value="([^"]+)"/.exec(start.html)![1]!, code: '000000' === totpCodeAt(secret, keygate.clock.now()) ? '111111' : '000000' });
    assert.equal(bad.status, 400);
    assert.ok(bad.html.includes(`value="${secret}"`), 'a mistyped code keeps the same secret');
    const forged = await visitor.post('/account/security/totp/confirm', { secret: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', proof: /name="proof" value="([^"]+)"/.exec(start.html)![1]!, code: totpCodeAt('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', keygate.clock.now()) });
    assert.equal(forged.status, 400, 'a secret the server did not issue is refused');
    const enrolled = await visitor.post('/account/security/totp/confirm', { secret, proof: /name="proof" value="([^"]+)"/.exec(start.html)![1]!, code: totpCodeAt(secret, keygate.clock.now()) });
    assert.equal(enrolled.status, 200);
    const codes = [...enrolled.html.matchAll(/<li><code>([a-z0-9]{5}-[a-z0-9]{5})<\/code><\/li>/g)].map((m) => m[1]!);
    assert.equal(codes.length, 10);
    const stored = await keygate.stores.zones.eu.db.selectFrom('people').select('totp_secret_ct').where('totp_secret_ct', 'is not', null).execute();
    assert.ok(stored.every((r) => !Buffer.from(r.totp_secret_ct!).toString('latin1').includes(secret)), 'the secret is sealed');

    keygate.clock.advance(60);
    const first = await signIn('totp@example.cz');
    assert.equal(first.response.status, 303);
    assert.match(first.response.location!, /\/second-factor$/);
    assert.match((await first.visitor.get(first.response.location!)).html, /Code from your authenticator app/);
    assert.match((await first.visitor.get(first.base)).html, /Sign in/, 'no session before the second step');
    assert.equal((await first.visitor.post(`${first.base}/second-factor`, { code: '123456' === totpCodeAt(secret, keygate.clock.now()) ? '654321' : '123456' })).status, 400);
    const code = totpCodeAt(secret, keygate.clock.now());
    assert.equal((await first.visitor.post(`${first.base}/second-factor`, { code })).status, 303);
    assert.match((await first.visitor.get(first.base)).html, /Allow/);

    const replay = await signIn('totp@example.cz');
    assert.equal((await replay.visitor.post(`${replay.base}/second-factor`, { code })).status, 400, 'the same step works once');
    assert.equal((await replay.visitor.post(`${replay.base}/second-factor`, { code: codes[0]!.toUpperCase() })).status, 303, 'a recovery code');
    const reuse = await signIn('totp@example.cz');
    assert.equal((await reuse.visitor.post(`${reuse.base}/second-factor`, { code: codes[0]! })).status, 400, 'a recovery code works once');
  });

  it('refuses the 11th attempt on one account even when 50 are sent at once, and emails the person', async () => {
    await signUp('parallel@example.cz');
    smtp.messages.length = 0;
    const base = await gateway();
    const browsers = await Promise.all(Array.from({ length: 50 }, async () => {
      const visitor = new GatewayVisitor(keygate.http);
      await visitor.get(base);
      return visitor;
    }));
    const statuses = await Promise.all(browsers.map((b, i) => b.post(`${base}/sign-in`, { email: 'parallel@example.cz', password: `wrong guess ${i}` }).then((r) => r.status)));
    assert.equal(statuses.filter((s) => s === 401).length, 10, 'no more guesses checked than one by one');
    assert.equal(statuses.filter((s) => s === 429).length, 40);
    const mail = await smtp.waitFor((m) => m.to.includes('parallel@example.cz'));
    assert.match(mail.subject, /pozastaveno|paused/);
  });

  it('tells the person by email about a sign-in from a browser it has not seen, not about a known one', async () => {
    const { visitor: first } = await signUp('devices@example.cz');
    smtp.messages.length = 0;
    const again = await first.post(`${await gateway()}/sign-in`, { email: 'devices@example.cz', password: SIGN_UP_JANA.password });
    assert.equal(again.status, 303);
    const elsewhere = await signIn('devices@example.cz');
    assert.equal(elsewhere.response.status, 303);
    const notice = await smtp.waitFor((m) => m.to.includes('devices@example.cz'));
    assert.match(notice.subject, /Nové přihlášení|New sign-in/);
    await keygate.mailSettled();
    assert.equal(smtp.messages.filter((m) => m.to.includes('devices@example.cz')).length, 1, 'the known browser caused no notice');
  });

  it('sends a reset request to one address only, whatever the form carries', async () => {
    await signUp('single@example.cz');
    await signUp('second@example.cz');
    smtp.messages.length = 0;
    const base = await gateway();
    const visitor = new GatewayVisitor(keygate.http);
    const response = await visitor.post(`${base}/forgot`, { email: ['single@example.cz', 'second@example.cz'] });
    assert.equal(response.status, 200);
    const injected = await visitor.post(`${base}/forgot`, { email: 'single@example.cz\r\nBcc: second@example.cz' });
    assert.equal(injected.status, 200);
    await keygate.mailSettled();
    assert.deepEqual(smtp.messages.filter((m) => /password|hesla/i.test(m.subject)), []);
  });
});
