import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { signRequest, Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://app.example.org';
const RETURN_URL = 'https://app.example.org/callback/';

describe('bad input on the API: a clear 4xx envelope, nothing written', () => {
  let keygate: TestKeygate;
  let client: Ukey1ServerClient;

  before(async () => {
    keygate = await startTestKeygate();
    const app = await keygate.services.apps.createApp({ name: 'Strict App', origins: [ORIGIN], returnUrls: [RETURN_URL] });
    client = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
  });
  after(() => keygate.close());

  const connectRows = async () => (await keygate.stores.control.db.selectFrom('connect_requests').select('id').execute()).length;

  async function expectRefusal(response: { status: number; body: any }, status: number, code: string) {
    assert.equal(response.status, status, JSON.stringify(response.body));
    assert.equal(response.body.result, status);
    assert.equal(response.body.debug.code, code);
    assert.equal(typeof response.body.debug.message, 'string');
    assert.doesNotMatch(JSON.stringify(response.body), /at .*\.ts:\d+|stack/i);
  }

  /** A signed POST with an arbitrary raw body, as a client that got its JSON wrong would send. */
  async function signedRaw(path: string, rawBody: string | Buffer, headers: Record<string, string> = {}) {
    const response = await keygate.http.inject({
      method: 'POST',
      url: path,
      headers: {
        'x-ukey1-app': client.appId,
        'x-ukey1-signature': signRequest(client.secretKey, { appId: client.appId, method: 'POST', path, rawBody }),
        'x-origin': ORIGIN,
        'content-type': 'application/json',
        ...headers,
      },
      payload: rawBody,
    });
    return { status: response.statusCode, body: response.json() };
  }

  it('accepts a signed body sent with no Content-Type at all', async () => {
    const raw = JSON.stringify({ request_id: 'no-ct', scope: ['email'], return_url: RETURN_URL });
    const response = await keygate.http.inject({
      method: 'POST',
      url: '/auth/v2/connect',
      headers: {
        'x-ukey1-app': client.appId,
        'x-ukey1-signature': signRequest(client.secretKey, { appId: client.appId, method: 'POST', path: '/auth/v2/connect', rawBody: raw }),
        'x-origin': ORIGIN,
      },
      payload: raw,
    });
    assert.equal(response.statusCode, 201, response.body);
  });

  it('accepts a numeric request_id', async () => {
    const response = await client.connect({ request_id: 1234 as unknown as string, scope: [], return_url: RETURN_URL });
    assert.equal(response.status, 201);
  });

  const cases: Array<[string, () => Promise<{ status: number; body: any }>, number, string]> = [
    ['malformed JSON', () => signedRaw('/auth/v2/connect', '{"request_id": "a",'), 400, 'invalid_json'],
    ['invalid UTF-8', () => signedRaw('/auth/v2/connect', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), 400, 'invalid_json'],
    ['an empty body', () => signedRaw('/auth/v2/connect', ''), 400, 'invalid_json'],
    ['a JSON array', () => signedRaw('/auth/v2/connect', '[]'), 400, 'invalid_request'],
    ['scope as a string', () => client.connect({ request_id: 'a', scope: 'email' as unknown as string[], return_url: RETURN_URL }), 400, 'invalid_request'],
    ['request_id as an object', () => client.connect({ request_id: { a: 1 } as unknown as string, scope: [], return_url: RETURN_URL }), 400, 'invalid_request'],
    ['request_id too long', () => client.connect({ request_id: 'x'.repeat(129), scope: [], return_url: RETURN_URL }), 400, 'invalid_request'],
    ['a missing return_url', () => client.call('POST', '/auth/v2/connect', { request_id: 'a', scope: [] }), 400, 'invalid_request'],
    ['a body over 64 KiB', () => signedRaw('/auth/v2/connect', JSON.stringify({ request_id: 'a', scope: [], return_url: RETURN_URL, pad: 'x'.repeat(70 * 1024) })), 413, 'body_too_large'],
    ['a NUL character in request_id', () => client.connect({ request_id: 'a\u0000b', scope: [], return_url: RETURN_URL }), 400, 'invalid_request'],
    ['half a surrogate pair in request_id', () => client.call('POST', '/auth/v2/connect', '{"request_id":"a\\ud800","scope":[],"return_url":"' + RETURN_URL + '"}'), 400, 'invalid_request'],
    ['a malformed percent-encoding in the path', () => keygate.http.inject({ method: 'GET', url: '/auth/v2/%zz' }).then((r) => ({ status: r.statusCode, body: r.json() })), 400, 'invalid_request'],
    ['an unknown scope code', () => client.connect({ request_id: 'a', scope: ['phone'], return_url: RETURN_URL }), 400, 'invalid_scope'],
    ['a mandatory email without approval', () => client.connect({ request_id: 'a', scope: ['email!'], return_url: RETURN_URL }), 400, 'invalid_scope'],
    ['an unregistered return URL', () => client.connect({ request_id: 'a', scope: [], return_url: 'https://evil.example.com/callback/' }), 403, 'return_url_not_allowed'],
    ['a look-alike return URL', () => client.connect({ request_id: 'a', scope: [], return_url: 'https://app.example.org@evil.com/callback/' }), 403, 'return_url_not_allowed'],
    ['a body changed after signing', () => keygate.http.inject({
      method: 'POST', url: '/auth/v2/connect',
      headers: {
        'x-ukey1-app': client.appId, 'x-origin': ORIGIN, 'content-type': 'application/json',
        'x-ukey1-signature': signRequest(client.secretKey, { appId: client.appId, method: 'POST', path: '/auth/v2/connect', rawBody: JSON.stringify({ request_id: 'a', scope: [], return_url: RETURN_URL }) }),
      },
      payload: JSON.stringify({ request_id: 'b', scope: [], return_url: RETURN_URL }),
    }).then((r) => ({ status: r.statusCode, body: r.json() })), 401, 'bad_signature'],
    ['a signature for another endpoint', () => keygate.http.inject({
      method: 'POST', url: '/auth/v2/connect',
      headers: {
        'x-ukey1-app': client.appId, 'x-origin': ORIGIN,
        'x-ukey1-signature': signRequest(client.secretKey, { appId: client.appId, method: 'POST', path: '/auth/v2/token', rawBody: '{}' }),
      },
      payload: '{}',
    }).then((r) => ({ status: r.statusCode, body: r.json() })), 401, 'bad_signature'],
    ['a garbage signature', () => client.call('POST', '/auth/v2/connect', { request_id: 'a', scope: [], return_url: RETURN_URL }, undefined, { 'x-ukey1-signature': '%%%' }), 401, 'bad_signature'],
    ['a missing App ID', () => client.call('POST', '/auth/v2/connect', {}, undefined, { 'x-ukey1-app': '' }), 400, 'missing_app_id'],
    ['a malformed App ID', () => client.call('POST', '/auth/v2/connect', {}, undefined, { 'x-ukey1-app': "1' or '1'='1" }), 400, 'invalid_app_id'],
    ['an unknown App ID', () => client.call('POST', '/auth/v2/connect', {}, undefined, { 'x-ukey1-app': '00000000-0000-4000-8000-000000000000' }), 404, 'unknown_app'],
    ['a signed call from an unlisted X-Origin', () => client.call('POST', '/auth/v2/connect', { request_id: 'a', scope: [], return_url: RETURN_URL }, undefined, { 'x-origin': 'https://app.example.org.evil.com' }), 403, 'origin_not_allowed'],
    ['an unsigned call without a listed Origin', () => keygate.http.inject({
      method: 'POST', url: '/auth/v2/connect', headers: { 'x-ukey1-app': client.appId, origin: 'https://evil.example.com' },
      payload: JSON.stringify({ request_id: 'a', scope: [], return_url: RETURN_URL }),
    }).then((r) => ({ status: r.statusCode, body: r.json() })), 403, 'origin_not_allowed'],
  ];

  for (const [what, send, status, code] of cases) {
    it(`refuses ${what} with ${status} ${code}`, async () => {
      const before = await connectRows();
      await expectRefusal(await send(), status, code);
      assert.equal(await connectRows(), before, 'nothing was written');
    });
  }

  it('refuses a code exchange with the wrong request_id, connect_id or code', async () => {
    const connect = await client.connect({ request_id: 'exchange', scope: [], return_url: RETURN_URL });
    const visitor = new GatewayVisitor(keygate.http);
    const connectId = connectIdOf(connect.body.gateway);
    await visitor.signUp(`/gateway/${connectId}`, { ...SIGN_UP_JANA, email: 'exchange@example.cz' }, keygate.outbox);
    const decided = await visitor.post(`/gateway/${connectId}/consent`, { decision: 'allow' });
    const code = new URL(decided.location!).searchParams.get('_ukey1[code]')!;
    await expectRefusal(await client.token({ request_id: 'other', connect_id: connectId, auth_code: code }), 400, 'invalid_code');
    await expectRefusal(await client.token({ request_id: 'exchange', connect_id: 'not-a-uuid', auth_code: code }), 400, 'invalid_code');
    await expectRefusal(await client.token({ request_id: 'exchange', connect_id: connectId, auth_code: `${code}x` }), 400, 'invalid_code');
    // Failed attempts do not burn the code.
    const ok = await client.token({ request_id: 'exchange', connect_id: connectId, auth_code: code });
    assert.equal(ok.status, 200);

    // Forged tokens: another key, `alg: none`, another app's audience, a tampered payload.
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await new SignJWT({ user: { id: 'x' }, zone: 'eu' }).setProtectedHeader({ alg: 'RS512' })
      .setAudience(client.appId).setIssuer('http://localhost:8080').setJti(crypto.randomUUID()).setExpirationTime('5m').sign(other.privateKey);
    const [header, payload, signature] = ok.body.access_token.split('.');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), scope: ['email'] })).toString('base64url')}.${signature}`;
    for (const token of [forged, none, tampered, 'not.a.jwt', 'x']) {
      await expectRefusal(await client.me(token), 401, 'invalid_token');
    }
    await expectRefusal(await client.call('GET', '/auth/v2/me'), 401, 'missing_token');
    const otherApp = await keygate.services.apps.createApp({ name: 'Other', origins: [ORIGIN], returnUrls: [RETURN_URL] });
    const otherClient = new Ukey1ServerClient(keygate.http, otherApp.appId, otherApp.secretKey, ORIGIN);
    await expectRefusal(await otherClient.me(ok.body.access_token), 401, 'invalid_token');
    assert.equal((await client.me(ok.body.access_token)).status, 200);
  });

  it('answers unknown endpoints and methods with the envelope', async () => {
    const response = await keygate.http.inject({ method: 'GET', url: '/auth/v2/connect' });
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().result, 404);
  });
});

describe('CORS for browser clients', () => {
  let keygate: TestKeygate;
  let appId: string;
  before(async () => {
    keygate = await startTestKeygate();
    ({ appId } = await keygate.services.apps.createApp({ name: 'Browser App', origins: [ORIGIN], returnUrls: [RETURN_URL] }));
  });
  after(() => keygate.close());

  it('answers the preflight for a listed origin, and refuses any other without CORS headers', async () => {
    const ok = await keygate.http.inject({ method: 'OPTIONS', url: '/auth/v2/connect', headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-ukey1-app' } });
    assert.equal(ok.statusCode, 204);
    assert.equal(ok.headers['access-control-allow-origin'], ORIGIN);
    assert.match(String(ok.headers['access-control-allow-headers']), /X-Ukey1-App/);
    for (const origin of ['https://evil.example.com', 'https://app.example.org.evil.com', 'null', 'HTTPS://APP.EXAMPLE.ORG']) {
      const refused = await keygate.http.inject({ method: 'OPTIONS', url: '/auth/v2/connect', headers: { origin, 'access-control-request-method': 'POST' } });
      assert.equal(refused.statusCode, 403, origin);
      assert.equal(refused.headers['access-control-allow-origin'], undefined, origin);
    }
  });

  it('lets a browser on a listed origin connect unsigned, and never echoes an unlisted origin', async () => {
    const body = JSON.stringify({ request_id: 'browser', scope: ['firstname'], return_url: RETURN_URL });
    const ok = await keygate.http.inject({ method: 'POST', url: '/auth/v2/connect', headers: { 'x-ukey1-app': appId, origin: ORIGIN, 'content-type': 'application/json' }, payload: body });
    assert.equal(ok.statusCode, 201);
    assert.equal(ok.headers['access-control-allow-origin'], ORIGIN);
    const evil = await keygate.http.inject({ method: 'POST', url: '/auth/v2/connect', headers: { 'x-ukey1-app': appId, origin: 'https://evil.example.com', 'content-type': 'application/json' }, payload: body });
    assert.equal(evil.statusCode, 403);
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
  });
});

describe('bad input on the gateway pages: the form comes back with the reason, nothing written', () => {
  let keygate: TestKeygate;
  let gateway: string;
  before(async () => {
    keygate = await startTestKeygate();
    const app = await keygate.services.apps.createApp({ name: 'Forms App', origins: [ORIGIN], returnUrls: [RETURN_URL] });
    const client = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
    gateway = (await client.connect({ request_id: 'forms', scope: ['email'], return_url: RETURN_URL })).body.gateway;
  });
  after(() => keygate.close());

  const people = async () => (await keygate.stores.zones.eu.db.selectFrom('people').select('id').execute()).length
    + (await keygate.stores.zones.us.db.selectFrom('people').select('id').execute()).length;

  it('re-renders sign-up with an error next to each bad field and keeps what was typed, except the password', async () => {
    const visitor = new GatewayVisitor(keygate.http);
    const response = await visitor.signUp(`/gateway/${connectIdOf(gateway)}`, {
      email: 'not-an-email', password: 'short', firstname: 'Jana', surname: '', country: 'XX', language: 'cs',
    }, keygate.outbox);
    assert.equal(response.status, 400);
    assert.match(response.html, /id="email-error">Enter a valid email address\./);
    assert.match(response.html, /id="password-error">Use 10 to 256 characters\./);
    assert.match(response.html, /id="surname-error">/);
    assert.match(response.html, /id="country-error">Choose your country\./);
    assert.match(response.html, /value="not-an-email"/);
    assert.match(response.html, /value="Jana"/);
    assert.doesNotMatch(response.html, /value="short"/);
    assert.equal(await people(), 0);
  });

  it('refuses a form without its CSRF token, with a token of another browser, or with a forged one, and changes nothing', async () => {
    const visitor = new GatewayVisitor(keygate.http);
    const page = await visitor.get(gateway);
    assert.match(page.html, /<input type="hidden" name="_csrf" value="[A-Za-z0-9_-]{43}">/);
    const other = new GatewayVisitor(keygate.http);
    await other.get(gateway);
    // A forgery differs from the real token in its last character only.
    const forged = `${visitor.csrf!.slice(0, -1)}${visitor.csrf!.endsWith('A') ? 'B' : 'A'}`;
    for (const csrf of [undefined, '', other.csrf!, forged, [visitor.csrf!, visitor.csrf!]]) {
      const form: Record<string, string | string[]> = { ...SIGN_UP_JANA, email: 'csrf@example.cz' };
      if (csrf !== undefined) form._csrf = csrf;
      const response = await visitor.post(`/gateway/${connectIdOf(gateway)}/sign-up`, form, {}, { csrf: false });
      assert.equal(response.status, 403, JSON.stringify(csrf));
      assert.match(response.html, /This form has expired/);
    }
    assert.equal(await people(), 0);
    // With the page's own token the form is heard (and here refused for its credentials).
    const heard = await visitor.post(`/gateway/${connectIdOf(gateway)}/sign-in`, { email: 'csrf@example.cz', password: 'not a real one' });
    assert.equal(heard.status, 401);
  });

  it('explains next to the field why a password is refused, and creates nobody', async () => {
    const visitor = new GatewayVisitor(keygate.http);
    for (const [password, reason] of [['password123', /too easy to guess/], ['Jana-in-the-garden', /email address or your name/]] as const) {
      const response = await visitor.signUp(`/gateway/${connectIdOf(gateway)}`, { ...SIGN_UP_JANA, password }, keygate.outbox);
      assert.equal(response.status, 400);
      assert.match(response.html, new RegExp(`id="password-error">[^<]*${reason.source}`));
      assert.match(response.html, /aria-describedby="password-hint password-error"/);
    }
    assert.equal(await people(), 0);
  });

  it('refuses a field sent as an array, and markup in names is never echoed raw', async () => {
    const visitor = new GatewayVisitor(keygate.http);
    const response = await visitor.post(`/gateway/${connectIdOf(gateway)}/sign-up`, {
      ...SIGN_UP_JANA, email: ['a@example.cz', 'b@example.cz'], firstname: '<script>alert(1)</script>',
    });
    assert.equal(response.status, 400);
    assert.doesNotMatch(response.html, /<script>/);
    assert.match(response.html, /&lt;script&gt;/);
    assert.equal(await people(), 0);
  });

  it('refuses a form posted from another site', async () => {
    const visitor = new GatewayVisitor(keygate.http);
    for (const headers of [{ origin: 'https://evil.example.com' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site', origin: 'null' }] as Array<Record<string, string>>) {
      const response = await visitor.post(`/gateway/${connectIdOf(gateway)}/sign-up`, SIGN_UP_JANA, headers);
      assert.equal(response.status, 403, JSON.stringify(headers));
    }
    assert.equal(await people(), 0);
    // Our own pages send `Origin: null` (no-referrer policy) with `Sec-Fetch-Site: same-origin`.
    const own = await visitor.post(`/gateway/${connectIdOf(gateway)}/sign-up`, SIGN_UP_JANA, { origin: 'null', 'sec-fetch-site': 'same-origin' });
    assert.equal(own.status, 200);
    assert.match(own.html, /name="code"/, "our own form goes on to the confirmation code");
  });

  it('shows a page, not a redirect, for an unknown or malformed sign-in request', async () => {
    const visitor = new GatewayVisitor(keygate.http);
    for (const path of ['/gateway/00000000-0000-4000-8000-000000000000', '/gateway/%3Cscript%3E', '/gateway/x/sign-in']) {
      const response = path.endsWith('sign-in') ? await visitor.post(path, {}) : await visitor.get(path);
      // A post without a page before it has no CSRF token: refused before anything is looked up.
      assert.equal(response.status, path.endsWith('sign-in') ? 403 : 404, path);
      assert.match(response.headers['content-type'] as string, /text\/html/);
      assert.equal(response.headers.location, undefined);
    }
  });

  it('sends pages with a CSP that allows no inline script', async () => {
    const page = await new GatewayVisitor(keygate.http).get(gateway);
    const csp = page.headers['content-security-policy'] as string;
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.doesNotMatch(page.html, /<script/);
    assert.equal(page.headers['cache-control'], 'no-store');
  });
});
