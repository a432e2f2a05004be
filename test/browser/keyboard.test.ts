import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startBrowserSession } from '../support/browser.js';
import type { TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const EMAIL = 'radek.kral@example.cz';
const PASSWORD = 'cobalt-lantern-meadow-2026';
const SHOP_ORIGIN = 'https://shop.example.org';
const SHOP_RETURN_URL = `${SHOP_ORIGIN}/callback/`;

/** What has focus, as a screen reader would name it: "button Allow", "textbox Email", "link Create an account". */
const focused = (page: Page): Promise<string> => page.evaluate(() => {
  const element = document.activeElement as HTMLElement | null;
  if (!element || element === document.body) return 'nothing';
  const labelled = (element as HTMLInputElement).labels?.[0]?.textContent;
  const role = element instanceof HTMLAnchorElement ? 'link'
    : element instanceof HTMLButtonElement ? 'button'
      : element instanceof HTMLSelectElement ? 'combobox'
        : element instanceof HTMLInputElement && element.type === 'checkbox' ? 'checkbox'
          : element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement ? 'textbox' : element.tagName.toLowerCase();
  return `${role} ${(labelled ?? element.textContent ?? '').replace(/\s+/g, ' ').trim()}`;
});

/**
 * Whether the focused element is drawn with a clear focus indicator: a box shadow, or an
 * outline at least 2 CSS pixels thick (WCAG 2.4.13), not the browser's thin default ring.
 */
const focusIsVisible = (page: Page): Promise<boolean> => page.evaluate(() => {
  const style = getComputedStyle(document.activeElement!);
  return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) || style.boxShadow !== 'none';
});

describe('a person who uses only the keyboard signs up, allows an app and signs out', () => {
  let session: Awaited<ReturnType<typeof startBrowserSession>>;
  let keygate: TestKeygate;
  let page: Page;
  let base: string;
  let gateway: string;

  before(async () => {
    session = await startBrowserSession();
    ({ keygate, page, base } = session);
    const app = await keygate.services.apps.createApp({ name: 'Shop', origins: [SHOP_ORIGIN], returnUrls: [SHOP_RETURN_URL] });
    const shop = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, SHOP_ORIGIN);
    const connect = await shop.connect({ request_id: 'keyboard-1', scope: ['firstname', 'country!'], return_url: SHOP_RETURN_URL });
    gateway = new URL(connect.body.gateway).pathname;
    // The app's own site, where the gateway sends people back.
    await page.context().route(`${SHOP_ORIGIN}/**`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><html lang="en"><title>Shop</title><h1>Shop</h1></html>' }));
  });
  after(() => session?.close());

  /** Presses `key` until `target` has focus, as a person moves through the page; fails after 40 presses. */
  async function moveTo(target: string, key: 'Tab' | 'Shift+Tab' = 'Tab'): Promise<void> {
    const seen: string[] = [];
    for (let presses = 0; presses < 40; presses++) {
      await page.keyboard.press(key);
      const now = await focused(page);
      if (now === target) return;
      seen.push(now);
    }
    assert.fail(`${target} never got focus with ${key}; focus went through: ${seen.join(' → ')}`);
  }

  /** Moves to a field and types into it. */
  async function typeInto(field: string, text: string): Promise<void> {
    await moveTo(field);
    await page.keyboard.type(text);
  }

  /** Presses a key that loads the next page, and waits for it. */
  async function pressAndLoad(key: 'Enter' | 'Space'): Promise<void> {
    await Promise.all([page.waitForEvent('load'), page.keyboard.press(key)]);
  }

  it('reaches the sign-up form from the sign-in page, with a visible focus on the link', async () => {
    await page.goto(`${base}${gateway}`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // From the top of the page, Shift+Tab wraps round to its last control.
    await moveTo('link Create an account', 'Shift+Tab');
    assert.ok(await focusIsVisible(page), 'the focused link is outlined');
    await pressAndLoad('Enter');
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
  });

  it('fills the sign-up form and the emailed code by typing, with a visible focus on the button', async () => {
    await typeInto('textbox Email', EMAIL);
    await typeInto('textbox Password', PASSWORD);
    await typeInto('textbox First name', 'Radek');
    await typeInto('textbox Surname', 'Král');
    // A closed list picks the option whose name is typed.
    await typeInto('combobox Country', 'Czechia');
    await typeInto('combobox Language', 'Czech');
    assert.equal(await page.getByLabel('Country').inputValue(), 'CZ');
    assert.equal(await page.getByLabel('Language').inputValue(), 'cs');
    await moveTo('button Create account');
    assert.ok(await focusIsVisible(page), 'the focused button is outlined');
    await pressAndLoad('Enter');

    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await typeInto('textbox Code from the email', await keygate.outbox.code(EMAIL));
    // Enter in a field submits its form.
    await pressAndLoad('Enter');
    await page.getByRole('heading', { name: 'Allow Shop to sign you in?' }).waitFor();
  });

  it('ticks the required field with Space and allows with Enter', async () => {
    await moveTo('checkbox Country (required)');
    assert.ok(await focusIsVisible(page), 'the focused checkbox is outlined');
    await page.keyboard.press('Space');
    assert.equal(await page.getByLabel('Country').isChecked(), true);
    await moveTo('button Allow');
    await pressAndLoad('Enter');
    await page.waitForURL((url) => url.href.startsWith(SHOP_RETURN_URL));
  });

  it('signs out in the account centre with Space on the button', async () => {
    await page.goto(`${base}/account/profile`);
    await page.getByRole('heading', { name: 'Your profile' }).waitFor();
    await moveTo('button Sign out');
    assert.ok(await focusIsVisible(page), 'the focused sign-out button is outlined');
    await pressAndLoad('Space');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.goto(`${base}/account/profile`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.deepEqual(session.problems, []);
  });
});
