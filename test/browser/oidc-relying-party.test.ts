import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { freePort } from '../support/ports.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

/**
 * A relying party as a developer writes one with openid-client: /login starts the code
 * flow with PKCE, state and nonce; /callback finishes it, shows what userinfo says, then
 * refreshes and revokes its tokens;
 * /logout goes to Keygate's end-session endpoint. It runs on 127.0.0.1 while Keygate is
 * on localhost, so the browser treats them as different sites, as in production.
 */
async function startRelyingParty(port: number, config: () => oidc.Configuration) {
  const base = `http://127.0.0.1:${port}`;
  const pending = new Map<string, { verifier: string; nonce: string }>();
  let lastIdToken = '';
  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', base);
      if (url.pathname === '/login') {
        const verifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        const nonce = oidc.randomNonce();
        pending.set(state, { verifier, nonce });
        const target = oidc.buildAuthorizationUrl(config(), {
          redirect_uri: `${base}/callback`, scope: 'openid profile email offline_access', state, nonce,
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
        });
        response.writeHead(302, { location: target.href }).end();
        return;
      }
      if (url.pathname === '/callback') {
        const state = url.searchParams.get('state') ?? '';
        const started = pending.get(state);
        if (!started) {
          response.writeHead(400, { 'content-type': 'text/html' }).end(`<h1 id="error">${url.searchParams.get('error') ?? 'no such sign-in'}</h1>`);
          return;
        }
        pending.delete(state);
        const tokens = await oidc.authorizationCodeGrant(config(), url, { pkceCodeVerifier: started.verifier, expectedState: state, expectedNonce: started.nonce, idTokenExpected: true });
        lastIdToken = tokens.id_token!;
        const claims = tokens.claims()!;
        const info = await oidc.fetchUserInfo(config(), tokens.access_token, claims.sub);
        // What a server-side app does next: refresh, then give the tokens up again.
        const refreshed = await oidc.refreshTokenGrant(config(), tokens.refresh_token!);
        await oidc.tokenRevocation(config(), refreshed.refresh_token!, { token_type_hint: 'refresh_token' });
        const afterRevocation = await oidc.refreshTokenGrant(config(), refreshed.refresh_token!).then(() => 'still works', (error: oidc.ResponseBodyError) => error.error);
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(`<h1 id="hello">Hello ${String(info.given_name ?? 'there')}</h1><pre id="userinfo">${JSON.stringify(info)}</pre>`
            + `<p id="refreshed">${refreshed.claims()!.sub === claims.sub ? 'same person' : 'someone else'}</p><p id="revoked">${afterRevocation}</p>`);
        return;
      }
      if (url.pathname === '/logout') {
        const target = oidc.buildEndSessionUrl(config(), { id_token_hint: lastIdToken, post_logout_redirect_uri: `${base}/signed-out`, state: 'bye' });
        response.writeHead(302, { location: target.href }).end();
        return;
      }
      if (url.pathname === '/signed-out') {
        response.writeHead(200, { 'content-type': 'text/html' }).end(`<h1 id="signed-out">Signed out (${url.searchParams.get('state')})</h1>`);
        return;
      }
      response.writeHead(404).end();
    })().catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { base, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('an openid-client relying party in headless Chromium', () => {
  let keygate: TestKeygate;
  let browser: Browser;
  let rp: Awaited<ReturnType<typeof startRelyingParty>>;

  before(async () => {
    const [keygatePort, rpPort] = [await freePort(), await freePort()];
    const issuer = `http://localhost:${keygatePort}`;
    keygate = await startTestKeygate({ env: { KEYGATE_PUBLIC_URL: issuer, PORT: String(keygatePort) } });
    await keygate.http.listen({ host: '127.0.0.1', port: keygatePort });
    const rpBase = `http://127.0.0.1:${rpPort}`;
    const client = await keygate.services.apps.createApp({ name: 'Relying Party', origins: [], returnUrls: [], redirectUris: [`${rpBase}/callback`] });
    await keygate.services.apps.updateLogout(client.clientId, { postLogoutRedirectUris: [`${rpBase}/signed-out`], backchannelLogoutUri: null });
    const config = await oidc.discovery(new URL(issuer), client.clientId, client.clientSecret!, undefined, { execute: [oidc.allowInsecureRequests] });
    rp = await startRelyingParty(rpPort, () => config);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await rp?.close();
    await keygate?.close();
  });

  it('signs a new person up, asks their consent field by field, and signs them out again', async () => {
    const context = await browser.newContext();
    // This browser chose English with the pages' switch, whatever its person's profile says.
    await context.addCookies([{ name: 'keygate-language', value: 'en', url: keygate.config.publicUrl }]);
    const page = await context.newPage();
    const failures: string[] = [];
    page.on('pageerror', (error) => failures.push(error.message));
    page.on('console', (message) => { if (message.text().includes('Content Security Policy')) failures.push(message.text()); });

    await page.goto(`${rp.base}/login`);
    await page.waitForURL(/localhost:\d+\/gateway\/[0-9a-f-]{36}/);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill('jana.browser@example.cz');
    await page.getByLabel('Password').fill('plum-orchard-violin-2026');
    await page.getByLabel('First name').fill('Jana');
    await page.getByLabel('Surname').fill('Nováková');
    await page.getByLabel('Country').selectOption('CZ');
    await page.getByLabel('Language').selectOption('cs');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await page.getByLabel('Code from the email').fill(await keygate.outbox.code('jana.browser@example.cz'));
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByRole('heading', { name: 'Allow Relying Party to sign you in?' }).waitFor();
    for (const field of ['First name', 'Surname', 'Email', 'Profile image', 'Language']) {
      assert.equal(await page.getByLabel(field).isChecked(), false, `${field} is not pre-ticked`);
    }
    await page.getByLabel('First name').check();
    await page.getByRole('button', { name: 'Allow' }).click();

    await page.waitForURL(/127\.0\.0\.1:\d+\/callback/);
    assert.equal(await page.locator('#hello').textContent(), 'Hello Jana', await page.content());
    const info = JSON.parse((await page.locator('#userinfo').textContent())!);
    assert.deepEqual(Object.keys(info).sort(), ['given_name', 'sub'], 'only what was ticked');
    assert.equal(await page.locator('#refreshed').textContent(), 'same person');
    assert.equal(await page.locator('#revoked').textContent(), 'invalid_grant', 'a revoked refresh token is refused');

    await page.goto(`${rp.base}/logout`);
    await page.waitForURL(/\/signed-out/);
    assert.equal(await page.locator('#signed-out').textContent(), 'Signed out (bye)');
    const cookies = await context.cookies(`http://localhost:${new URL(keygate.config.publicUrl).port}`);
    assert.equal(cookies.some((c) => c.name === 'keygate-session'), false, 'the Keygate session is over');
    assert.deepEqual(failures, []);
    await context.close();
  });
});
