import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { totpCodeAt } from '../../src/crypto/totp.js';
import { assertNoSeriousViolations } from '../support/accessibility.js';
import { startBrowserSession } from '../support/browser.js';
import type { TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const EMAIL = 'pavla.svobodova@example.cz';
const PASSWORD = 'amber-willow-compass-2026';
const SHOP_ORIGIN = 'https://shop.example.org';
const SHOP_RETURN_URL = `${SHOP_ORIGIN}/callback/`;

/** The text of the elements that describe a field (its hint, its error), as a screen reader reads them. */
const descriptionOf = (field: Locator): Promise<string> =>
  field.evaluate((element) => (element.getAttribute('aria-describedby') ?? '')
    .split(/\s+/).filter(Boolean).map((id) => document.getElementById(id)?.textContent ?? '').join(' | '));

describe('every page passes axe-core without a serious or critical violation, in headless Chromium', () => {
  let session: Awaited<ReturnType<typeof startBrowserSession>>;
  let keygate: TestKeygate;
  let page: Page;
  let base: string;
  let shop: Ukey1ServerClient;
  let totpSecret: string;

  before(async () => {
    // axe-core is injected as an inline script, which the pages' CSP (script-src 'self')
    // rightly refuses; only this test's browser ignores the CSP, so that axe can run.
    session = await startBrowserSession({ contextOptions: { bypassCSP: true } });
    ({ keygate, page, base } = session);
    const app = await keygate.services.apps.createApp({ name: 'Shop', origins: [SHOP_ORIGIN], returnUrls: [SHOP_RETURN_URL] });
    shop = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, SHOP_ORIGIN);
    // The app's own site, where the gateway sends people back: a page of its own, not the network.
    await page.context().route(`${SHOP_ORIGIN}/**`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><html lang="en"><title>Shop</title><h1>Shop</h1></html>' }));
  });
  after(() => session?.close());

  const check = (what: string) => assertNoSeriousViolations(page, what);
  const submit = (name: string) => session.submit(name);
  const open = async (path: string, what: string) => {
    await page.goto(`${base}${path}`);
    await check(what);
  };
  const newSignInRequest = async (): Promise<string> => {
    const connect = await shop.connect({ request_id: `req-${randomUUID()}`, scope: ['firstname', 'surname', 'country!'], return_url: SHOP_RETURN_URL });
    assert.equal(connect.status, 201);
    return new URL(connect.body.gateway).pathname;
  };

  it('the home page and the gateway pages of a sign-in request, with and without errors', async () => {
    await open('/', 'the home page');
    const gateway = await newSignInRequest();
    await open(gateway, 'the gateway sign-in page');
    await submit('Sign in');
    await page.getByRole('alert').waitFor();
    await check('the gateway sign-in page after a wrong password');
    await open(`${gateway}/email-code`, 'the page asking for an email code');
    await open(`${gateway}/forgot`, 'the forgotten-password page');

    await open(`${gateway}?signup=1`, 'the gateway sign-up page');
    await submit('Create account');
    await page.getByRole('alert').filter({ hasText: 'There is a problem' }).waitFor();
    await check('the sign-up page with an error at every field');
    // The summary leads to each wrong field, which says the same.
    await page.getByRole('link', { name: 'Enter a valid email address.' }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'email', 'the summary link moves to the field');
    const password = page.getByLabel('Password');
    assert.equal(await password.getAttribute('aria-invalid'), 'true');
    assert.match(await descriptionOf(password), /^At least 10 characters.* \| \S/, 'the password field is described by its hint and its error');
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('First name').fill('Pavla');
    await page.getByLabel('Surname').fill('Svobodová');
    await page.getByLabel('Country').selectOption('CZ');
    await page.getByLabel('Language').selectOption('cs');
    await submit('Create account');
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await check('the page asking for the emailed code');
    await page.getByLabel('Code from the email').fill('000000');
    await submit('Continue');
    await page.getByRole('alert').waitFor();
    await check('the emailed-code page after a wrong code');
    await page.getByLabel('Code from the email').fill(await keygate.outbox.code(EMAIL));
    await submit('Continue');

    await page.getByRole('heading', { name: 'Allow Shop to sign you in?' }).waitFor();
    await check('the consent page');
    await page.getByLabel('Country').check();
    await submit('Allow');
    await page.waitForURL((url) => url.href.startsWith(SHOP_RETURN_URL));
  });

  it('the account centre pages, and setting up a second factor', async () => {
    for (const [path, what] of [
      ['/account/profile', 'the profile page'], ['/account/apps', 'the connected apps page'],
      ['/account/activity', 'the activity page'], ['/account/sessions', 'the sessions page'],
      ['/account/security', 'the security page'], ['/account/data', 'the export-or-delete page'],
    ] as const) await open(path, what);

    await page.goto(`${base}/account/security`);
    await submit('Set up an authenticator app');
    const passwordField = page.getByLabel('Your password, to set it up');
    assert.equal(await passwordField.getAttribute('aria-invalid'), 'true', 'the refusal is told at the password field');
    assert.match(await descriptionOf(passwordField), /password is not right/);
    await check('the security page after a missing password');
    await page.getByLabel('Your password, to set it up').fill(PASSWORD);
    await submit('Set up an authenticator app');
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    await check('the authenticator set-up page');
    totpSecret = (await page.locator('#totp-secret').textContent())!.replace(/\s+/g, '');
    await page.getByLabel('Code from the app').fill(totpCodeAt(totpSecret, keygate.clock.now()));
    await submit('Turn on');
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    await check('the recovery codes page');
  });

  it('the second factor, cancelling at the consent page, and the page of a finished request', async () => {
    await page.goto(`${base}/account/security`);
    await submit('Sign out');
    keygate.clock.advance(30);
    const gateway = await newSignInRequest();
    await page.goto(`${base}${gateway}`);
    await page.getByLabel('Email or nickname').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await submit('Sign in');
    await page.getByRole('heading', { name: 'Second step' }).waitFor();
    await check('the second-factor page');
    const current = totpCodeAt(totpSecret, keygate.clock.now());
    await page.getByLabel('Code from your authenticator app').fill(current === '000000' ? '111111' : '000000');
    await submit('Verify');
    await page.getByRole('alert').waitFor();
    await check('the second-factor page after a wrong code');
    await page.getByLabel('Code from your authenticator app').fill(current);
    await submit('Verify');
    await page.getByRole('heading', { name: 'Allow Shop to sign you in?' }).waitFor();
    await submit('Cancel');
    await page.waitForURL((url) => url.href.startsWith(SHOP_RETURN_URL));
    await open(gateway, 'the page of a sign-in request that is no longer open');
    await open(`/gateway/${randomUUID()}`, 'the page of an unknown sign-in request');
  });

  it('the developer dashboard: the list, the create form, the credentials and the app page', async () => {
    await open('/dashboard', 'the dashboard app list');
    await submit('Create app');
    await page.getByRole('alert').or(page.locator('.error')).first().waitFor();
    await check('the dashboard create form with errors');
    await page.getByLabel('Name (people see it on the consent screen)').fill('Library');
    await page.getByLabel('Origins').fill('https://library.example.org');
    await page.getByLabel('Return URLs').fill('https://library.example.org/callback/');
    await submit('Create app');
    await page.getByRole('heading', { name: 'Created Library' }).waitFor();
    await check('the new app credentials page');
    await Promise.all([page.waitForEvent('load'), page.getByRole('link', { name: "Continue to the app's settings" }).click()]);
    await page.getByRole('heading', { name: 'Library', level: 1 }).waitFor();
    await check('the dashboard app page');
    await page.getByLabel('Addresses and subnets').fill('not an address');
    await submit('Save protections');
    await page.locator('#ipEntries-error').waitFor();
    await check('the dashboard app page with a refused save');
  });

  it('the standalone sign-in pages and the password reset page', async () => {
    await page.goto(`${base}/dashboard`);
    await submit('Sign out');
    await check('the dashboard sign-in page');
    await open('/dashboard/sign-up', 'the dashboard sign-up page');
    await open('/account/sign-in', 'the account sign-in page');
    await page.goto(`${base}/account/forgot`);
    await page.getByLabel('Email or nickname').fill(EMAIL);
    await submit('Send the link');
    await check('the page saying the reset link was sent');
    const link = await keygate.outbox.link(EMAIL, '/reset/');
    await page.goto(link.replace(/^https?:\/\/[^/]+/, base));
    await check('the password reset page');
    await page.getByLabel('New password').fill('short');
    await submit('Set the new password');
    await page.getByRole('alert').or(page.locator('.error')).first().waitFor();
    await check('the password reset page refusing a weak password');
    await open('/reset/no-such-link', 'the page of an expired reset link');
    assert.deepEqual(session.problems, []);
  });
});
