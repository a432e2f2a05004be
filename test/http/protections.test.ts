import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { isValidRedirectSignature, signRequest, Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://example.org';
const RETURN = 'https://example.org/callback';

/** Every protection, attacked through the real API and gateway of one in-process Keygate. */
describe('the four app protections', () => {
  let keygate: TestKeygate;
  let appId: string;
  let secretKey: string;
  let client: Ukey1ServerClient;

  before(async () => {
    keygate = await startTestKeygate();
    ({ appId, secretKey } = await keygate.services.apps.createApp({ name: 'Protected', origins: [ORIGIN, 'http://localhost:3000'], returnUrls: [`${RETURN}`, 'https://example.org/app/'] }));
    client = new Ukey1ServerClient(keygate.http, appId, secretKey, ORIGIN);
  });
  after(() => keygate.close());

  const connectBody = (returnUrl = `${RETURN}?x=1`) => ({ request_id: 'r1', scope: ['firstname'], return_url: returnUrl });

  /** An unsigned call as a browser makes it. */
  const browserCall = (headers: Record<string, string>, options: { remoteAddress?: string } = {}) => keygate.http.inject({
    method: 'POST', url: '/auth/v2/connect', headers: { 'x-ukey1-app': appId, 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(connectBody()), remoteAddress: options.remoteAddress,
  });

  /** A signed call from a server at `remoteAddress`. */
  const serverCall = (headers: Record<string, string>, options: { remoteAddress?: string; key?: string; id?: string } = {}) => {
    const raw = JSON.stringify(connectBody());
    const id = options.id ?? appId;
    return keygate.http.inject({
      method: 'POST', url: '/auth/v2/connect', remoteAddress: options.remoteAddress, payload: raw,
      headers: { 'x-ukey1-app': id, 'x-ukey1-signature': signRequest(options.key ?? secretKey, { appId: id, method: 'POST', path: '/auth/v2/connect', rawBody: raw }), ...headers },
    });
  };

  describe('domain protection', () => {
    const refusedOrigins = [
      'https://example.org.evil.com', 'https://evil-example.org', 'https://evilexample.org', 'http://example.org', 'https://example.org:8443',
      'https://EXAMPLE.ORG.evil.com', 'https://example.org.', 'null', 'https://exаmple.org' /* Cyrillic а */, 'https://example.org/path',
      'https://user@example.org', 'https://example.org\\@evil.com', '', 'javascript:alert(1)',
    ];

    for (const origin of refusedOrigins) {
      it(`refuses the server X-Origin ${JSON.stringify(origin)} with origin_not_allowed, revealing no list`, async () => {
        const response = await serverCall({ 'x-origin': origin });
        assert.equal(response.statusCode, 403);
        const body = response.json();
        assert.equal(body.debug.code, 'origin_not_allowed');
        assert.doesNotMatch(JSON.stringify(body), /example\.org|localhost/);
      });

      it(`never gives CORS to the browser Origin ${JSON.stringify(origin)}`, async () => {
        const response = await browserCall(origin === '' ? {} : { origin });
        assert.equal(response.statusCode, 403);
        assert.equal(response.headers['access-control-allow-origin'], undefined);
      });
    }

    it('accepts listed origins, normalised for servers (upper case, default port) and exact for browsers', async () => {
      for (const origin of ['https://example.org', 'https://EXAMPLE.org', 'https://example.org:443', 'http://localhost:3000']) {
        assert.equal((await serverCall({ 'x-origin': origin })).statusCode, 201, origin);
      }
      const browser = await browserCall({ origin: 'https://example.org' });
      assert.equal(browser.statusCode, 201);
      assert.equal(browser.headers['access-control-allow-origin'], 'https://example.org');
      assert.equal((await browserCall({ origin: 'https://EXAMPLE.org' })).headers['access-control-allow-origin'], undefined, 'a non-canonical Origin is never echoed');
    });

    it('a missing X-Origin on a signed call is refused', async () => {
      assert.equal((await serverCall({})).json().debug.code, 'origin_not_allowed');
    });

    it('when turned off, accepts any X-Origin and answers browsers with *, never an echo', async () => {
      const open = await keygate.services.apps.createApp({ name: 'Open', origins: ['https://open.example.net'], returnUrls: [RETURN] });
      await keygate.services.apps.updateProtections(open.appId, { protections: { domain: false, returnUrl: true, serverOnly: false, ip: false }, origins: [], returnUrls: [RETURN], ipEntries: [] });
      assert.equal((await serverCall({ 'x-origin': 'https://anything.example.com' }, { key: open.secretKey, id: open.appId })).statusCode, 201);
      const browser = await keygate.http.inject({
        method: 'POST', url: '/auth/v2/connect', headers: { 'x-ukey1-app': open.appId, origin: 'https://elsewhere.example.com' }, payload: JSON.stringify(connectBody()),
      });
      assert.equal(browser.statusCode, 201);
      assert.equal(browser.headers['access-control-allow-origin'], '*');
    });
  });

  describe('server-only protection', () => {
    let serverOnly: { appId: string; secretKey: string };
    before(async () => {
      serverOnly = await keygate.services.apps.createApp({ name: 'Server only', origins: [ORIGIN], returnUrls: [RETURN] });
      await keygate.services.apps.updateProtections(serverOnly.appId, { protections: { domain: true, returnUrl: true, serverOnly: true, ip: false }, origins: [ORIGIN], returnUrls: [RETURN], ipEntries: [] });
    });

    it('refuses an unsigned call from a listed origin with signature_required and no CORS headers', async () => {
      for (const url of ['/auth/v2/connect', '/auth/v2/token', '/auth/v2/me', '/auth/v2/system/scopes']) {
        const response = await keygate.http.inject({ method: url.endsWith('connect') || url.endsWith('token') ? 'POST' : 'GET', url, headers: { 'x-ukey1-app': serverOnly.appId, origin: ORIGIN }, payload: url.endsWith('connect') ? JSON.stringify(connectBody()) : undefined });
        assert.equal(response.statusCode, 403, url);
        assert.equal(response.json().debug.code, 'signature_required');
        assert.equal(response.headers['access-control-allow-origin'], undefined);
      }
    });

    it('accepts the signed call', async () => {
      assert.equal((await serverCall({ 'x-origin': ORIGIN }, { key: serverOnly.secretKey, id: serverOnly.appId })).statusCode, 201);
    });
  });

  describe('signatures', () => {
    it('refuses a signature made with another app\'s key, for another endpoint, or over a modified body', async () => {
      const other = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
      const otherKey = other.publicKey.toString('base64');
      assert.equal((await serverCall({ 'x-origin': ORIGIN }, { key: otherKey })).json().debug.code, 'bad_signature');

      const raw = JSON.stringify(connectBody());
      const forToken = signRequest(secretKey, { appId, method: 'POST', path: '/auth/v2/token', rawBody: raw });
      const wrongEndpoint = await keygate.http.inject({ method: 'POST', url: '/auth/v2/connect', payload: raw, headers: { 'x-ukey1-app': appId, 'x-ukey1-signature': forToken, 'x-origin': ORIGIN } });
      assert.equal(wrongEndpoint.json().debug.code, 'bad_signature');

      const signed = signRequest(secretKey, { appId, method: 'POST', path: '/auth/v2/connect', rawBody: raw });
      const modified = await keygate.http.inject({ method: 'POST', url: '/auth/v2/connect', payload: raw.replace('r1', 'r2'), headers: { 'x-ukey1-app': appId, 'x-ukey1-signature': signed, 'x-origin': ORIGIN } });
      assert.equal(modified.statusCode, 401);
      assert.equal(modified.json().debug.code, 'bad_signature');
    });
  });

  describe('IP protection', () => {
    let ipApp: { appId: string; secretKey: string };
    before(async () => {
      ipApp = await keygate.services.apps.createApp({ name: 'Office', origins: [ORIGIN], returnUrls: [RETURN] });
      await keygate.services.apps.updateProtections(ipApp.appId, {
        protections: { domain: true, returnUrl: true, serverOnly: false, ip: true },
        origins: [ORIGIN], returnUrls: [RETURN], ipEntries: ['198.51.100.0/24', '2001:db8::/64', '203.0.113.7'],
      });
    });

    const cases: Array<[string, boolean]> = [
      ['198.51.100.0', true], ['198.51.100.255', true], ['198.51.99.255', false], ['198.51.101.0', false],
      ['::ffff:198.51.100.42', true], ['203.0.113.7', true], ['203.0.113.8', false], ['::ffff:203.0.113.6', false],
      ['2001:db8::1', true], ['2001:db8:0:0:ffff:ffff:ffff:ffff', true], ['2001:db8:0:1::', false], ['127.0.0.1', false],
    ];
    for (const [address, allowed] of cases) {
      it(`${allowed ? 'accepts' : 'refuses'} a call from ${address}`, async () => {
        const response = await serverCall({ 'x-origin': ORIGIN }, { key: ipApp.secretKey, id: ipApp.appId, remoteAddress: address });
        assert.equal(response.statusCode, allowed ? 201 : 403);
        if (!allowed) {
          assert.equal(response.json().debug.code, 'ip_not_allowed');
          assert.doesNotMatch(response.body, /198\.51|203\.0|2001/);
        }
      });
    }

    it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
      const response = await serverCall({ 'x-origin': ORIGIN, 'x-forwarded-for': '198.51.100.1' }, { key: ipApp.secretKey, id: ipApp.appId, remoteAddress: '192.0.2.50' });
      assert.equal(response.json().debug.code, 'ip_not_allowed');
    });

    it('refuses the gateway page of an IP-protected app to a visitor from elsewhere, with a page', async () => {
      const opened = await serverCall({ 'x-origin': ORIGIN }, { key: ipApp.secretKey, id: ipApp.appId, remoteAddress: '198.51.100.9' });
      const connectId = opened.json().connect_id;
      const away = await keygate.http.inject({ method: 'GET', url: `/gateway/${connectId}`, remoteAddress: '192.0.2.1' });
      assert.equal(away.statusCode, 403);
      assert.match(away.headers['content-type'] as string, /text\/html/);
      assert.equal(away.headers.location, undefined);
      const inside = await keygate.http.inject({ method: 'GET', url: `/gateway/${connectId}`, remoteAddress: '198.51.100.77' });
      assert.equal(inside.statusCode, 200);
    });
  });

  describe('IP protection behind trusted proxies', () => {
    let proxied: TestKeygate;
    let app: { appId: string; secretKey: string };
    before(async () => {
      proxied = await startTestKeygate({ env: { KEYGATE_TRUSTED_PROXIES: '10.0.0.0/8' } });
      app = await proxied.services.apps.createApp({ name: 'Behind proxy', origins: [ORIGIN], returnUrls: [RETURN] });
      await proxied.services.apps.updateProtections(app.appId, { protections: { domain: true, returnUrl: true, serverOnly: false, ip: true }, origins: [ORIGIN], returnUrls: [RETURN], ipEntries: ['198.51.100.0/24'] });
    });
    after(() => proxied.close());

    const call = (remoteAddress: string, forwardedFor?: string) => {
      const raw = JSON.stringify(connectBody());
      return proxied.http.inject({
        method: 'POST', url: '/auth/v2/connect', remoteAddress, payload: raw,
        headers: {
          'x-ukey1-app': app.appId, 'x-origin': ORIGIN, ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }),
          'x-ukey1-signature': signRequest(app.secretKey, { appId: app.appId, method: 'POST', path: '/auth/v2/connect', rawBody: raw }),
        },
      });
    };

    it('takes the client from X-Forwarded-For through trusted proxies only', async () => {
      assert.equal((await call('10.1.2.3', '198.51.100.5')).statusCode, 201);
      assert.equal((await call('10.1.2.3', '198.51.100.5, 10.9.9.9')).statusCode, 201, 'a chain of trusted proxies');
      assert.equal((await call('10.1.2.3', '192.0.2.1, 198.51.100.5')).statusCode, 201, 'the rightmost untrusted hop is the client');
      assert.equal((await call('10.1.2.3', '198.51.100.5, 192.0.2.1')).statusCode, 403, 'a spoofed left part does not help');
    });

    for (const header of ['', 'garbage', '198.51.100.5, not-an-ip', ' , ']) {
      it(`never skips the check for X-Forwarded-For ${JSON.stringify(header)} from a trusted proxy`, async () => {
        assert.equal((await call('10.1.2.3', header)).json().debug.code, 'ip_not_allowed');
      });
    }

    it('refuses a trusted proxy that sends no X-Forwarded-For', async () => {
      assert.equal((await call('10.1.2.3')).json().debug.code, 'ip_not_allowed');
    });
  });

  describe('return URL protection', () => {
    const refused = [
      'https://example.org@evil.com/callback', 'https://evil.com\\@example.org/callback', 'https://example.org\\callback',
      'https://example.org/callback%2f..%2fadmin', 'https://example.org/callback/%2e%2e/admin', 'https://example.org/callback/../admin',
      'https://example.org/callbackevil', 'https://example.org/app', 'javascript:alert(1)//https://example.org/callback',
      'data:text/html,<script>1</script>', 'http://example.org/callback', 'https://example.org:8443/callback',
      'https://example.org.evil.com/callback', 'https://user:pw@example.org/callback', '//evil.com/callback', '/callback',
    ];
    for (const url of refused) {
      it(`refuses ${url} with return_url_not_allowed`, async () => {
        const response = await client.connect(connectBody(url));
        assert.equal(response.status, 403);
        assert.equal(response.body.debug.code, 'return_url_not_allowed');
        assert.doesNotMatch(JSON.stringify(response.body), /example\.org/);
      });
    }

    const accepted = ['https://example.org/callback', 'https://example.org/callback/x?y=1#frag', 'https://EXAMPLE.org/callback?q=/..', 'https://example.org/app/deep/path'];
    for (const url of accepted) {
      it(`accepts ${url}`, async () => {
        assert.equal((await client.connect(connectBody(url))).status, 201);
      });
    }

    it('a URL removed after the request was opened is not used: the gateway shows a page', async () => {
      const app = await keygate.services.apps.createApp({ name: 'Changing', origins: [ORIGIN], returnUrls: ['https://example.org/old', RETURN] });
      const changing = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
      const opened = await changing.connect(connectBody('https://example.org/old'));
      await keygate.services.apps.updateProtections(app.appId, { protections: { domain: true, returnUrl: true, serverOnly: false, ip: false }, origins: [ORIGIN], returnUrls: [RETURN], ipEntries: [] });
      const page = await keygate.http.inject({ method: 'GET', url: `/gateway/${opened.body.connect_id}` });
      assert.equal(page.statusCode, 403);
      assert.equal(page.headers.location, undefined);
      assert.doesNotMatch(page.body, /example\.org\/old/);
    });
  });

  describe('Secret Key rotation with a grace period', () => {
    it('keeps the old key working for signatures, tokens and redirects until the grace period ends', async () => {
      const app = await keygate.services.apps.createApp({ name: 'Rotating', origins: [ORIGIN], returnUrls: [RETURN] });
      const oldClient = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
      const { secretKey: newKey } = await keygate.services.apps.rotateKey(app.appId, 2);
      const newClient = new Ukey1ServerClient(keygate.http, app.appId, newKey, ORIGIN);

      // A server still on the old key completes a whole flow, verifying everything with it.
      const opened = await oldClient.connect({ request_id: 'old', scope: ['firstname'], return_url: RETURN });
      assert.equal(opened.status, 201);
      const visitor = new GatewayVisitor(keygate.http);
      await visitor.signUp(`/gateway/${opened.body.connect_id}`, { ...SIGN_UP_JANA, email: 'rotation@example.cz' }, keygate.outbox);
      const decided = await visitor.post(`/gateway/${opened.body.connect_id}/consent`, { decision: 'allow', fields: ['firstname'] });
      const params = new URL(decided.location!).searchParams;
      assert.ok(isValidRedirectSignature(app.secretKey, app.appId, params), 'the redirect verifies with the key that opened the request');
      const token = await oldClient.token({ request_id: 'old', connect_id: opened.body.connect_id, auth_code: params.get('_ukey1[code]')! });
      assert.equal(token.status, 200);
      assert.equal((await oldClient.me(token.body.access_token)).status, 200);
      assert.equal((await newClient.me(token.body.access_token)).status, 200, 'a token from before the switch stays valid');
      assert.equal((await newClient.connect({ request_id: 'new', scope: [], return_url: RETURN })).status, 201);

      keygate.clock.advance(2 * 24 * 3600 + 1);
      const late = await oldClient.connect({ request_id: 'late', scope: [], return_url: RETURN });
      assert.equal(late.status, 401);
      assert.equal(late.body.debug.code, 'bad_signature');
      assert.equal((await newClient.connect({ request_id: 'new2', scope: [], return_url: RETURN })).status, 201);
    });

    it('with no grace period the old key stops at once', async () => {
      const app = await keygate.services.apps.createApp({ name: 'Leaked', origins: [ORIGIN], returnUrls: [RETURN] });
      await keygate.services.apps.rotateKey(app.appId, 0);
      const old = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
      assert.equal((await old.connect({ request_id: 'x', scope: [], return_url: RETURN })).body.debug.code, 'bad_signature');
    });
  });

  describe('fields an app may request', () => {
    it('needs the operator to approve email! and image!, and reports what the app may ask', async () => {
      const app = await keygate.services.apps.createApp({ name: 'Fields', origins: [ORIGIN], returnUrls: [RETURN] });
      const fields = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
      assert.equal((await fields.connect({ request_id: 'f', scope: ['email!'], return_url: RETURN })).body.debug.code, 'invalid_scope');
      await assert.rejects(keygate.services.apps.updateFields(app.appId, ['email'], ['email'], { email: 'Invoices by email' }), /operator's approval/);
      await keygate.services.apps.allowMandatory(app.appId, ['email']);
      await assert.rejects(keygate.services.apps.updateFields(app.appId, ['email'], ['email'], {}), /legal basis/);
      await keygate.services.apps.updateFields(app.appId, ['firstname', 'email'], ['email'], { email: 'We send your invoices by email.' });
      assert.deepEqual((await fields.scopes()).body.permissions, ['firstname', 'email', 'email!']);
      assert.equal((await fields.connect({ request_id: 'f', scope: ['surname'], return_url: RETURN })).body.debug.code, 'invalid_scope');
      const opened = await fields.connect({ request_id: 'f', scope: ['email!'], return_url: RETURN });
      assert.equal(opened.status, 201);
      const visitor = new GatewayVisitor(keygate.http);
      await visitor.signUp(`/gateway/${opened.body.connect_id}`, { ...SIGN_UP_JANA, email: 'fields@example.cz' }, keygate.outbox);
      const consent = await visitor.get(`/gateway/${opened.body.connect_id}`);
      assert.match(consent.html, /Required by Fields: We send your invoices by email\./);
    });
  });

  describe('calls that change the app (the private-app list)', () => {
    // The Secret Key is public in all but name (anyone can compute it from two redirect
    // signatures, see test/http/secret-key.test.ts): a signature alone must not let
    // anyone put themselves on a private app's list. The app's server address must.
    const SERVER = '198.51.100.20';
    let listed: { appId: string; secretKey: string };
    let reference: string;
    const setIpProtection = (ip: boolean) => keygate.services.apps.updateProtections(listed.appId, {
      protections: { domain: true, returnUrl: true, serverOnly: true, ip }, origins: [ORIGIN], returnUrls: [RETURN], ipEntries: ip ? ['198.51.100.0/24'] : [],
    });
    const from = (remoteAddress: string) => new Ukey1ServerClient(keygate.http, listed.appId, listed.secretKey, ORIGIN, remoteAddress);
    const bodyOf = { POST: () => ({ email: 'insider@example.cz', locale: 'en_GB' }), DELETE: () => ({ reference_id: reference }) };
    const members = async () => (await keygate.services.extranet.list(listed.appId)).map((m) => m.email).sort();

    before(async () => {
      listed = await keygate.services.apps.createApp({ name: 'Supplier portal', origins: [ORIGIN], returnUrls: [RETURN] });
      await keygate.services.apps.setPrivate(listed.appId, true);
      reference = (await keygate.services.extranet.invite((await keygate.services.appDirectory.findApp(listed.appId))!, 'leaving@example.cz', 'en_GB')).referenceId;
    });

    for (const method of ['POST', 'DELETE'] as const) {
      it(`refuses a signed ${method} /auth/v2/extranet/users with ip_protection_required while IP protection is off, and records it`, async () => {
        await setIpProtection(false);
        const before = await members();
        for (const address of [SERVER, '192.0.2.1']) {
          const response = await from(address).call(method, '/auth/v2/extranet/users', bodyOf[method]());
          assert.equal(response.status, 403, address);
          assert.equal(response.body.debug.code, 'ip_protection_required');
          assert.match(response.body.debug.message, /changes the app's state.*IP protection on and from a listed address/);
        }
        assert.deepEqual(await members(), before, 'the list is as it was');
        const [last] = await keygate.services.apps.auditTrail(listed.appId, 1);
        assert.deepEqual([last!.action, last!.detail], ['api.refused', 'ip_protection_required']);
      });

      it(`refuses a signed ${method} /auth/v2/extranet/users with ip_not_allowed from an address IP protection does not list`, async () => {
        await setIpProtection(true);
        const before = await members();
        const response = await from('192.0.2.1').call(method, '/auth/v2/extranet/users', bodyOf[method]());
        assert.equal(response.status, 403);
        assert.equal(response.body.debug.code, 'ip_not_allowed');
        assert.deepEqual(await members(), before, 'the list is as it was');
      });

      it(`refuses an unsigned ${method} /auth/v2/extranet/users from a listed address with signature_required, even where browsers may call the app`, async () => {
        await keygate.services.apps.updateProtections(listed.appId, {
          protections: { domain: false, returnUrl: true, serverOnly: false, ip: true }, origins: [ORIGIN], returnUrls: [RETURN], ipEntries: ['198.51.100.0/24'],
        });
        const before = await members();
        const response = await keygate.http.inject({
          method, url: '/auth/v2/extranet/users', remoteAddress: SERVER,
          headers: { 'x-ukey1-app': listed.appId, 'content-type': 'application/json', origin: 'https://elsewhere.example.com' }, payload: JSON.stringify(bodyOf[method]()),
        });
        assert.equal(response.statusCode, 403);
        assert.equal(JSON.parse(response.body).debug.code, 'signature_required');
        assert.deepEqual(await members(), before, 'the list is as it was');
      });

      it(`accepts a signed ${method} /auth/v2/extranet/users from a listed address with IP protection on`, async () => {
        await setIpProtection(true);
        const response = await from(SERVER).call(method, '/auth/v2/extranet/users', bodyOf[method]());
        assert.equal(response.status, method === 'POST' ? 201 : 200, JSON.stringify(response.body));
        assert.deepEqual(await members(), method === 'POST' ? ['insider@example.cz', 'leaving@example.cz'] : ['insider@example.cz']);
      });
    }
  });

  describe('private apps', () => {
    it('admits owners and listed people, denies others, and is managed through /auth/v2/extranet/users', async () => {
      const owner = await keygate.services.people.signUp({ ...SIGN_UP_JANA, email: 'owner@example.cz', password: 'owner horse battery staple' }, {}, { emailVerified: true });
      assert.ok(owner.ok);
      const app = await keygate.services.apps.createApp({ name: 'Intranet', origins: [ORIGIN], returnUrls: [RETURN], owner: owner.person });
      // Managing the list changes the app, so it needs IP protection; the app's server and
      // its people's browsers all reach this in-process Keygate from the loopback address.
      await keygate.services.apps.updateProtections(app.appId, { protections: { domain: true, returnUrl: true, serverOnly: false, ip: true }, origins: [ORIGIN], returnUrls: [RETURN], ipEntries: ['127.0.0.1'] });
      const intranet = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);

      const notPrivate = await intranet.call('POST', '/auth/v2/extranet/users', { email: 'guest@example.cz', locale: 'cs_CZ' });
      assert.equal(notPrivate.status, 400);
      assert.equal(notPrivate.body.debug.code, 'not_private_app');
      await keygate.services.apps.setPrivate(app.appId, true);

      const signIn = async (email: string, password = SIGN_UP_JANA.password, signUp = true) => {
        const opened = await intranet.connect({ request_id: email, scope: [], return_url: RETURN });
        const visitor = new GatewayVisitor(keygate.http);
        const base = `/gateway/${opened.body.connect_id}`;
        const entered = signUp
          ? await visitor.signUp(base, { ...SIGN_UP_JANA, email }, keygate.outbox)
          : await visitor.post(`${base}/sign-in`, { email, password });
        assert.equal(entered.status, 303);
        const next = await visitor.get(entered.location!);
        if (next.status === 303) return { result: new URL(next.headers.location as string).searchParams, visitor, connectId: opened.body.connect_id };
        const allowed = await visitor.post(`/gateway/${opened.body.connect_id}/consent`, { decision: 'allow' });
        return { result: new URL(allowed.location!).searchParams, visitor, connectId: opened.body.connect_id };
      };

      const stranger = await signIn('stranger@example.cz');
      assert.equal(stranger.result.get('_ukey1[result]'), 'denied');
      assert.equal(stranger.result.get('_ukey1[code]'), '');
      assert.ok(isValidRedirectSignature(app.secretKey, app.appId, stranger.result));

      const ownerIn = await signIn('owner@example.cz', 'owner horse battery staple', false);
      assert.equal(ownerIn.result.get('_ukey1[result]'), 'authorized', 'an owner may always sign in');

      const invited = await intranet.call('POST', '/auth/v2/extranet/users', { email: 'Guest@Example.cz', locale: 'cs_CZ' });
      assert.equal(invited.status, 201);
      assert.equal(invited.body.status, 'email-sent');
      assert.match(invited.body.reference_id, /^[0-9a-f-]{36}$/);
      const outbox = path.join(keygate.dataDir, 'outbox');
      const mail = readdirSync(outbox).map((f) => readFileSync(path.join(outbox, f), 'utf8')).find((m) => /guest@example\.cz/i.test(m));
      assert.ok(mail, 'the invitation is in the outbox');
      assert.match(mail!, /Intranet/);

      const guest = await signIn('guest@example.cz');
      assert.equal(guest.result.get('_ukey1[result]'), 'authorized');
      // The same answer for a person who uses the app: an app cannot tell its users' addresses apart.
      const again = await intranet.call('POST', '/auth/v2/extranet/users', { email: 'guest@example.cz', locale: 'en_GB' });
      assert.deepEqual([again.body.status, again.body.reference_id], ['email-sent', invited.body.reference_id]);

      const removed = await intranet.call('DELETE', '/auth/v2/extranet/users', { reference_id: invited.body.reference_id });
      assert.equal(removed.status, 200);
      assert.equal(removed.body.result, 200);
      const unknown = await intranet.call('DELETE', '/auth/v2/extranet/users', { reference_id: invited.body.reference_id });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.debug.code, 'unknown_reference');
      const bad = await intranet.call('POST', '/auth/v2/extranet/users', { email: ['a@example.cz', 'b@example.cz'] });
      assert.equal(bad.status, 400);
      const injected = await intranet.call('POST', '/auth/v2/extranet/users', { email: 'a@example.cz\r\nBcc: b@example.cz' });
      assert.equal(injected.status, 400);
    });
  });
});
