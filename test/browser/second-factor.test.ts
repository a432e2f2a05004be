import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { totpCodeAt } from '../../src/crypto/totp.js';
import { startBrowserSession } from '../support/browser.js';
import type { TestKeygate } from '../support/test-keygate.js';

const EMAIL = 'second.factor@example.cz';
const PASSWORD = 'quartz-meadow-harbor-2026';

describe('the second factor in headless Chromium: enrolment, then sign-in with a code', () => {
  let session: Awaited<ReturnType<typeof startBrowserSession>>;
  let keygate: TestKeygate;
  let page: Page;
  let base: string;

  before(async () => {
    session = await startBrowserSession();
    ({ keygate, page, base } = session);
  });
  after(() => session?.close());

  const submit = (name: string) => session.submit(name);

  it('enrols an authenticator app and asks for its code at the next sign-in', async () => {
    await page.goto(`${base}/account/sign-up`);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('First name').fill('Zdeňka');
    await page.getByLabel('Surname').fill('Malá');
    await page.getByLabel('Country').selectOption('CZ');
    await page.getByLabel('Language').selectOption('cs');
    await submit('Create account');
    await page.getByLabel('Code from the email').fill(await keygate.outbox.code(EMAIL));
    await submit('Continue');
    await page.getByRole('heading', { name: 'Your profile' }).waitFor();
    await page.goto(`${base}/account/security`);

    await page.getByLabel('Your password, to set it up').fill(PASSWORD);
    await submit('Set up an authenticator app');
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    const secret = (await page.locator('#totp-secret').textContent())!.replace(/\s+/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await page.getByLabel('Code from the app').fill(totpCodeAt(secret, keygate.clock.now()));
    await submit('Turn on');
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    assert.equal(await page.locator('#recovery-codes li').count(), 10);

    await page.goto(`${base}/account/security`);
    await submit('Sign out');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    keygate.clock.advance(30);
    await page.getByLabel('Email or nickname').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await submit('Sign in');
    await page.getByRole('heading', { name: 'Second step' }).waitFor();
    await page.getByLabel('Code from your authenticator app').fill('000000' === totpCodeAt(secret, keygate.clock.now()) ? '111111' : '000000');
    await submit('Verify');
    await page.getByRole('alert').filter({ hasText: 'not right' }).waitFor();
    await page.getByLabel('Code from your authenticator app').fill(totpCodeAt(secret, keygate.clock.now()));
    await submit('Verify');
    await page.getByRole('heading', { name: 'Your profile' }).waitFor();
    await page.goto(`${base}/account/security`);
    assert.match(await page.locator('main').textContent() ?? '', /Recovery codes left: 10/);
    assert.deepEqual(session.problems, []);
  });
});
