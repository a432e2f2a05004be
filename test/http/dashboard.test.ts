import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { createApp, developer as signedUpDeveloper } from '../support/dashboard-visitor.js';

/** The dashboard through its forms, as a browser without JavaScript uses it. */
describe('the developer dashboard', () => {
  let keygate: TestKeygate;

  before(async () => {
    keygate = await startTestKeygate();
  });
  after(() => keygate.close());

  const developer = (email: string) => signedUpDeveloper(keygate, email);

  it('shows on the app page what to paste into a Ukey1 SDK: this Keygate as the host, the App ID and a registered return URL', async () => {
    const visitor = await developer('connect.dev@example.cz');
    const { appId } = await createApp(visitor, 'Connectable');
    const page = await visitor.get(`/dashboard/apps/${appId}`);
    assert.match(page.html, /<h2 id="connect-h">Connect your app<\/h2>/);
    assert.equal(/id="connect-host"[^>]*>([^<]+)</.exec(page.html)?.[1], 'http://localhost:8080');
    const snippet = /id="connect-browser"[^>]*><code>([\s\S]*?)<\/code>/.exec(page.html)![1]!.replace(/&#39;/g, "'");
    assert.match(snippet, new RegExp(`appId: '${appId}'`));
    assert.match(snippet, /host: 'http:\/\/localhost:8080'/);
    assert.match(snippet, /returnUrl: 'https:\/\/dash\.example\.org\/back\/'/);
    for (const [, target] of page.html.matchAll(/data-copy="([^"]+)"/g)) assert.match(page.html, new RegExp(`id="${target}"`), `the ${target} copy button copies something`);
  });

  it('sends a visitor without a session to the sign-in page', async () => {
    const response = await keygate.http.inject({ method: 'GET', url: '/dashboard' });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/dashboard/sign-in');
    const signIn = await keygate.http.inject({ method: 'GET', url: '/dashboard/sign-in' });
    assert.match(signIn.body, /<label for="email">Email or nickname<\/label>/);
    assert.match(signIn.headers['content-security-policy'] as string, /script-src 'self'/);
    assert.doesNotMatch(signIn.headers['content-security-policy'] as string, /unsafe-inline/);
  });

  it('creates an app owned by its developer, with its credentials shown once and secure defaults', async () => {
    const visitor = await developer('dev.one@example.cz');
    const { appId, secretKey, page } = await createApp(visitor, 'Dash One');
    assert.match(page.html, /data-copy="app-id"/);
    assert.match(page.html, /data-copy="secret-key"/);
    const app = await keygate.services.appDirectory.findApp(appId);
    assert.equal(app?.secretKey, secretKey);
    assert.deepEqual(app?.protections, { domain: true, returnUrl: true, serverOnly: false, ip: false });
    const list = await visitor.get('/dashboard');
    assert.match(list.html, new RegExp(`href="/dashboard/apps/${appId}">Dash One<`));
    const settings = await visitor.get(`/dashboard/apps/${appId}`);
    assert.match(settings.html, /Server-only protection is off/);
    assert.match(settings.html, /IP protection is off/);
    assert.doesNotMatch(settings.html, /Domain protection is off/);
    assert.match(settings.html, /<svg[^>]*role="img"/, 'the usage chart is rendered on the server');
    // The control plane records who created the app: the owner's opaque id, with the request.
    const developerId = (await keygate.services.personDirectory.findByEmail('dev.one@example.cz'))!.id;
    const record = await keygate.stores.control.db.selectFrom('audit_events').select(['actor_kind', 'actor_id', 'request_id'])
      .where('app_id', '=', appId).where('action', '=', 'app.created').executeTakeFirstOrThrow();
    assert.deepEqual([record.actor_kind, record.actor_id], ['person', developerId]);
    assert.ok(record.request_id);
    assert.match(settings.html, /<code>app\.created<\/code>/, 'owners see the app\'s own audit trail');
  });

  it('says where the Secret Key is shown that it is no secret, and that only IP protection stops a determined user', async () => {
    const visitor = await developer('dev.key@example.cz');
    const { appId, page } = await createApp(visitor, 'Dash Key');
    const settings = await visitor.get(`/dashboard/apps/${appId}`);
    for (const html of [page.html, settings.html]) {
      assert.match(html, /The Secret Key identifies this app, but it is no secret from its users: anyone sent back to the app can compute it/);
      assert.match(html, /Calls that change the app, such as its private list, are accepted only with IP protection on and from a listed address\./);
      assert.doesNotMatch(html, /keep it on servers only/);
    }
    const serverOnlyHint = /<span class="why" id="serverOnly-hint">([^<]*)<\/span>/.exec(settings.html)![1]!;
    assert.match(serverOnlyHint, /This stops browsers, not a determined user/);
    assert.match(serverOnlyHint, /Only IP protection tells your server from them\./);
  });

  it('refuses bad origins, return URLs and addresses next to the field, and saves nothing', async () => {
    const visitor = await developer('dev.two@example.cz');
    const refused = await visitor.post('/dashboard/apps', { name: 'Bad', origins: 'https://ok.example.org\nhttps://evil.example.org/path', returnUrls: 'https://ok.example.org/back' });
    assert.equal(refused.status, 400);
    assert.match(refused.html, /id="origins-error">[^<]*is not an origin/);
    assert.match(refused.html, /https:\/\/ok\.example\.org\nhttps:\/\/evil\.example\.org\/path<\/textarea>/, 'what was typed is kept');
    assert.equal((await keygate.services.appOwners.appsOwnedBy((await keygate.services.personDirectory.findByEmail('dev.two@example.cz'))!.id)).length, 0);

    const { appId } = await createApp(visitor, 'Dash Two');
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ domain: 'on', returnUrl: 'on', origins: 'https://a.example.org', returnUrls: 'https://user@a.example.org/back' }, /id="returnUrls-error"/],
      [{ domain: 'on', returnUrl: 'on', origins: 'https://a.example.org', returnUrls: 'https://a.example.org/back', ip: 'on', ipEntries: '10.0.0.1/8' }, /id="ipEntries-error">[^<]*10\.0\.0\.0\/8/],
      [{ domain: 'on', returnUrl: 'on', origins: 'https://a.example.org', returnUrls: 'https://a.example.org/back', ip: 'on', ipEntries: '' }, /id="ipEntries-error">IP protection needs/],
      [{ domain: 'on', returnUrl: 'on', origins: '', returnUrls: 'https://a.example.org/back' }, /id="origins-error">Domain protection needs/],
      [{ domain: 'on', returnUrl: 'on', origins: 'https://a.example.org', returnUrls: '' }, /id="returnUrls-error">At least one return URL/],
    ];
    for (const [form, error] of cases) {
      const response = await visitor.post(`/dashboard/apps/${appId}/protections`, form);
      assert.equal(response.status, 400, JSON.stringify(form));
      assert.match(response.html, error);
      const app = await keygate.services.appDirectory.findApp(appId);
      assert.deepEqual([app?.origins, app?.returnUrls, app?.ipEntries], [['https://dash.example.org'], ['https://dash.example.org/back/'], []], 'nothing was saved');
    }
    const saved = await visitor.post(`/dashboard/apps/${appId}/protections`, {
      domain: 'on', returnUrl: 'on', serverOnly: 'on', ip: 'on', origins: 'https://EXAMPLE.org:443', returnUrls: 'https://example.org/back/', ipEntries: '2001:DB8::/32\n::ffff:192.0.2.1',
    });
    assert.equal(saved.status, 200);
    const app = await keygate.services.appDirectory.findApp(appId);
    assert.deepEqual(app?.origins, ['https://example.org']);
    assert.deepEqual(app?.ipEntries, ['2001:db8::/32', '192.0.2.1']);
    assert.equal(app?.protections.serverOnly, true);
  });

  it('shows another developer\'s app as not found, and changes nothing for them', async () => {
    const owner = await developer('owner.three@example.cz');
    const { appId } = await createApp(owner, 'Mine');
    const intruder = await developer('intruder@example.cz');
    assert.equal((await intruder.get(`/dashboard/apps/${appId}`)).status, 404);
    // The intruder's forms carry a good token of their own session.
    await intruder.get('/dashboard');
    for (const action of ['rename', 'delete', 'rotate', 'protections', 'private', 'owners']) {
      const response = await intruder.post(`/dashboard/apps/${appId}/${action}`, { name: 'Stolen', confirm: 'Mine', graceDays: '0', email: 'intruder@example.cz', private: 'on' });
      assert.equal(response.status, 404, action);
    }
    const app = await keygate.services.appDirectory.findApp(appId);
    assert.equal(app?.name, 'Mine');
    assert.equal(app?.private, false);
    assert.equal((await keygate.services.appOwners.ownersOf(appId)).length, 1);
  });

  it('refuses a dashboard form without its CSRF token or from another site', async () => {
    const visitor = await developer('csrf.dev@example.cz');
    const { appId } = await createApp(visitor, 'Guarded');
    const noToken = await visitor.post(`/dashboard/apps/${appId}/rename`, { name: 'Forged' }, {}, { csrf: false });
    assert.equal(noToken.status, 403);
    const crossSite = await visitor.post(`/dashboard/apps/${appId}/rename`, { name: 'Forged' }, { 'sec-fetch-site': 'cross-site' });
    assert.equal(crossSite.status, 403);
    assert.equal((await keygate.services.appDirectory.findApp(appId))?.name, 'Guarded');
  });

  it('adds an owner who accepted the invitation and then manages the app; the last owner cannot leave', async () => {
    const first = await developer('first.owner@example.cz');
    const { appId } = await createApp(first, 'Shared');
    const second = await developer('second.owner@example.cz');
    const invited = await first.post(`/dashboard/apps/${appId}/owners`, { email: 'Second.Owner@example.cz' });
    assert.equal(invited.status, 200);
    assert.equal((await second.get(`/dashboard/apps/${appId}`)).status, 404, 'not an owner before accepting');
    const invitation = new URL(await keygate.outbox.link('second.owner@example.cz', '/dashboard/owner-invitations/')).pathname;
    await second.get(invitation);
    assert.equal((await second.post(invitation, { decision: 'accept' })).status, 303);
    assert.match((await first.get(`/dashboard/apps/${appId}`)).html, /second\.owner@example\.cz/);
    assert.equal((await second.get(`/dashboard/apps/${appId}`)).status, 200);
    const firstId = (await keygate.services.personDirectory.findByEmail('first.owner@example.cz'))!.id;
    const secondId = (await keygate.services.personDirectory.findByEmail('second.owner@example.cz'))!.id;
    assert.equal((await second.post(`/dashboard/apps/${appId}/owners/remove`, { person: firstId })).status, 200);
    const last = await second.post(`/dashboard/apps/${appId}/owners/remove`, { person: secondId });
    assert.equal(last.status, 400);
    assert.match(last.html, /keeps at least one owner/);
    // Reading co-owners' emails for the page is recorded in their zone.
    const reads = await keygate.stores.zones.eu.db.selectFrom('audit_events').select('purpose')
      .where('person_id', '=', secondId).where('action', '=', 'field.read').execute();
    assert.ok(reads.some((r) => r.purpose === 'dashboard owner list'));
  });

  it('rotates the key with a grace period chosen on the form, and refuses one out of range', async () => {
    const visitor = await developer('rotating.dev@example.cz');
    const { appId, secretKey } = await createApp(visitor, 'Rotate me');
    const refused = await visitor.post(`/dashboard/apps/${appId}/rotate`, { graceDays: '8' });
    assert.equal(refused.status, 400);
    assert.equal((await keygate.services.appDirectory.findApp(appId))?.secretKey, secretKey);
    const rotated = await visitor.post(`/dashboard/apps/${appId}/rotate`, { graceDays: '3' });
    assert.equal(rotated.status, 200);
    const app = await keygate.services.appDirectory.findApp(appId);
    assert.notEqual(app?.secretKey, secretKey);
    assert.equal(app?.keys[1]?.secretKey, secretKey);
    assert.match(rotated.html, new RegExp(app!.secretKey.slice(0, 40).replace(/[+/]/g, '\\$&')));
  });

  it('deletes an app only when its name is typed', async () => {
    const visitor = await developer('deleting.dev@example.cz');
    const { appId } = await createApp(visitor, 'Doomed');
    assert.equal((await visitor.post(`/dashboard/apps/${appId}/delete`, { confirm: 'doomed' })).status, 400);
    assert.ok(await keygate.services.appDirectory.findApp(appId));
    const deleted = await visitor.post(`/dashboard/apps/${appId}/delete`, { confirm: 'Doomed' });
    assert.equal(deleted.status, 200);
    assert.equal(await keygate.services.appDirectory.findApp(appId), null);
  });

  it('charts sign-ins and token issues per day from the audit trail', async () => {
    const visitor = await developer('usage.dev@example.cz');
    const { appId, secretKey } = await createApp(visitor, 'Counted');
    const client = new Ukey1ServerClient(keygate.http, appId, secretKey, 'https://dash.example.org');
    for (const email of ['u1@example.cz', 'u2@example.cz']) {
      const opened = await client.connect({ request_id: email, scope: ['firstname'], return_url: 'https://dash.example.org/back/' });
      const person = new GatewayVisitor(keygate.http);
      const connectId = connectIdOf(opened.body.gateway);
      await person.signUp(`/gateway/${connectId}`, { ...SIGN_UP_JANA, email }, keygate.outbox);
      const allowed = await person.post(`/gateway/${connectId}/consent`, { decision: 'allow', fields: ['firstname'] });
      const code = new URL(allowed.location!).searchParams.get('_ukey1[code]')!;
      if (email === 'u1@example.cz') assert.equal((await client.token({ request_id: email, connect_id: connectId, auth_code: code })).status, 200);
    }
    const days = await keygate.services.usage.lastDays(appId);
    assert.equal(days.length, 30);
    assert.deepEqual(days.at(-1), { day: keygate.clock.now().toISOString().slice(0, 10), signIns: 2, tokens: 1 });
    assert.ok(days.slice(0, -1).every((d) => d.signIns === 0 && d.tokens === 0));
    const page = await visitor.get(`/dashboard/apps/${appId}`);
    assert.match(page.html, /<desc[^>]*>[^<]*Sign-ins: 2[^<]*Tokens issued: 1/);
    // Consent proofs: pseudonymous, and without the address they were made from.
    assert.equal((page.html.match(/<td>allowed<\/td>/g) ?? []).length, 2);
    assert.doesNotMatch(page.html, /u1@example\.cz/);
    const reads = await keygate.stores.zones.eu.db.selectFrom('audit_events').select('actor_id')
      .where('field', '=', 'consent_address').where('purpose', '=', 'app consent proof').execute();
    assert.equal(reads.length, 0, 'the owner opens no address');
  });
});
