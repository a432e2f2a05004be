import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isClientSecret } from '../../src/crypto/client-secret.js';
import { AppSettingsError } from '../../src/domain/apps/app-settings.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

describe('OpenID Connect clients', () => {
  let keygate: TestKeygate;
  before(async () => {
    keygate = await startTestKeygate();
  });
  after(() => keygate.close());

  it('keeps a confidential client only by the hash of its secret, and a new secret ends the old one at once', async () => {
    const created = await keygate.services.apps.createApp({ name: 'RP', origins: [], returnUrls: [], redirectUris: ['https://rp.example.org/cb'] });
    assert.equal(created.clientId, created.appId);
    const secret = created.clientSecret!;
    const row = await keygate.stores.control.db.selectFrom('apps').select(['client_secret_hash', 'redirect_uris', 'public_client']).where('id', '=', created.appId).executeTakeFirstOrThrow();
    assert.deepEqual(row.redirect_uris, ['https://rp.example.org/cb']);
    assert.equal(row.public_client, false);
    assert.equal(Buffer.from(row.client_secret_hash!).includes(Buffer.from(secret)), false);

    const app = (await keygate.services.appDirectory.findApp(created.appId))!;
    assert.equal(isClientSecret(secret, app.clientSecretHash), true);
    assert.equal(isClientSecret(`${secret}x`, app.clientSecretHash), false);
    assert.equal(isClientSecret('', app.clientSecretHash), false);

    const { clientSecret } = await keygate.services.apps.regenerateClientSecret(created.appId);
    const renewed = (await keygate.services.appDirectory.findApp(created.appId))!;
    assert.equal(isClientSecret(secret, renewed.clientSecretHash), false);
    assert.equal(isClientSecret(clientSecret, renewed.clientSecretHash), true);
    const actions = await keygate.stores.control.db.selectFrom('audit_events').select(['action', 'detail']).where('app_id', '=', created.appId).orderBy('id').execute();
    assert.deepEqual(actions.map((a) => a.action), ['app.created', 'app.client_secret_regenerated']);
    assert.match(actions[0]!.detail!, /,client=confidential$/);
  });

  it('gives a public client no secret, ever', async () => {
    const created = await keygate.services.apps.createApp({ name: 'SPA', origins: [], returnUrls: [], redirectUris: ['https://spa.example.org/cb'], publicClient: true });
    assert.equal(created.clientSecret, undefined);
    assert.equal((await keygate.services.appDirectory.findApp(created.appId))!.clientSecretHash, null);
    await assert.rejects(keygate.services.apps.regenerateClientSecret(created.appId), AppSettingsError);
    assert.equal((await keygate.services.appDirectory.findApp(created.appId))!.clientSecretHash, null);
  });

  it('refuses an app with neither return URLs nor redirect URIs, and a public client without redirect URIs, writing nothing', async () => {
    const before = await keygate.stores.control.db.selectFrom('apps').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    await assert.rejects(keygate.services.apps.createApp({ name: 'Nothing', origins: [], returnUrls: [] }), (e: AppSettingsError) => e.reason === 'returnUrls.required');
    await assert.rejects(keygate.services.apps.createApp({ name: 'P', origins: [], returnUrls: ['https://p.example.org/back'], publicClient: true }),
      (e: AppSettingsError) => e.reason === 'redirectUris.required');
    await assert.rejects(keygate.services.apps.createApp({ name: 'Bad', origins: [], returnUrls: [], redirectUris: ['https://rp.example.org/cb#x'] }),
      (e: AppSettingsError) => e.reason === 'redirectUris.invalid');
    const after = await keygate.stores.control.db.selectFrom('apps').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(after.n), Number(before.n));
  });
});
