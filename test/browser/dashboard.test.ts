import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { freePort } from '../support/ports.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const EMAIL = 'vojtech.novak@example.cz';
const PASSWORD = 'plum-orchard-violin-2026';
const SHOP_ORIGIN = 'https://shop.example.org';
const SHOP_RETURN_URL = 'https://shop.example.org/callback/';
const A_DAY = 24 * 60 * 60;

/** The text of the elements that describe a form field (its hint and, after a refused save, its error). */
const descriptionOf = (field: Locator): Promise<string> =>
  field.evaluate((element) => (element.getAttribute('aria-describedby') ?? '')
    .split(/\s+/).filter(Boolean).map((id) => document.getElementById(id)?.textContent ?? '').join(' | '));

/** Clicks a button or link that loads a new page, and waits until that page has loaded. */
async function navigateBy(page: Page, control: Locator): Promise<void> {
  const loaded = page.waitForEvent('load');
  await control.click();
  await loaded;
}

const press = (page: Page, button: string) => navigateBy(page, page.getByRole('button', { name: button, exact: true }));
const follow = (page: Page, link: string) => navigateBy(page, page.getByRole('link', { name: link, exact: true }));

const heading = (page: Page, name: string): Promise<void> =>
  page.getByRole('heading', { name, exact: true, level: 1 }).waitFor();

/** A value shown on a credentials or app page (App ID, Secret Key). */
const credential = async (page: Page, label: 'App ID' | 'Secret Key'): Promise<string> =>
  (await page.getByLabel(label, { exact: true }).textContent())!.trim();

/** Clicks a copy button, waits until it says it copied, and returns what the clipboard now holds. */
async function copyWith(page: Page, buttonName: string): Promise<string> {
  const button = await page.getByRole('button', { name: buttonName, exact: true }).elementHandle();
  assert.ok(button, `a "${buttonName}" button`);
  await button.click();
  await page.waitForFunction((b) => b.textContent === 'Copied', button);
  await button.dispose();
  return page.evaluate(() => navigator.clipboard.readText());
}

/** The names in the "Your apps" list (the only links inside list items on that page). */
const listedApps = (page: Page): Promise<string[]> => page.getByRole('listitem').getByRole('link').allTextContents();

/** The page's status message, after a change. */
const notice = async (page: Page): Promise<string | undefined> => (await page.getByRole('status').textContent())?.trim();

const warnings = async (page: Page): Promise<string[]> =>
  (await page.getByRole('region', { name: 'Protections' }).getByRole('listitem').allTextContents()).map((w) => w.trim());

const connectBody = () => ({ request_id: `req-${randomUUID()}`, scope: ['firstname'], return_url: SHOP_RETURN_URL });

