import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { startBrowserSession } from '../support/browser.js';
import type { TestKeygate } from '../support/test-keygate.js';
import { jpegWithGps } from '../support/images.js';

const EMAIL = 'centre.browser@example.cz';
const NEW_EMAIL = 'katka.horakova@example.org';
const PASSWORD = 'violet-harbor-lantern-2026';

describe('the account centre in headless Chromium', () => {
  let session: Awaited<ReturnType<typeof startBrowserSession>>;
  let keygate: TestKeygate;
  let page: Page;
  let base: string;

  before(async () => {
    session = await startBrowserSession({ contextOptions: { acceptDownloads: true } });
    ({ keygate, page, base } = session);
  });
  after(() => session?.close());

  const submit = (name: string) => session.submit(name);
  const open = async (link: string) => {
    await Promise.all([page.waitForEvent('load'), page.getByRole('link', { name: link, exact: true }).click()]);
  };

  it('creates an account and edits the profile, with a picture stripped of its GPS position', async () => {
    await page.goto(`${base}/account`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await open('Create an account');
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('First name').fill('Kateřina');
    await page.getByLabel('Surname').fill('Horáková');
    await page.getByLabel('Country').selectOption('CZ');
    await page.getByLabel('Language').selectOption('cs');
    await submit('Create account');
    await page.getByLabel('Code from the email').fill(await keygate.outbox.code(EMAIL));
    await submit('Continue');
    await page.getByRole('heading', { name: 'Your profile' }).waitFor();

    await page.getByLabel('First name').fill('Katka');
    await submit('Save');
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    assert.equal(await page.getByLabel('First name').inputValue(), 'Katka');

    await page.getByLabel(/New picture/).setInputFiles({ name: 'holiday.jpg', mimeType: 'image/jpeg', buffer: await jpegWithGps() });
    await submit('Upload');
    await page.getByRole('status').filter({ hasText: 'Picture saved' }).waitFor();
    const picture = page.getByRole('img', { name: 'Your profile picture' });
    await picture.waitFor();
    assert.equal(await picture.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), 512);
    const served = await page.request.get(`${base}/account/image`);
    const metadata = await sharp(await served.body()).metadata();
    assert.equal(metadata.exif, undefined, 'the served picture has no EXIF, so no GPS');
  });

  it('moves the account to the United States zone when the country changes, picture and history included', async () => {
    await page.getByRole('combobox', { name: 'Country' }).selectOption('US');
    await page.getByLabel('Your password, to confirm the move').fill(PASSWORD);
    await submit('Change country');
    await page.getByRole('status').filter({ hasText: 'now lives in the United States zone' }).waitFor();
    const person = (await keygate.services.personDirectory.findByEmail(EMAIL))!;
    assert.equal(person.zone, 'us');
    assert.equal((await keygate.stores.zones.eu.db.selectFrom('people').select('id').where('id', '=', person.id).execute()).length, 0);
    const picture = page.getByRole('img', { name: 'Your profile picture' });
    assert.equal(await picture.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), 512, 'the picture moved too');
    assert.equal(await page.getByRole('combobox', { name: 'Country' }).inputValue(), 'US');
  });

  it('changes the sign-in email with a code sent to the new address', async () => {
    await page.getByLabel('New email').fill(NEW_EMAIL);
    await page.getByLabel('Your password, to confirm the change').fill(PASSWORD);
    await submit('Change email');
    await page.getByRole('heading', { name: 'Confirm your new email' }).waitFor();
    await page.getByLabel('Code from the email').fill(await keygate.outbox.code(NEW_EMAIL));
    await submit('Confirm');
    await page.getByRole('status').filter({ hasText: `Your sign-in email is now ${NEW_EMAIL}` }).waitFor();
    assert.equal(await keygate.services.personDirectory.findByEmail(EMAIL), null);
    assert.equal((await keygate.services.personDirectory.findByEmail(NEW_EMAIL))?.zone, 'us');
  });

  it('shows connected apps, the activity timeline and sessions', async () => {
    await open('Connected apps');
    await page.getByText('No app can read anything about you.').waitFor();
    await open('Who read my data');
    await page.getByRole('heading', { name: 'Who read my data' }).waitFor();
    assert.match(await page.locator('ol.timeline').textContent() ?? '', /You created your account/);
    await open('Sessions');
    await page.getByText('This browser').waitFor();
  });

  it('exports the data after the password, then deletes the account', async () => {
    await open('Export or delete');
    await page.getByLabel('Your password, to confirm it is you').fill('not the password');
    await submit('Download my data');
    await page.getByText('This password is not right.').waitFor();
    await page.getByLabel('Your password, to confirm it is you').fill(PASSWORD);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download my data' }).click()]);
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    assert.equal(exported.profile.email, NEW_EMAIL);
    assert.equal(exported.profile.firstname, 'Katka');

    await page.getByLabel('Your password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Type DELETE to confirm').fill('DELETE');
    await submit('Delete my account');
    await page.getByRole('heading', { name: 'Your account is deleted' }).waitFor();
    assert.equal(await keygate.services.personDirectory.findByEmail(NEW_EMAIL), null);
    assert.deepEqual(session.problems, []);
  });
});
