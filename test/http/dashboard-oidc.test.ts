import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isClientSecret } from '../../src/crypto/client-secret.js';
import { DASHBOARD_ORIGIN, developer } from '../support/dashboard-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

const secretOf = (html: string) => /id="client-secret"[^>]*>([A-Za-z0-9_-]{43})</.exec(html)?.[1];

/** The dashboard's OpenID Connect settings, through its forms. */
describe('the dashboard for an OpenID Connect client', () => {
  let keygate: TestKeygate;
  before(async () => {
    keygate = await startTestKeygate();
  });
  after(() => keygate.close());

  it('creates a client with redirect URIs and no return URL, and shows its client secret once', async () => {
    const visitor = await developer(keygate, 'oidc.dev@example.cz');
    const created = await visitor.post('/dashboard/apps', { name: 'RP', origins: DASHBOARD_ORIGIN, returnUrls: '', redirectUris: 'https://rp.example.org/cb' });
    assert.equal(created.status, 201, created.html);
    const appId = /id="app-id"[^>]*>([0-9a-f-]{36})</.exec(created.html)![1]!;
    const secret = secretOf(created.html);
    assert.ok(secret, 'the client secret is on the credentials page');
    assert.equal(isClientSecret(secret, (await keygate.services.appDirectory.findApp(appId))!.clientSecretHash), true);

    const page = await visitor.get(`/dashboard/apps/${appId}`);
    assert.match(page.html, /<h2 id="oidc-h">OpenID Connect<\/h2>/);
    assert.match(page.html, /id="oidc-issuer"[^>]*>http:\/\/localhost:8080</);
    assert.match(page.html, /id="oidc-discovery"[^>]*>http:\/\/localhost:8080\/\.well-known\/openid-configuration</);
    assert.match(page.html, /id="oidc-client-id"[^>]*>[0-9a-f-]{36}</);
    assert.match(page.html, /https:\/\/rp\.example\.org\/cb<\/textarea>/);
    assert.equal(secretOf(page.html), undefined, 'the secret is never shown again');

    const renewed = await visitor.post(`/dashboard/apps/${appId}/client-secret`, {});
    assert.equal(renewed.status, 200);
    const fresh = secretOf(renewed.html)!;
    const app = (await keygate.services.appDirectory.findApp(appId))!;
    assert.equal(isClientSecret(fresh, app.clientSecretHash), true);
    assert.equal(isClientSecret(secret, app.clientSecretHash), false, 'the old secret stopped working');
  });

  it('creates a public client without a secret, and refuses one without a redirect URI', async () => {
    const visitor = await developer(keygate, 'oidc.spa@example.cz');
    const refused = await visitor.post('/dashboard/apps', { name: 'SPA', origins: DASHBOARD_ORIGIN, returnUrls: 'https://spa.example.org/back', publicClient: 'on' });
    assert.equal(refused.status, 400);
    const created = await visitor.post('/dashboard/apps', { name: 'SPA', origins: DASHBOARD_ORIGIN, redirectUris: 'https://spa.example.org/cb', publicClient: 'on' });
    assert.equal(created.status, 201, created.html);
    assert.equal(secretOf(created.html), undefined);
    const appId = /id="app-id"[^>]*>([0-9a-f-]{36})</.exec(created.html)![1]!;
    assert.equal((await keygate.services.appDirectory.findApp(appId))!.publicClient, true);
    const page = await visitor.get(`/dashboard/apps/${appId}`);
    assert.match(page.html, /This is a public client/);
    assert.doesNotMatch(page.html, /client-secret/, 'nothing to regenerate');
  });

  it('saves redirect URIs exactly as written, and refuses bad ones next to the field, saving nothing', async () => {
    const visitor = await developer(keygate, 'oidc.uris@example.cz');
    const created = await visitor.post('/dashboard/apps', { name: 'URIs', origins: DASHBOARD_ORIGIN, returnUrls: '', redirectUris: 'https://rp.example.org/cb' });
    const appId = /id="app-id"[^>]*>([0-9a-f-]{36})</.exec(created.html)![1]!;
    const saved = await visitor.post(`/dashboard/apps/${appId}/redirect-uris`, { redirectUris: 'https://rp.example.org/cb\nhttp://127.0.0.1/native' });
    assert.equal(saved.status, 200);
    assert.match(saved.html, /Redirect URIs saved\./);
    assert.deepEqual((await keygate.services.appDirectory.findApp(appId))!.redirectUris, ['https://rp.example.org/cb', 'http://127.0.0.1/native']);

    for (const bad of ['http://rp.example.org/cb', 'https://rp.example.org/cb#fragment', '']) {
      const refused = await visitor.post(`/dashboard/apps/${appId}/redirect-uris`, { redirectUris: bad });
      assert.equal(refused.status, 400, bad);
      assert.match(refused.html, /aria-invalid="true"/);
    }
    assert.deepEqual((await keygate.services.appDirectory.findApp(appId))!.redirectUris, ['https://rp.example.org/cb', 'http://127.0.0.1/native']);
    const trail = await keygate.stores.control.db.selectFrom('audit_events').select(['action', 'detail']).where('app_id', '=', appId).where('action', '=', 'app.redirect_uris_changed').execute();
    assert.deepEqual(trail.map((r) => r.detail), ['redirect_uris=2']);
  });
});
