import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cs } from '../../src/i18n/cs.js';
import { de } from '../../src/i18n/de.js';
import { en } from '../../src/i18n/en.js';
import { createApp, developer } from '../support/dashboard-visitor.js';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://shop.example.org';
const RETURN_URL = `${ORIGIN}/back/`;
const KEYS = Object.keys(en);

/** The words a person reads: no markup, no code samples, no values a developer copies. */
const visibleText = (page: string): string => page
  .replace(/<(code|pre|script|style|title)\b[\s\S]*?<\/\1>/g, ' ')
  .replace(/<[^>]+>/g, ' ')
  .replace(/&[a-z#0-9]+;/g, ' ');

/** Fails when a page prints a catalogue key, an unformatted value, or (not in English) English prose. */
function assertSpeaks(language: 'en' | 'cs' | 'de', page: string, what: string): void {
  assert.match(page, new RegExp(`<html lang="${language}">`), `${what}: <html lang>`);
  const text = visibleText(page);
  const printedKey = KEYS.find((key) => text.includes(key));
  assert.equal(printedKey, undefined, `${what} prints the key ${printedKey}`);
  assert.doesNotMatch(text, /undefined|NaN|\[object |\{[a-z]+\}/, `${what}: an unformatted value`);
  if (language !== 'en') {
    // Names of languages and countries come from Intl; what was recorded (an audit purpose) is shown as recorded.
    const prose = visibleText(page.replace(/<select\b[\s\S]*?<\/select>/g, ' ').replace(/<span class="fine recorded">[\s\S]*?<\/span>/g, ' '));
    const english = /\b(the|your|you|and|with|this|here|from|sign in)\b/i.exec(prose);
    assert.equal(english, null, `${what} in ${language} still has English "${english?.[0]}": …${english ? prose.slice(Math.max(0, english.index - 60), english.index + 60).replace(/\s+/g, ' ') : ''}…`);
  }
}

describe('pages in English, Czech and German', () => {
  let keygate: TestKeygate;
  let shop: Ukey1ServerClient;

  before(async () => {
    keygate = await startTestKeygate();
    const app = await keygate.services.apps.createApp({ name: 'Shop', origins: [ORIGIN], returnUrls: [RETURN_URL] });
    shop = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
  });
  after(() => keygate.close());

  const gatewayPath = async (scope: string[] = ['firstname', 'country!']) => {
    const connect = await shop.connect({ request_id: `r-${Math.random()}`, scope, return_url: RETURN_URL });
    assert.equal(connect.status, 201);
    return `/gateway/${connectIdOf(connect.body.gateway)}`;
  };

  it('gives a signed-out visitor German pages for Accept-Language: de, Czech for cs-CZ, English for anything else', async () => {
    const visitor = new GatewayVisitor(keygate.http, { chosenLanguage: null });
    const gateway = await gatewayPath();
    for (const path of ['/', '/account/sign-in', '/dashboard/sign-up', gateway, `${gateway}?signup=1`]) {
      const german = await visitor.get(path, { 'accept-language': 'de-AT, de;q=0.9, en;q=0.5' });
      assert.equal(german.status, 200, path);
      assertSpeaks('de', german.html, `${path} for de-AT`);
      assertSpeaks('cs', (await visitor.get(path, { 'accept-language': 'cs-CZ' })).html, `${path} for cs-CZ`);
      assertSpeaks('en', (await visitor.get(path, { 'accept-language': 'fr, ja;q=0.5' })).html, `${path} for fr`);
      assertSpeaks('en', (await visitor.get(path)).html, `${path} without Accept-Language`);
    }
    const signIn = await visitor.get('/account/sign-in', { 'accept-language': 'de' });
    assert.ok(signIn.html.includes(`<h1>${de['signIn.title']}</h1>`));
  });

  it('follows ui_locales over Accept-Language', async () => {
    const visitor = new GatewayVisitor(keygate.http, { chosenLanguage: null });
    const page = await visitor.get(`${await gatewayPath()}?ui_locales=cs%20de`, { 'accept-language': 'de' });
    assertSpeaks('cs', page.html, 'the gateway with ui_locales=cs de');
  });

  it('switches language from the footer, back to the same page, and keeps it; only to a page of this server', async () => {
    const visitor = new GatewayVisitor(keygate.http, { chosenLanguage: null });
    const gateway = await gatewayPath();
    const page = await visitor.get(gateway, { 'accept-language': 'en' });
    const back = encodeURIComponent(gateway);
    assert.ok(page.html.includes(`<a href="/language/cs?back=${back}" lang="cs" hreflang="cs">Čeština</a>`), 'the footer links to Czech by its own name');
    assert.ok(page.html.includes(`<a href="/language/de?back=${back}" lang="de" hreflang="de">Deutsch</a>`));
    const switched = await visitor.get(`/language/cs?back=${back}`);
    assert.equal(switched.status, 303);
    assert.equal(switched.headers.location, gateway);
    assertSpeaks('cs', (await visitor.get(gateway, { 'accept-language': 'de' })).html, 'the gateway after switching to Czech');
    assertSpeaks('cs', (await visitor.get('/account/sign-in')).html, 'another page after switching to Czech');

    // A form's action leads to the page above it; anything not of this server, home.
    assert.equal((await visitor.get(`/language/de?back=${encodeURIComponent(`${gateway}/consent`)}`)).headers.location, gateway);
    for (const foreign of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '']) {
      assert.equal((await visitor.get(`/language/en?back=${encodeURIComponent(foreign)}`)).headers.location, '/', foreign);
    }
    const unknown = await visitor.get('/language/xx?back=%2Faccount%2Fsign-in');
    assert.equal(unknown.status, 303, 'an unknown language changes nothing');
    assertSpeaks('en', (await visitor.get('/account/sign-in')).html, 'the last language chosen, English');
  });

  it('speaks the signed-in person’s language, unless this browser chose another', async () => {
    const fresh = new GatewayVisitor(keygate.http, { chosenLanguage: null });
    await fresh.get('/dashboard/sign-up');
    await fresh.signUp('/dashboard', { ...SIGN_UP_JANA, email: 'petra.dvorakova@example.cz', language: 'cs' }, keygate.outbox);
    assertSpeaks('cs', (await fresh.get('/dashboard', { 'accept-language': 'en' })).html, 'the dashboard of a Czech person');

    const chose = new GatewayVisitor(keygate.http, { chosenLanguage: 'de' });
    await chose.get('/dashboard/sign-up');
    await chose.signUp('/dashboard', { ...SIGN_UP_JANA, email: 'tomas.cerny@example.cz', language: 'cs' }, keygate.outbox);
    assertSpeaks('de', (await chose.get('/dashboard')).html, 'the dashboard of a Czech person in a browser that chose German');
  });

  it('forgets the account’s language at sign-out, and keeps a chosen one when the profile is saved unchanged', async () => {
    const visitor = new GatewayVisitor(keygate.http, { chosenLanguage: null });
    await visitor.get('/dashboard/sign-up');
    await visitor.signUp('/dashboard', { ...SIGN_UP_JANA, email: 'eva.mala@example.cz', language: 'cs' }, keygate.outbox);
    assertSpeaks('cs', (await visitor.get('/account/profile')).html, 'the profile of a Czech person');
    await visitor.get('/language/de?back=%2Faccount%2Fprofile');
    const profile = await visitor.get('/account/profile');
    assertSpeaks('de', profile.html, 'the profile after choosing German');
    const saved = await visitor.post('/account/profile', { firstname: 'Eva', surname: 'Malá', language: 'cs', language_shown: 'cs' });
    assert.equal(saved.status, 200);
    assertSpeaks('de', saved.html, 'the profile saved with its language unchanged');

    const other = new GatewayVisitor(keygate.http, { chosenLanguage: null });
    await other.get('/dashboard/sign-up');
    await other.signUp('/dashboard', { ...SIGN_UP_JANA, email: 'jan.maly@example.cz', language: 'cs' }, keygate.outbox);
    assertSpeaks('cs', (await other.get('/dashboard')).html, 'signed in');
    await other.post('/dashboard/sign-out', {});
    assertSpeaks('en', (await other.get('/dashboard/sign-in')).html, 'signed out, the next person gets the browser’s language');
  });

  it('preselects the browser’s language on the sign-up form, among every language a profile may have', async () => {
    const visitor = new GatewayVisitor(keygate.http, { chosenLanguage: null });
    const page = await visitor.get('/account/sign-up', { 'accept-language': 'pl-PL, pl;q=0.9, en;q=0.8' });
    assertSpeaks('en', page.html, 'sign-up for a Polish browser');
    assert.match(page.html, /<option value="pl" selected>Polish<\/option>/);
    const czech = await visitor.get('/account/sign-up', { 'accept-language': 'cs' });
    assert.match(czech.html, /<option value="cs" selected>čeština<\/option>/);
    assert.match(czech.html, /<option value="DE">Německo<\/option>/, 'countries are named in the page language');
  });

  for (const language of ['en', 'cs', 'de'] as const) {
    it(`renders every page in ${language} without a missing key or left-over English`, async () => {
      const person = await developer(keygate, `every-page-${language}@example.org`);
      person.cookies.set('keygate-language', language);
      const pages: Array<[string, string]> = [];
      const visit = async (path: string, expected = 200) => {
        const page = await person.get(path);
        assert.equal(page.status, expected, path);
        pages.push([path, page.html]);
        return page;
      };
      await visit('/');
      await visit('/dashboard');
      const { appId } = await createApp(person, `Shop ${language}`);
      await visit(`/dashboard/apps/${appId}`);
      for (const section of ['profile', 'apps', 'activity', 'sessions', 'security', 'data']) await visit(`/account/${section}`);
      await visit(await gatewayPath(['firstname', 'surname', 'country!']));
      await visit(`/gateway/00000000-0000-4000-8000-000000000000`, 404);
      await visit('/no/such/page', 404);
      await visit('/reset/not-a-token', 410);
      for (const [path, html] of pages) assertSpeaks(language, html, path);

      const signedOut = new GatewayVisitor(keygate.http, { chosenLanguage: language });
      const gateway = await gatewayPath();
      for (const path of [gateway, `${gateway}?signup=1`, `${gateway}/email-code`, `${gateway}/forgot`, '/dashboard/sign-in', '/account/sign-up']) {
        const page = await signedOut.get(path);
        assert.equal(page.status, 200, path);
        assertSpeaks(language, page.html, path);
      }
      const refused = await signedOut.post(`${gateway}/sign-in`, { email: 'nobody@example.org', password: 'wrong password' });
      assertSpeaks(language, refused.html, 'a refused sign-in');
      const invalid = await signedOut.post(`${gateway}/sign-up`, { email: 'x', password: 'short', firstname: '', surname: '', country: 'XX', language: '' });
      assertSpeaks(language, invalid.html, 'a refused sign-up');
      assert.ok(invalid.html.includes({ en, cs, de }[language]['signUp.invalidEmail']));
      assert.match(invalid.html, /<div class="error-summary" role="alert"[^>]*>[\s\S]*<a href="#email">[\s\S]*<a href="#password">/, 'a summary links to each wrong field');
    });
  }

  it('writes dates the way the page language does', async () => {
    const person = await developer(keygate, 'dates@example.org');
    person.cookies.set('keygate-language', 'de');
    const sessions = await person.get('/account/sessions');
    assert.match(visibleText(sessions.html), /\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} UTC/);
    person.cookies.set('keygate-language', 'en');
    assert.match(visibleText((await person.get('/account/sessions')).html), /\d{1,2} [A-Z][a-z]{2,3} \d{4}, \d{2}:\d{2} UTC/);
  });
});