describe('the developer dashboard in headless Chromium', () => {
  let keygate: TestKeygate;
  let smtp: TestSmtpServer;
  let browser: Browser;
  let page: Page;
  let base: string;
  let apiBase: string;
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];

  // What the developer copied from the dashboard, shared by the steps below.
  let appId: string;
  let firstSecretKey: string;
  let appUrl: string;

  const serverClient = (secretKey: string) => new Ukey1ServerClient(() => apiBase, appId, secretKey, SHOP_ORIGIN);

  async function saveProtections(ipEntries: string): Promise<void> {
    await page.getByLabel('Addresses and subnets').fill(ipEntries);
    await press(page, 'Save protections');
  }

  async function signIn(): Promise<void> {
    await heading(page, 'Sign in');
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await press(page, 'Sign in');
    await heading(page, 'Your apps');
  }

  before(async () => {
    const port = await freePort();
    base = `http://localhost:${port}`;
    // The server clients call over IPv4 loopback, so that IP protection sees 127.0.0.1.
    apiBase = `http://127.0.0.1:${port}`;
    smtp = await startSmtpServer();
    keygate = await startTestKeygate({ env: { KEYGATE_PUBLIC_URL: base, PORT: String(port), KEYGATE_SMTP_URL: smtp.url } });
    await keygate.http.listen({ host: '127.0.0.1', port });
    browser = await launchChromium();
    const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    // This browser chose English with the pages' switch, whatever its person's profile says.
    await context.addCookies([{ name: 'keygate-language', value: 'en', url: base }]);
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
    });
  });

  after(async () => {
    await browser?.close();
    await keygate?.close();
    await smtp?.close();
  });

  it('sends a visitor to sign in, and lets them create an account', async () => {
    await page.goto(`${base}/dashboard`);
    await page.waitForURL(`${base}/dashboard/sign-in`);
    await heading(page, 'Sign in');
    await follow(page, 'Create an account');

    await heading(page, 'Create your account');
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('First name').fill('Vojtěch');
    await page.getByLabel('Surname').fill('Novák');
    await page.getByLabel('Country').selectOption('CZ');
    await page.getByLabel('Language').selectOption('cs');
    await press(page, 'Create account');

    // The address is confirmed with the code the test SMTP server received.
    await heading(page, 'Check your email');
    const mail = await smtp.waitFor((m) => m.to.includes(EMAIL) && /\d{6}/.test(m.subject));
    await page.getByLabel('Code from the email').fill(/(\d{6})/.exec(mail.subject)![1]!);
    await press(page, 'Continue');

    await heading(page, 'Your apps');
    assert.equal(page.url(), `${base}/dashboard`);
    await page.getByText('You have no apps yet.').waitFor();
  });

  it('creates an app and shows its credentials, which the copy buttons copy exactly', async () => {
    await page.getByLabel('Name (people see it on the consent screen)').fill('Shop');
    await page.getByLabel('Origins').fill(SHOP_ORIGIN);
    await page.getByLabel('Return URLs').fill(SHOP_RETURN_URL);
    await press(page, 'Create app');

    await heading(page, 'Created Shop');
    appId = await credential(page, 'App ID');
    firstSecretKey = await credential(page, 'Secret Key');
    assert.match(appId, /^[0-9a-f-]{36}$/);
    assert.match(firstSecretKey, /^[A-Za-z0-9+/=]{200,}$/);
    assert.equal(await copyWith(page, 'Copy App ID'), appId);
    assert.equal(await copyWith(page, 'Copy Secret Key'), firstSecretKey);
    appUrl = `${base}/dashboard/apps/${appId}`;
  });

  it('refuses an app with an invalid origin, says why next to the field, and creates nothing', async () => {
    await follow(page, 'Your apps');
    await heading(page, 'Your apps');
    assert.deepEqual(await listedApps(page), ['Shop']);

    await page.getByLabel('Name (people see it on the consent screen)').fill('Broken');
    await page.getByLabel('Origins').fill('ftp://x');
    await page.getByLabel('Return URLs').fill(SHOP_RETURN_URL);
    await press(page, 'Create app');

    await heading(page, 'Your apps');
    const origins = page.getByLabel('Origins');
    assert.equal(await origins.getAttribute('aria-invalid'), 'true');
    assert.match(await descriptionOf(origins), /"ftp:\/\/x" is not an origin/);
    assert.equal(await origins.inputValue(), 'ftp://x', 'what was entered is shown again');
    assert.deepEqual(await listedApps(page), ['Shop']);

    await page.goto(`${base}/dashboard`);
    await heading(page, 'Your apps');
    assert.deepEqual(await listedApps(page), ['Shop'], 'still only the first app after a reload');
  });

  it('the copied credentials let a server client connect over HTTP', async () => {
    const response = await serverClient(firstSecretKey).connect(connectBody());
    assert.equal(response.status, 201, JSON.stringify(response.body));
  });

  it('turns on server-only and IP protection, and the warnings about them go away', async () => {
    await follow(page, 'Shop');
    await heading(page, 'Shop');
    assert.equal(await credential(page, 'App ID'), appId);
    const before = await warnings(page);
    assert.ok(before.some((w) => w.startsWith('Server-only protection is off')), before.join('\n'));
    assert.ok(before.some((w) => w.startsWith('IP protection is off')), before.join('\n'));
    assert.ok(!before.some((w) => w.startsWith('Domain protection is off')), 'a new app starts with domain protection on');

    await page.getByLabel('Accept only signed server-to-server calls').check();
    await page.getByLabel('Only listed addresses').check();
    await saveProtections('127.0.0.1');

    assert.equal(await notice(page), 'Protections saved.');
    assert.deepEqual(await warnings(page), []);
    await page.getByText('Every protection is on.').waitFor();
    assert.equal(await page.getByLabel('Addresses and subnets').inputValue(), '127.0.0.1');

    const response = await serverClient(firstSecretKey).connect(connectBody());
    assert.equal(response.status, 201, JSON.stringify(response.body));
  });

  for (const [entry, reason] of [
    ['10.0.0.1/8', 'host bits are set after the /8 prefix: did you mean 10.0.0.0/8?'],
    ['999.1.1.1', 'not an IPv4 or IPv6 address'],
  ] as const) {
    it(`refuses the IP entry ${entry} next to the field and saves nothing`, async () => {
      // Also switch server-only off in the same submission: a refused form saves none of it.
      await page.getByLabel('Accept only signed server-to-server calls').uncheck();
      await saveProtections(`127.0.0.1\n${entry}`);

      const field = page.getByLabel('Addresses and subnets');
      assert.equal(await field.getAttribute('aria-invalid'), 'true');
      assert.ok((await descriptionOf(field)).includes(`"${entry}": ${reason}`), await descriptionOf(field));
      assert.equal(await field.inputValue(), `127.0.0.1\n${entry}`, 'what was entered is shown again');
      assert.equal(await page.getByText('Protections saved.').count(), 0);

      await page.goto(appUrl);
      await heading(page, 'Shop');
      assert.equal(await page.getByLabel('Addresses and subnets').inputValue(), '127.0.0.1', 'the stored list is the old one');
      assert.equal(await page.getByLabel('Accept only signed server-to-server calls').isChecked(), true);
      assert.deepEqual(await warnings(page), []);
    });
  }

  it('refuses the server client when its address is not listed, and accepts it again once restored', async () => {
    await saveProtections('192.0.2.1');
    assert.equal(await notice(page), 'Protections saved.');
    const refused = await serverClient(firstSecretKey).connect(connectBody());
    assert.equal(refused.status, 403);
    assert.equal(refused.body.debug.code, 'ip_not_allowed');

    await saveProtections('127.0.0.1');
    assert.equal(await notice(page), 'Protections saved.');
    const accepted = await serverClient(firstSecretKey).connect(connectBody());
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
  });

  it('rotates the Secret Key with a day of grace: the old key works for that day, then only the new one', async () => {
    await page.getByLabel('Keep the current Secret Key working for').selectOption({ label: '1 day' });
    await press(page, 'Issue a new Secret Key');

    await heading(page, 'New Secret Key for Shop');
    assert.equal(await credential(page, 'App ID'), appId);
    const newSecretKey = await credential(page, 'Secret Key');
    assert.notEqual(newSecretKey, firstSecretKey);
    assert.equal(await copyWith(page, 'Copy Secret Key'), newSecretKey);

    const during = await serverClient(firstSecretKey).connect(connectBody());
    assert.equal(during.status, 201, `the old key during its grace day: ${JSON.stringify(during.body)}`);

    await follow(page, "Continue to the app's settings");
    await heading(page, 'Shop');
    await page.getByText(/A previous Secret Key keeps working until \d{1,2} [A-Z][a-z]{2,3} \d{4}, \d\d:\d\d UTC\./).waitFor();

    keygate.clock.advance(A_DAY + 60);
    const oldKey = await serverClient(firstSecretKey).connect(connectBody());
    assert.equal(oldKey.status, 401);
    assert.equal(oldKey.body.debug.code, 'bad_signature');
    const newKey = await serverClient(newSecretKey).connect(connectBody());
    assert.equal(newKey.status, 201, JSON.stringify(newKey.body));
  });

  it('makes the app private and invites someone in Czech, by email', async () => {
    // A day has passed on Keygate's clock: the dashboard session has gone idle.
    await page.goto(appUrl);
    await page.waitForURL(`${base}/dashboard/sign-in`);
    await signIn();
    await follow(page, 'Shop');
    await heading(page, 'Shop');
    assert.equal(await page.getByText(/A previous Secret Key keeps working/).count(), 0, 'the retired key is no longer listed');

    await press(page, 'Make private');
    assert.equal(await notice(page), 'The app is private: only its owners and the people on its list may sign in.');
    await page.getByText('Nobody is on the list yet.').waitFor();

    await page.getByLabel('Invite by email').fill('guest@example.cz');
    await page.getByLabel('Language of the invitation').selectOption({ label: 'Čeština' });
    await press(page, 'Send invitation');

    assert.equal(await notice(page), 'Added to the list, and the invitation was emailed.');
    const members = page.getByRole('region', { name: 'Private app' }).getByRole('listitem');
    assert.deepEqual((await members.allTextContents()).map((m) => m.trim().split('\n')[0]), ['guest@example.cz']);
    await page.getByRole('button', { name: 'Remove guest@example.cz' }).waitFor();

    const invitation = await smtp.waitFor((mail) => mail.to.includes('guest@example.cz'));
    assert.equal(invitation.subject, 'Pozvánka do aplikace Shop');
    // The mail links to Keygate's own page for the app, which links on to the app.
    const link = /https?:\/\/\S+\/invitations\/\S+/.exec(invitation.text)?.[0];
    assert.ok(link?.startsWith(base), invitation.text);
    const landing = await page.context().newPage();
    await landing.goto(link!);
    await landing.getByRole('heading', { name: 'Invitation to Shop' }).waitFor();
    assert.equal(await landing.getByRole('link', { name: SHOP_ORIGIN }).getAttribute('href'), SHOP_ORIGIN);
    await landing.close();
  });

  it('renames the app, then deletes it once its name is typed', async () => {
    await page.getByLabel('Name', { exact: true }).fill('Shop Deluxe');
    await press(page, 'Rename');
    assert.equal(await notice(page), 'Renamed.');
    await heading(page, 'Shop Deluxe');

    await follow(page, 'Your apps');
    await heading(page, 'Your apps');
    assert.deepEqual(await listedApps(page), ['Shop Deluxe']);

    await follow(page, 'Shop Deluxe');
    await heading(page, 'Shop Deluxe');
    await page.getByLabel("Type the app's name to delete it").fill('Shop');
    await press(page, 'Delete app');
    const confirm = page.getByLabel("Type the app's name to delete it");
    assert.equal(await confirm.getAttribute('aria-invalid'), 'true');
    assert.equal(await descriptionOf(confirm), 'Type "Shop Deluxe" exactly to delete the app.');

    await confirm.fill('Shop Deluxe');
    await press(page, 'Delete app');
    await heading(page, 'Your apps');
    assert.equal(await notice(page), 'Shop Deluxe was deleted.');
    await page.getByText('You have no apps yet.').waitFor();
    assert.deepEqual(await listedApps(page), []);

    const gone = await serverClient(firstSecretKey).connect(connectBody());
    assert.equal(gone.status, 404, 'the deleted app no longer answers');
  });

  it('raised no page errors and no Content Security Policy violations', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspViolations, []);
  });
});
