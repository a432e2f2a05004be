import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/ports.js';
import { keygateCli, startNode, type KeygateNode } from '../support/node-process.js';
import { connectIdOf, GatewayVisitor, overHttp, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { Outbox } from '../support/mailbox.js';
import { signRequest, Ukey1ServerClient } from '../support/ukey1-client.js';




describe('the keygate CLI', () => {
  let dataDir: string;
  let port: number;
  let server: KeygateNode;
  let env: Record<string, string>;

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'keygate-cli-'));
    port = await freePort();
    env = { KEYGATE_DATA_DIR: dataDir, PORT: String(port), KEYGATE_HOST: '127.0.0.1' };
    server = await startNode(env, port);
  });

  after(() => {
    if (server?.process.exitCode === null) server.process.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers an app against the data directory of a running server and prints its credentials as JSON', async () => {
    const created = keygateCli(['app', 'create', '--name', 'CLI App', '--origin', 'https://cli.example.org', '--return-url', 'https://cli.example.org/back/', '--json'], env);
    assert.equal(created.status, 0, created.stderr);
    const { appId, secretKey } = JSON.parse(created.stdout);
    assert.match(appId, /^[0-9a-f-]{36}$/);
    assert.equal(createPublicKey({ key: Buffer.from(secretKey, 'base64'), format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength, 2048);

    // The running server knows the app at once.
    const body = JSON.stringify({ request_id: 'cli', scope: ['email'], return_url: 'https://cli.example.org/back/done' });
    const response = await fetch(`http://127.0.0.1:${port}/auth/v2/connect`, {
      method: 'POST',
      headers: {
        'X-Ukey1-App': appId,
        'X-Ukey1-Signature': signRequest(secretKey, { appId, method: 'POST', path: '/auth/v2/connect', rawBody: body }),
        'X-Origin': 'https://cli.example.org',
        'Content-Type': 'application/json',
      },
      body,
    });
    assert.equal(response.status, 201);
    assert.equal((await response.json()).result, 201);
  });

  it('registers OpenID Connect clients: confidential with a secret shown once and kept hashed, public without one', async () => {
    const confidential = keygateCli(['app', 'create', '--name', 'OIDC App', '--redirect-uri', 'https://rp.example.org/cb',
      '--redirect-uri', 'http://127.0.0.1/native', '--json'], env);
    assert.equal(confidential.status, 0, confidential.stderr);
    const created = JSON.parse(confidential.stdout);
    assert.deepEqual(Object.keys(created).sort(), ['appId', 'clientId', 'clientSecret', 'secretKey']);
    assert.equal(created.clientId, created.appId);
    assert.match(created.clientSecret, /^[A-Za-z0-9_-]{43}$/);

    const publicClient = keygateCli(['app', 'create', '--name', 'SPA', '--redirect-uri', 'https://spa.example.org/cb', '--public', '--origin', 'https://spa.example.org', '--json'], env);
    assert.equal(publicClient.status, 0, publicClient.stderr);
    assert.deepEqual(Object.keys(JSON.parse(publicClient.stdout)).sort(), ['appId', 'clientId', 'secretKey']);

    // A Ukey1 app registered as before gets no client secret.
    const ukey1 = JSON.parse(keygateCli(['app', 'create', '--name', 'Ukey1 only', '--return-url', 'https://u.example.org/back', '--json'], env).stdout);
    assert.equal(ukey1.clientSecret, undefined);

    const text = keygateCli(['app', 'create', '--name', 'Shown', '--redirect-uri', 'https://shown.example.org/cb'], env);
    assert.match(text.stdout, /OpenID Connect client secret: [A-Za-z0-9_-]{43} \(shown only now\)/);

    const noUris = keygateCli(['app', 'create', '--name', 'None', '--json'], env);
    assert.equal(noUris.status, 2);
    assert.match(noUris.stderr, /--return-url or --redirect-uri/);
    const publicWithout = keygateCli(['app', 'create', '--name', 'P', '--public', '--return-url', 'https://p.example.org/back'], env);
    assert.equal(publicWithout.status, 2);
    assert.match(publicWithout.stderr, /--public client needs at least one --redirect-uri/);
    for (const bad of ['http://rp.example.org/cb', 'https://rp.example.org/cb#frag', 'https://u:p@rp.example.org/cb']) {
      const refused = keygateCli(['app', 'create', '--name', 'Bad', '--redirect-uri', bad, '--json'], env);
      assert.equal(refused.status, 1, bad);
      assert.match(refused.stderr, /is not an acceptable redirect URI/);
      assert.equal(refused.stdout, '');
    }
  });

  it('lets the operator approve mandatory email and image for one app, through the running server', async () => {
    const created = keygateCli(['app', 'create', '--name', 'Approved', '--origin', 'https://ok.example.org', '--return-url', 'https://ok.example.org/back/', '--json'], env);
    const { appId, secretKey } = JSON.parse(created.stdout);
    const scopes = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/auth/v2/system/scopes`, {
        headers: { 'X-Ukey1-App': appId, 'X-Origin': 'https://ok.example.org', 'X-Ukey1-Signature': signRequest(secretKey, { appId, method: 'GET', path: '/auth/v2/system/scopes' }) },
      });
      return (await response.json()).permissions as string[];
    };
    assert.ok(!(await scopes()).includes('email!'));
    const approved = keygateCli(['app', 'allow-mandatory', appId, 'email', 'image'], env);
    assert.equal(approved.status, 0, approved.stderr);
    assert.match(approved.stdout, /email, image/);
    const unknownField = keygateCli(['app', 'allow-mandatory', appId, 'shoe-size'], env);
    assert.equal(unknownField.status, 1);
    assert.match(unknownField.stderr, /Unknown field: shoe-size/);
    const unknownApp = keygateCli(['app', 'allow-mandatory', '00000000-0000-4000-8000-000000000000', 'email'], env);
    assert.equal(unknownApp.status, 1);
    assert.match(unknownApp.stderr, /no app has the App ID/);
    assert.equal(keygateCli(['app', 'allow-mandatory', appId], env).status, 2);
  });

  it("rotates Keygate's signing key through the running server: the next key is published at once", async () => {
    const kids = async () => ((await (await fetch(`http://127.0.0.1:${port}/oidc/jwks`)).json()).keys as Array<{ kid: string }>).map((k) => k.kid);
    const [current] = await kids();
    const rotated = keygateCli(['keys', 'rotate-signing', '--json'], env);
    assert.equal(rotated.status, 0, rotated.stderr);
    const { next, retiring } = JSON.parse(rotated.stdout);
    assert.deepEqual(retiring.map((k: { kid: string }) => k.kid), [current]);
    assert.ok(new Date(next.signsFrom).getTime() > Date.now(), 'the next key signs only later');
    assert.deepEqual((await kids()).sort(), [current, next.kid].sort());
    const text = keygateCli(['keys', 'rotate-signing'], env);
    assert.match(text.stdout, /^Signing key \S+ is published and signs from /);
    assert.equal(keygateCli(['keys', 'rotate-signing', '--zone', 'eu'], env).status, 2);
  });

  it('answers data-subject requests for the operator: export, then erasure with confirmation, and the audit trail still verifies', async () => {
    const created = JSON.parse(keygateCli(['app', 'create', '--name', 'DSR', '--origin', 'https://dsr.example.org', '--return-url', 'https://dsr.example.org/back', '--json'], env).stdout);
    const client = new Ukey1ServerClient(() => `http://127.0.0.1:${port}`, created.appId, created.secretKey, 'https://dsr.example.org');
    const connect = await client.connect({ request_id: 'dsr', scope: ['firstname'], return_url: 'https://dsr.example.org/back' });
    const visitor = new GatewayVisitor(overHttp(() => `http://127.0.0.1:${port}`));
    assert.equal((await visitor.signUp(`/gateway/${connectIdOf(connect.body.gateway)}`, { ...SIGN_UP_JANA, email: 'dsr@example.cz' }, new Outbox(dataDir))).status, 303);

    const exported = keygateCli(['person', 'export', '--email', 'DSR@example.cz'], env);
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal(JSON.parse(exported.stdout).profile.email, 'dsr@example.cz');
    const unconfirmed = keygateCli(['person', 'erase', '--email', 'dsr@example.cz'], env);
    assert.equal(unconfirmed.status, 2, 'without a terminal, erasure needs --yes');
    assert.match(unconfirmed.stderr, /--yes/);
    const erased = keygateCli(['person', 'erase', '--email', 'dsr@example.cz', '--yes'], env);
    assert.equal(erased.status, 0, erased.stderr);
    const gone = keygateCli(['person', 'export', '--email', 'dsr@example.cz'], env);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /no account/);
    const verified = keygateCli(['audit', 'verify', '--no-checkpoint'], env);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
  });

  it('seeds a development deployment with fake people, and never a production one', () => {
    const seeded = keygateCli(['seed', '--people', '4'], env);
    assert.equal(seeded.status, 0, seeded.stderr);
    assert.match(seeded.stdout, /Seeded 4 people/);
    assert.equal(keygateCli(['seed', '--people', 'many'], env).status, 2);
    const refused = keygateCli(['seed', '--people', '4'], { ...env, NODE_ENV: 'production', KEYGATE_PUBLIC_URL: 'https://id.example.org', KEYGATE_SMTP_URL: 'smtp://127.0.0.1:2525' });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /development stores only/);
  });

  it('refuses bad arguments with a clear message and a non-zero exit', () => {
    const noName = keygateCli(['app', 'create', '--return-url', 'https://x.example/back', '--json'], env);
    assert.equal(noName.status, 2);
    assert.match(noName.stderr, /--name/);
    const badUrl = keygateCli(['app', 'create', '--name', 'X', '--return-url', 'javascript:alert(1)', '--json'], env);
    assert.equal(badUrl.status, 1);
    assert.match(badUrl.stderr, /return URL/);
    assert.equal(badUrl.stdout, '');
    const unknown = keygateCli(['frobnicate'], env);
    assert.equal(unknown.status, 2);
  });

  it('stops cleanly on SIGTERM, and then works on the data directory by itself', async () => {
    server.process.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    const created = keygateCli(['app', 'create', '--name', 'Offline App', '--return-url', 'https://offline.example.org/back', '--json'], env);
    assert.equal(created.status, 0, created.stderr);
    assert.match(JSON.parse(created.stdout).appId, /^[0-9a-f-]{36}$/);
  });

  it('refuses to start in production without an SMTP server, naming the variable', () => {
    const started = keygateCli(['serve'], { ...env, NODE_ENV: 'production', PORT: '0', KEYGATE_PUBLIC_URL: 'https://id.example.org' });
    assert.equal(started.status, 1);
    assert.match(started.stderr, /KEYGATE_SMTP_URL is required in production/);
    assert.doesNotMatch(started.stderr, /\n\s+at /, 'one clear line, no stack trace');
  });

  it('refuses to start in production without keys, naming the variable', () => {
    const started = keygateCli(['serve'], { ...env, NODE_ENV: 'production', PORT: '0', KEYGATE_PUBLIC_URL: 'https://id.example.org', KEYGATE_SMTP_URL: 'smtp://127.0.0.1:2525' });
    assert.equal(started.status, 1);
    assert.match(started.stderr, /KEYGATE_MASTER_KEY_CONTROL/);
  });
});
