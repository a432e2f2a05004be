import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/ports.js';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { startDemoApp } from '../support/react-sdk-app.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';


describe('the published ukey1-react-sdk@2.0.0 in headless Chromium, unchanged', () => {
  let keygate: TestKeygate;
  let demo: Awaited<ReturnType<typeof startDemoApp>>;
  let unlisted: Awaited<ReturnType<typeof startDemoApp>>;
  let browser: Browser;

  let gatewayHost = '';

  before(async () => {
    const [gatewayPort, appPort] = [await freePort(), await freePort()];
    const host = `http://localhost:${gatewayPort}`;
    gatewayHost = host;
    keygate = await startTestKeygate({ env: { KEYGATE_PUBLIC_URL: host, PORT: String(gatewayPort) } });
    await keygate.http.listen({ host: '127.0.0.1', port: gatewayPort });
    const appOrigin = `http://localhost:${appPort}`;
    const { appId } = await keygate.services.apps.createApp({ name: 'Demo App', origins: [appOrigin], returnUrls: [`${appOrigin}/callback/`] });
    demo = await startDemoApp({ appId, host, scope: ['firstname', 'surname', 'email', 'country!'] }, appPort);
    // The same App ID embedded in a site on an origin the app does not list.
    unlisted = await startDemoApp({ appId, host, scope: ['firstname'] }, await freePort());
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await demo?.close();
    await unlisted?.close();
    await keygate?.close();
  });

  it('completes connect → sign-up → consent → return → token → /me', async () => {
    const context = await browser.newContext();
    // This browser chose English with the pages' switch, whatever its person's profile says.
    await context.addCookies([{ name: 'keygate-language', value: 'en', url: gatewayHost }]);
    const page = await context.newPage();
    const failures: string[] = [];
    page.on('pageerror', (error) => failures.push(error.message));
    await page.goto(demo.origin);
    await page.getByRole('button', { name: 'Sign in with Keygate' }).click();

    await page.waitForURL(/\/gateway\/[0-9a-f-]{36}\?signup=1$/);
    await page.getByLabel('Email').fill('eliska.dvorakova@example.cz');
    await page.getByLabel('Password').fill('plum-orchard-violin-2026');
    await page.getByLabel('First name').fill('Eliška');
    await page.getByLabel('Surname').fill('Dvořáková');
    await page.getByLabel('Country').selectOption('CZ');
    await page.getByLabel('Language').selectOption('cs');
    await page.getByRole('button', { name: 'Create account' }).click();

    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await page.getByLabel('Code from the email').fill(await keygate.outbox.code('eliska.dvorakova@example.cz'));
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByRole('heading', { name: 'Allow Demo App to sign you in?' }).waitFor();
    for (const field of ['First name', 'Surname', 'Email', 'Country']) {
      assert.equal(await page.getByLabel(field).isChecked(), false, `${field} is not pre-ticked`);
    }
    await page.getByLabel('First name').check();
    await page.getByLabel('Email').check();
    await page.getByLabel('Country').check();
    await page.getByRole('button', { name: 'Allow' }).click();

    await page.waitForURL(/\/callback\/\?from=keygate&_ukey1/);
    await page.locator('#status').filter({ hasText: /signed-in|failed/ }).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#status').textContent(), 'signed-in', failures.join('\n'));
    const user = JSON.parse((await page.locator('#user').textContent())!);
    assert.equal(user.firstname, 'Eliška');
    assert.equal(user.email, 'eliska.dvorakova@example.cz');
    assert.equal(user.country, 'CZ');
    assert.equal(user.surname, null, 'a field the person did not tick is not shared');
    assert.match(user.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(failures, []);
  });

  it('fails from an origin the app does not list: the browser blocks the call and no sign-in starts', async () => {
    const page = await browser.newPage();
    const blocked: string[] = [];
    page.on('requestfailed', (request) => { if (request.url().includes('/auth/v2/connect')) blocked.push(request.failure()?.errorText ?? ''); });
    const before = await keygate.stores.control.db.selectFrom('connect_requests').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    await page.goto(unlisted.origin);
    await page.getByRole('button', { name: 'Sign in with Keygate' }).click();
    await page.waitForEvent('requestfailed', { predicate: (request) => request.url().includes('/auth/v2/connect'), timeout: 10_000 }).catch(() => undefined);
    assert.ok(blocked.length > 0, 'the connect call was blocked by the browser');
    assert.doesNotMatch(page.url(), /\/gateway\//);
    const afterwards = await keygate.stores.control.db.selectFrom('connect_requests').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(afterwards.n), Number(before.n), 'no connect request was opened');
  });
});
