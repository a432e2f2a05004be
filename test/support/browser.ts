import { chromium, type Browser, type BrowserContextOptions } from 'playwright-core';
import { freePort } from './ports.js';
import { startTestKeygate } from './test-keygate.js';

/** Debian's Chromium, headless, with a fresh profile, cut off from everything but this machine. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/**
 * A Keygate served over HTTP on a free port, and one Chromium page that records page
 * errors and CSP violations (`problems`) — what a browser test of the pages needs.
 */
export async function startBrowserSession(options: { contextOptions?: BrowserContextOptions; chosenLanguage?: 'en' | 'cs' | 'de' | null } = {}) {
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const keygate = await startTestKeygate({ env: { KEYGATE_PUBLIC_URL: base, PORT: String(port) } });
  await keygate.http.listen({ host: '127.0.0.1', port });
  // A browser that cannot start must not leave the server holding the test process open.
  const browser = await launchChromium().catch(async (error: unknown) => {
    await keygate.close();
    throw error;
  });
  const context = await browser.newContext(options.contextOptions);
  // The language this browser chose with the pages' switch (see GatewayVisitor): English unless told otherwise.
  const language = options.chosenLanguage === undefined ? 'en' : options.chosenLanguage;
  if (language) await context.addCookies([{ name: 'keygate-language', value: language, url: base }]);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => { if (message.text().includes('Content Security Policy')) problems.push(message.text()); });
  /** Clicks a button and waits for the page it leads to. */
  const submit = async (name: string) => {
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name, exact: true }).click()]);
  };
  return {
    keygate, browser, page, base, problems, submit,
    async close() {
      await browser.close();
      await keygate.close();
    },
  };
}
