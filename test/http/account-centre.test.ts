import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decryptField } from '../../src/crypto/field-cipher.js';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://centre.example.org';
const RETURN = `${ORIGIN}/back`;

describe('the account centre', () => {
  let keygate: TestKeygate;
  let client: Ukey1ServerClient;
  let other: Ukey1ServerClient;

  before(async () => {
    keygate = await startTestKeygate();
    const app = await keygate.services.apps.createApp({ name: 'Centre Shop', origins: [ORIGIN], returnUrls: [RETURN] });
    client = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
    const second = await keygate.services.apps.createApp({ name: 'Other Shop', origins: [ORIGIN], returnUrls: [RETURN] });
    other = new Ukey1ServerClient(keygate.http, second.appId, second.secretKey, ORIGIN);
  });
  after(() => keygate.close());

  /** Signs a new person up through `app`, grants `fields`, and returns their browser and the app's token. */
  async function connected(email: string, fields = ['firstname', 'email', 'country'], app = client, visitor = new GatewayVisitor(keygate.http)) {
    const connect = await app.connect({ request_id: email, scope: fields, return_url: RETURN });
    const base = `/gateway/${connectIdOf(connect.body.gateway)}`;
    if (!(await visitor.get(base)).html.includes('Allow')) assert.equal((await visitor.signUp(base, { ...SIGN_UP_JANA, email }, keygate.outbox)).status, 303);
    const allowed = await visitor.post(`${base}/consent`, { decision: 'allow', fields });
    const code = new URL(allowed.location!).searchParams.get('_ukey1[code]')!;
    const token = await app.token({ request_id: email, connect_id: connect.body.connect_id, auth_code: code });
    return { visitor, token: token.body.access_token as string };
  }

  it('shows and edits the profile; bad values are refused next to the field and nothing changes', async () => {
    const { visitor } = await connected('profile@example.cz');
    const page = await visitor.get('/account/profile');
    assert.equal(page.status, 200);
    assert.match(page.html, /profile@example\.cz/);
    assert.match(page.html, /value="Nováková"/);
    const refused = await visitor.post('/account/profile', { firstname: '<b>Jana</b>', surname: 'Nováková', language: 'cs' });
    assert.equal(refused.status, 400);
    assert.match(refused.html, /id="firstname-error"/);
    assert.match((await visitor.get('/account/profile')).html, /value="Jana"/);
    const saved = await visitor.post('/account/profile', { firstname: 'Johana', surname: 'Nováková', language: 'en' });
    assert.equal(saved.status, 200);
    assert.match(saved.html, /value="Johana"/);
  });

  it('speaks the language saved in the profile at once, from the page that saved it on', async () => {
    const { visitor } = await connected('speaker@example.cz');
    assert.match((await visitor.get('/account/profile')).html, /<html lang="en"/);
    const saved = await visitor.post('/account/profile', { firstname: 'Jana', surname: 'Nováková', language: 'de' });
    assert.equal(saved.status, 200);
    assert.match(saved.html, /<html lang="de"/);
    assert.match(saved.html, /Gespeichert\./);
    const next = await visitor.get('/account/sessions');
    assert.match(next.html, /<html lang="de"/);
    assert.match(next.html, /<h1>Wo Sie angemeldet sind<\/h1>/);
    // A language Keygate does not speak is saved, and the pages keep theirs.
    assert.equal((await visitor.post('/account/profile', { firstname: 'Jana', surname: 'Nováková', language: 'fr' })).status, 200);
    assert.match((await visitor.get('/account/profile')).html, /<html lang="de"/);
  });

  it('revokes one field or a whole app, and the next /me call shows it at once', async () => {
    const { visitor, token } = await connected('revoker@example.cz');
    assert.equal((await client.me(token)).body.user.email, 'revoker@example.cz');
    const appId = client.appId;
    const page = await visitor.get('/account/apps');
    assert.match(page.html, /Centre Shop/);
    // The proof of the decision, with the address it came from (sealed in the store).
    assert.match(page.html, /<strong>Centre Shop<\/strong> allowed: asked for First name, Email, Country; you granted First name, Email, Country <span class="fine">from 127\.0\.0\.1<\/span>/);
    const sealed = await keygate.stores.zones.eu.db.selectFrom('consent_records').select('ip_ct').where('ip_ct', 'is not', null).execute();
    assert.ok(sealed.length > 0 && sealed.every((r) => !Buffer.from(r.ip_ct!).toString('latin1').includes('127.0.0.1')));
    assert.equal((await visitor.post('/account/apps/revoke-field', { app: appId, field: 'email' })).status, 200);
    const me = await client.me(token);
    assert.equal(me.status, 200);
    assert.equal(me.body.user.email, null);
    assert.equal(me.body.user.firstname, 'Jana');
    assert.equal((await visitor.post('/account/apps/revoke', { app: appId })).status, 200);
    assert.equal((await client.me(token)).status, 401);
  });

  it('refuses to revoke a grant that is not yours, and changes nothing', async () => {
    const victim = await connected('victim.grant@example.cz');
    const { visitor: intruder } = await connected('intruder.grant@example.cz', ['firstname'], other);
    assert.equal((await intruder.post('/account/apps/revoke', { app: client.appId })).status, 404);
    assert.equal((await intruder.post('/account/apps/revoke-field', { app: client.appId, field: 'email' })).status, 404);
    assert.equal((await intruder.post('/account/apps/revoke', { app: 'not-a-uuid' })).status, 404);
    assert.equal((await client.me(victim.token)).body.user.email, 'victim.grant@example.cz');
  });

  it('shows who read which field when, filterable by app', async () => {
    const { visitor, token } = await connected('reader@example.cz');
    await client.me(token);
    const { token: otherToken } = await connected('reader@example.cz', ['firstname'], other, visitor);
    await other.me(otherToken);
    const all = await visitor.get('/account/activity');
    assert.match(all.html, /<strong>Centre Shop<\/strong> read <em>Email<\/em>/);
    assert.match(all.html, /<strong>Other Shop<\/strong> read <em>First name<\/em>/);
    const filtered = await visitor.get(`/account/activity?app=${other.appId}`);
    assert.doesNotMatch(filtered.html, /<strong>Centre Shop<\/strong> read/);
    assert.match(filtered.html, /<strong>Other Shop<\/strong> read/);
    await visitor.post('/account/sign-out', {});
    const person = (await keygate.services.personDirectory.findByEmail('reader@example.cz'))!;
    const signedOut = await keygate.stores.zones.eu.db.selectFrom('audit_events').select('action')
      .where('person_id', '=', person.id).where('action', '=', 'person.signed_out').execute();
    assert.equal(signedOut.length, 1, 'signing out is recorded');
  });

  it('lists sessions and signs out another browser, never someone else\'s', async () => {
    const { visitor: phone } = await connected('sessions@example.cz');
    const laptop = new GatewayVisitor(keygate.http);
    const base = `/gateway/${connectIdOf((await client.connect({ request_id: 's', scope: [], return_url: RETURN })).body.gateway)}`;
    assert.equal((await laptop.post(`${base}/sign-in`, { email: 'sessions@example.cz', password: SIGN_UP_JANA.password })).status, 303);
    const list = await laptop.get('/account/sessions');
    assert.match(list.html, /This browser<\/strong> <span class="fine">\(from this computer\)<\/span>/);
    // The browser and network are kept sealed: the store holds no readable trace of them.
    const sealed = await keygate.stores.zones.eu.db.selectFrom('sessions').select(['network_ct']).where('network_ct', 'is not', null).execute();
    assert.ok(sealed.length > 0 && sealed.every((r) => !Buffer.from(r.network_ct!).toString('latin1').includes('computer')));
    const otherId = /name="session" value="([0-9a-f]{64})"/.exec(list.html)![1]!;
    const { visitor: stranger } = await connected('stranger.sessions@example.cz', ['firstname'], other);
    await stranger.get('/account/sessions');
    await stranger.post('/account/sessions/end', { session: otherId });
    assert.equal((await phone.get('/account/profile')).status, 200, 'a stranger cannot end my session');
    assert.equal((await laptop.post('/account/sessions/end', { session: otherId })).status, 200);
    assert.equal((await phone.get('/account/profile')).status, 303, 'the phone is signed out');
    assert.equal((await laptop.get('/account/profile')).status, 200);
  });

  it('exports everything held about the person after the password is given again', async () => {
    const { visitor, token } = await connected('exporter@example.cz');
    await client.me(token);
    await visitor.get('/account/data');
    const refused = await visitor.post('/account/export', { password: 'not my password' });
    assert.equal(refused.status, 403);
    const exported = await visitor.post('/account/export', { password: SIGN_UP_JANA.password });
    assert.equal(exported.status, 200);
    assert.match(String(exported.headers['content-disposition']), /attachment/);
    const data = JSON.parse(exported.html);
    assert.equal(data.profile.email, 'exporter@example.cz');
    assert.equal(data.zone, 'eu');
    assert.equal(data.consents[0].decision, 'allowed');
    assert.deepEqual(data.grants[0].fields, ['firstname', 'email', 'country']);
    assert.ok(data.audit.some((r: { action: string; field: string }) => r.action === 'field.read' && r.field === 'email'));
    assert.ok(data.sessions.length >= 1);
  });

  it('erases the account: the data key is destroyed, every row goes, apps lose access, sign-in knows nobody', async () => {
    const { visitor, token } = await connected('erase.me@example.cz');
    const db = keygate.stores.zones.eu.db;
    const person = (await keygate.services.personDirectory.findByEmail('erase.me@example.cz'))!;
    const sealed = await db.selectFrom('people').select(['email_ct']).where('id', '=', person.id).executeTakeFirstOrThrow();
    await visitor.get('/account/data');
    assert.equal((await visitor.post('/account/delete', { password: SIGN_UP_JANA.password, confirm: 'delete' })).status, 400);
    assert.equal((await visitor.post('/account/delete', { password: 'wrong password', confirm: 'DELETE' })).status, 403);
    assert.ok(await keygate.services.personDirectory.findByEmail('erase.me@example.cz'), 'nothing changed yet');
    const erased = await visitor.post('/account/delete', { password: SIGN_UP_JANA.password, confirm: 'DELETE' });
    assert.equal(erased.status, 200);

    assert.equal((await db.selectFrom('people').select('id').where('id', '=', person.id).execute()).length, 0);
    for (const table of ['person_keys', 'grants', 'app_users', 'consent_records', 'access_tokens', 'sessions'] as const) {
      const rows = await db.selectFrom(table).select('person_id').where('person_id', '=', person.id).execute();
      assert.equal(rows.length, 0, `${table} still holds the person`);
    }
    // No remaining data key opens the old ciphertext.
    const keys = await db.selectFrom('person_keys').select(['person_id', 'master_key_id', 'wrapped_key']).execute();
    const zone = keygate.zones.get('eu');
    for (const key of keys) {
      const dataKey = zone.ring.open(key.master_key_id, { table: 'person_keys', column: 'wrapped_key', rowId: key.person_id }, key.wrapped_key);
      assert.throws(() => decryptField(dataKey, { table: 'people', column: 'email_ct', rowId: person.id }, sealed.email_ct));
    }
    assert.equal((await client.me(token)).status, 401, 'the app lost access');
    const signIn = new GatewayVisitor(keygate.http);
    const base = `/gateway/${connectIdOf((await client.connect({ request_id: 'e', scope: [], return_url: RETURN })).body.gateway)}`;
    assert.equal((await signIn.post(`${base}/sign-in`, { email: 'erase.me@example.cz', password: SIGN_UP_JANA.password })).status, 401);
    assert.equal((await visitor.get('/account/profile')).status, 303, 'the session ended');
    const records = await db.selectFrom('audit_events').select('action').where('person_id', '=', person.id).execute();
    assert.ok(records.some((r) => r.action === 'person.erased'));
  });

  it('changes the email after a code sent to the new address; the old address is told and signs in no more', async () => {
    const { visitor, token } = await connected('old.address@example.cz');
    await visitor.get('/account/profile');
    const started = await visitor.post('/account/email', { email: 'New.Address@Example.cz', password: SIGN_UP_JANA.password });
    assert.equal(started.status, 200);
    assert.match(started.html, /We sent a six-digit code to <strong>new\.address@example\.cz<\/strong>/);
    const code = await keygate.outbox.code('new.address@example.cz');
    const wrong = await visitor.post('/account/email/confirm', { token: /name="token" value="([^"]+)"/.exec(started.html)![1]!, email: 'new.address@example.cz', code: code === '000000' ? '111111' : '000000' });
    assert.equal(wrong.status, 400);
    assert.equal((await client.me(token)).body.user.email, 'old.address@example.cz', 'nothing changes before the code');
    const confirmed = await visitor.post('/account/email/confirm', { token: /name="token" value="([^"]+)"/.exec(wrong.html)![1]!, email: 'new.address@example.cz', code });
    assert.equal(confirmed.status, 200);
    assert.match(confirmed.html, /Your sign-in email is now new\.address@example\.cz/);
    assert.equal((await client.me(token)).body.user.email, 'new.address@example.cz', 'apps read the new address at once');
    // Jana chose Czech: the notices are in Czech.
    const notice = await keygate.outbox.next('old.address@example.cz', (m) => /byl změněn/.test(m.subject));
    assert.match(notice.text, /Touto adresou se už přihlásit nelze/);
    assert.equal(await keygate.services.personDirectory.findByEmail('old.address@example.cz'), null);
    assert.ok(await keygate.services.personDirectory.findByEmail('new.address@example.cz'));
    const person = (await keygate.services.personDirectory.findByEmail('new.address@example.cz'))!;
    const changed = await keygate.stores.zones.eu.db.selectFrom('audit_events').select('field')
      .where('person_id', '=', person.id).where('action', '=', 'person.field_changed').execute();
    assert.deepEqual(changed.map((c) => c.field), ['email']);
    // The code works once.
    assert.equal((await visitor.post('/account/email/confirm', { token: /name="token" value="([^"]+)"/.exec(wrong.html)![1]!, email: 'x@example.cz', code })).status, 400);
  });

  it('answers a taken address like a free one, tells its owner, and changes nothing', async () => {
    await connected('owner.taken@example.cz');
    const { visitor } = await connected('wants.taken@example.cz');
    await visitor.get('/account/profile');
    const started = await visitor.post('/account/email', { email: 'owner.taken@example.cz', password: SIGN_UP_JANA.password });
    assert.equal(started.status, 200);
    assert.match(started.html, /We sent a six-digit code to <strong>owner\.taken@example\.cz<\/strong>/);
    const notice = await keygate.outbox.next('owner.taken@example.cz', (m) => /už účet Keygate existuje/.test(m.subject));
    assert.doesNotMatch(notice.subject, /\d{6}/, 'no code goes to an address that has an account');
    const guessed = await visitor.post('/account/email/confirm', { token: /name="token" value="([^"]+)"/.exec(started.html)![1]!, email: 'owner.taken@example.cz', code: '123456' });
    assert.equal(guessed.status, 400);
    assert.ok(await keygate.services.personDirectory.findByEmail('wants.taken@example.cz'));
  });

  it('refuses a bad address, the same address, a wrong password and someone else\'s code', async () => {
    const { visitor } = await connected('careful@example.cz');
    const { visitor: other } = await connected('other.careful@example.cz');
    await visitor.get('/account/profile');
    await other.get('/account/profile');
    assert.equal((await visitor.post('/account/email', { email: 'not an address', password: SIGN_UP_JANA.password })).status, 400);
    assert.equal((await visitor.post('/account/email', { email: 'careful@example.cz', password: SIGN_UP_JANA.password })).status, 400);
    assert.equal((await visitor.post('/account/email', { email: 'fresh.careful@example.cz', password: 'not my password' })).status, 403);
    assert.equal((await visitor.post('/account/email', { email: ['a@example.cz', 'b@example.cz'], password: SIGN_UP_JANA.password })).status, 400);
    const started = await visitor.post('/account/email', { email: 'fresh.careful@example.cz', password: SIGN_UP_JANA.password });
    const code = await keygate.outbox.code('fresh.careful@example.cz');
    const stolen = await other.post('/account/email/confirm', { token: /name="token" value="([^"]+)"/.exec(started.html)![1]!, email: 'fresh.careful@example.cz', code });
    assert.equal(stolen.status, 400, 'a challenge is never used for another person');
    assert.ok(await keygate.services.personDirectory.findByEmail('other.careful@example.cz'));
    assert.equal(await keygate.services.personDirectory.findByEmail('fresh.careful@example.cz'), null);
  });
});
