import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { createServer, type Server } from 'node:http';
import { createLocalJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { AppSettingsError } from '../../src/domain/apps/app-settings.js';
import { KeygateError } from '../../src/domain/errors.js';
import { connectIdOf, GatewayVisitor, overHttp, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { freePort } from '../support/ports.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

const REDIRECT_URI = 'https://rp.example.org/callback';

/**
 * Keygate as an OpenID Connect provider, driven by a standard client library
 * (openid-client) over real HTTP: discovery, the authorization request through the
 * gateway's own pages, the code exchange with PKCE, the ID token checked against the
 * published keys, and userinfo; then the refusals a certification suite checks.
 */
describe('OpenID Connect provider', () => {
  let keygate: TestKeygate;
  let issuer: string;
  let clientId: string;
  let clientSecret: string;
  let config: oidc.Configuration;

  before(async () => {
    const port = await freePort();
    issuer = `http://localhost:${port}`;
    keygate = await startTestKeygate({ env: { KEYGATE_PUBLIC_URL: issuer, PORT: String(port) } });
    await keygate.http.listen({ host: '127.0.0.1', port });
    const created = await keygate.services.apps.createApp({ name: 'Relying Party', origins: ['https://rp.example.org'], returnUrls: [], redirectUris: [REDIRECT_URI] });
    clientId = created.clientId;
    clientSecret = created.clientSecret!;
    config = await oidc.discovery(new URL(issuer), clientId, clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
  });
  after(() => keygate.close());

  const visitor = () => new GatewayVisitor(overHttp(() => issuer));
  const pathOf = (location: string) => new URL(location, issuer).pathname;

  /** Starts an authorization as the library builds it; the gateway page it leads to. */
  async function authorize(person: GatewayVisitor, parameters: Record<string, string>) {
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, ...parameters });
    const started = await person.get(url.href);
    assert.equal(started.status, 303, started.html);
    return pathOf(started.headers.location as string);
  }

  async function signInNew(person: GatewayVisitor, gateway: string, email: string) {
    const signedUp = await person.signUp(gateway, { ...SIGN_UP_JANA, email }, keygate.outbox);
    assert.equal(signedUp.status, 303);
    assert.equal(signedUp.location, gateway);
  }

  it('publishes only what it implements, at both metadata paths', async () => {
    const metadata = config.serverMetadata();
    assert.equal(metadata.issuer, issuer);
    assert.deepEqual(metadata.response_types_supported, ['code']);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(metadata.subject_types_supported, ['pairwise']);
    assert.deepEqual(metadata.id_token_signing_alg_values_supported, ['RS256']);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    assert.equal(metadata.request_parameter_supported, false);
    assert.equal(metadata.claims_parameter_supported, true);
    assert.ok(metadata.scopes_supported?.includes('openid'));
    const rfc8414 = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
    assert.deepEqual(await rfc8414.json(), await (await fetch(`${issuer}/.well-known/openid-configuration`)).json());
    assert.match(rfc8414.headers.get('cache-control')!, /max-age=\d+/);
  });

  it('signs a person in through the gateway: the library checks the answer and the ID token, and reads only what was granted', async () => {
    const person = visitor();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const gateway = await authorize(person, {
      scope: 'openid profile email', state, nonce, code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
    });
    assert.match(gateway, /^\/gateway\/[0-9a-f-]{36}$/);
    await signInNew(person, gateway, 'jana.oidc@example.cz');

    const consent = await person.get(gateway);
    assert.equal(consent.status, 200);
    assert.match(consent.html, /Allow Relying Party to sign you in\?/);
    assert.doesNotMatch(consent.html, /checked/, 'nothing is pre-ticked');
    for (const field of ['firstname', 'surname', 'email', 'image', 'language']) assert.match(consent.html, new RegExp(`id="field-${field}"`));
    assert.doesNotMatch(consent.html, /id="field-country"/, 'address was not asked for');

    const decided = await person.post(`${gateway}/consent`, { decision: 'allow', fields: ['firstname', 'email'] });
    assert.equal(decided.status, 303);
    const answer = new URL(decided.location!);
    assert.equal(`${answer.origin}${answer.pathname}`, REDIRECT_URI);
    assert.equal(answer.searchParams.get('state'), state);
    assert.equal(answer.searchParams.get('iss'), issuer);

    const tokens = await oidc.authorizationCodeGrant(config, answer, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.scope, 'openid profile email');
    assert.equal(tokens.refresh_token, undefined, 'no refresh token without offline_access');
    const claims = tokens.claims()!;
    assert.equal(claims.aud, clientId);
    assert.equal(claims.nonce, nonce);
    assert.equal(typeof claims.auth_time, 'number');
    assert.deepEqual(claims.amr, ['otp'], 'a sign-up is proved by the code mailed to the address');
    assert.equal(claims.acr, '1', 'one factor');
    assert.equal(claims.given_name, undefined, 'the ID token of a code flow names the person, the claims come from userinfo');
    const user = (await keygate.stores.zones.eu.db.selectFrom('app_users').select('user_id').where('app_id', '=', clientId).executeTakeFirstOrThrow());
    assert.equal(claims.sub, user.user_id, 'sub is the pairwise id Keygate keeps for this app');

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.deepEqual(info, { sub: claims.sub, given_name: 'Jana', email: 'jana.oidc@example.cz', email_verified: true });
    const byPost = await fetch(`${issuer}/oidc/userinfo`, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.deepEqual(await byPost.json(), info, 'userinfo by POST, without a body');
    assert.equal(byPost.headers.get('cache-control'), 'no-store');
    const reads = await keygate.stores.zones.eu.db.selectFrom('audit_events').select(['field', 'purpose', 'app_id'])
      .where('action', '=', 'field.read').where('purpose', '=', 'oidc.userinfo').orderBy('id').execute();
    assert.deepEqual(reads.map((r) => [r.field, r.app_id]).slice(0, 2), [['firstname', clientId], ['email', clientId]], 'each claim released is an audited read');
    assert.equal(reads.length, 4, 'two reads, two claims each');
    const elsewhere = await keygate.stores.zones.us.db.selectFrom('audit_events').select('id').where('action', '=', 'field.read').execute();
    assert.deepEqual(elsewhere, [], 'nothing of it in the other zone');

    // The person sees the client among their connected apps, and its reads in their activity.
    const apps = await person.get('/account/apps');
    assert.equal(apps.status, 200);
    assert.match(apps.html, /Relying Party/);
    const activity = await person.get('/account/activity');
    assert.match(activity.html, /<strong>Relying Party<\/strong> read <em>First name<\/em> <span class="fine recorded">\(oidc\.userinfo\)<\/span>/);

    // The code works once; its replay is refused and revokes what the first use issued.
    await assert.rejects(oidc.authorizationCodeGrant(config, answer, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce }),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_grant');
    await assert.rejects(oidc.fetchUserInfo(config, tokens.access_token, claims.sub));
    const revoked = await fetch(`${issuer}/oidc/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(revoked.status, 401);
    assert.equal(revoked.headers.get('www-authenticate'), 'Bearer realm="keygate", error="invalid_token"');
  });

  it('puts essential and ID-token claims where the claims parameter asks, and hands out a refresh token for offline_access', async () => {
    const person = visitor();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const gateway = await authorize(person, {
      scope: 'openid offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
      claims: JSON.stringify({ id_token: { given_name: { essential: true } }, userinfo: { email: null } }),
    });
    await signInNew(person, gateway, 'jana.claims@example.cz');
    const consent = await person.get(gateway);
    assert.match(consent.html, /id="field-firstname" name="fields" value="firstname" required/, 'an essential claim is a mandatory field');
    assert.doesNotMatch(consent.html, /id="field-email"[^>]*required/);
    const refused = await person.post(`${gateway}/consent`, { decision: 'allow', fields: ['email'] });
    assert.equal(refused.status, 400, 'the mandatory field cannot be left out');
    const decided = await person.post(`${gateway}/consent`, { decision: 'allow', fields: ['firstname'] });
    const tokens = await oidc.authorizationCodeGrant(config, new URL(decided.location!), { pkceCodeVerifier: codeVerifier, idTokenExpected: true });
    assert.equal(tokens.claims()!.given_name, 'Jana');
    const idTokenReads = await keygate.stores.zones.eu.db.selectFrom('audit_events').select(['field'])
      .where('action', '=', 'field.read').where('purpose', '=', 'oidc.id_token').execute();
    assert.deepEqual(idTokenReads.map((r) => r.field), ['firstname']);
    assert.ok(tokens.refresh_token);
    assert.match(tokens.scope!, /offline_access/);

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, 'refresh tokens rotate');
    assert.equal(refreshed.claims()!.sub, tokens.claims()!.sub);
    assert.equal(refreshed.claims()!.auth_time, tokens.claims()!.auth_time, 'a refreshed ID token states the original sign-in');
    const other = await keygate.services.apps.createApp({ name: 'Other RP', origins: [], returnUrls: [], redirectUris: [REDIRECT_URI] });
    const otherConfig = await oidc.discovery(new URL(issuer), other.clientId, other.clientSecret!, undefined, { execute: [oidc.allowInsecureRequests] });
    await assert.rejects(oidc.refreshTokenGrant(otherConfig, refreshed.refresh_token!), (error: oidc.ResponseBodyError) => error.error === 'invalid_grant',
      'a refresh token works only for its own client');
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token), (error: oidc.ResponseBodyError) => error.error === 'invalid_grant');
    await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token!), (error: oidc.ResponseBodyError) => error.error === 'invalid_grant',
      'a replayed refresh token revokes its whole family');
  });

  it('narrows a refresh to the scope asked for, and ends every token of a client whose consent the person withdraws', async () => {
    const person = visitor();
    const verifier = oidc.randomPKCECodeVerifier();
    const gateway = await authorize(person, { scope: 'openid profile email offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    await signInNew(person, gateway, 'jana.narrow@example.cz');
    const decided = await person.post(`${gateway}/consent`, { decision: 'allow', fields: ['firstname', 'email'] });
    const tokens = await oidc.authorizationCodeGrant(config, new URL(decided.location!), { pkceCodeVerifier: verifier });
    const sub = tokens.claims()!.sub;
    const narrowed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid email offline_access' });
    assert.equal(narrowed.scope, 'openid email offline_access');
    assert.deepEqual(await oidc.fetchUserInfo(config, narrowed.access_token, sub), { sub, email: 'jana.narrow@example.cz', email_verified: true });
    const widened = await oidc.refreshTokenGrant(config, narrowed.refresh_token!, { scope: 'openid profile email offline_access' });
    assert.equal(widened.scope, 'openid profile email offline_access', 'the refresh token kept the family\'s scope (RFC 6749 §6), so the full scope comes back');
    assert.deepEqual(Object.keys(await oidc.fetchUserInfo(config, widened.access_token, sub)).sort(), ['email', 'email_verified', 'given_name', 'sub'],
      'but never more than the person granted');

    const user = await keygate.stores.zones.eu.db.selectFrom('app_users').select('person_id').where('user_id', '=', sub).executeTakeFirstOrThrow();
    assert.equal(await keygate.services.accountCentre.revokeApp({ id: user.person_id, zone: 'eu' }, clientId, { requestId: 'withdraw' }), true);
    await assert.rejects(oidc.fetchUserInfo(config, widened.access_token, sub));
    await assert.rejects(oidc.refreshTokenGrant(config, widened.refresh_token!), (error: oidc.ResponseBodyError) => error.error === 'invalid_grant');
  });

  it('prefills the sign-in page with login_hint, and refuses an id_token_hint it did not issue to this client', async () => {
    const person = new GatewayVisitor(overHttp(() => issuer), { chosenLanguage: null });
    const started = await person.get(oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', login_hint: 'jana.hinted@example.cz', ui_locales: 'de en' }).href);
    assert.doesNotMatch(started.headers.location as string, /hinted/, 'the address is in no URL');
    const page = await person.get(started.headers.location as string);
    assert.match(page.html, /id="email" name="email" type="text" value="jana\.hinted@example\.cz"/);
    assert.match(page.html, /<html lang="de"/, 'ui_locales picks the language of the page');
    const refused = await fetch(`${issuer}/oidc/authorize?${new URLSearchParams({ client_id: clientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid', id_token_hint: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' })}`, { redirect: 'manual' });
    assert.equal(new URL(refused.headers.get('location')!).searchParams.get('error'), 'invalid_request');
  });

  describe('refusals at the authorization endpoint', () => {
    const authorizeUrl = (params: Record<string, string>) => `${issuer}/oidc/authorize?${new URLSearchParams(params)}`;
    const valid = () => ({ client_id: clientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid', state: 's-1' });

    it('shows a page, and redirects nowhere, for an unknown client or redirect URI', async () => {
      for (const params of [
        { ...valid(), client_id: '00000000-0000-4000-8000-000000000000' },
        { ...valid(), client_id: 'not-a-client' },
        { ...valid(), redirect_uri: 'https://evil.example.org/callback' },
        { ...valid(), redirect_uri: `${REDIRECT_URI}/` },
        { ...valid(), redirect_uri: '' },
      ]) {
        const response = await fetch(authorizeUrl(params), { redirect: 'manual' });
        assert.equal(response.status, 400, JSON.stringify(params));
        assert.equal(response.headers.get('location'), null);
        assert.match(await response.text(), /This sign-in link does not work/);
      }
      const twice = await fetch(`${authorizeUrl(valid())}&redirect_uri=${encodeURIComponent('https://evil.example.org/cb')}`, { redirect: 'manual' });
      assert.equal(twice.status, 400);
    });

    it('answers every other problem to the validated redirect URI, with state and iss', async () => {
      const cases: Array<[Record<string, string>, string]> = [
        [{ ...valid(), response_type: '' }, 'invalid_request'],
        [{ ...valid(), response_type: 'token' }, 'unsupported_response_type'],
        [{ ...valid(), scope: 'profile email' }, 'invalid_scope'],
        [{ ...valid(), request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported'],
        [{ ...valid(), request_uri: 'https://rp.example.org/request.jwt' }, 'request_uri_not_supported'],
        [{ ...valid(), code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'plain' }, 'invalid_request'],
        [{ ...valid(), code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' }, 'invalid_request'],
        [{ ...valid(), prompt: 'none login' }, 'invalid_request'],
        [{ ...valid(), max_age: 'soon' }, 'invalid_request'],
        [{ ...valid(), claims: '{not json' }, 'invalid_request'],
        [{ ...valid(), prompt: 'none' }, 'login_required'],
        [{ ...valid(), nonce: 'a\u0000b' }, 'invalid_request'],
        [{ ...valid(), display: 'popup', claims_locales: 'cs', acr_values: '2', response_type: 'token' }, 'unsupported_response_type'],
      ];
      for (const [params, error] of cases) {
        const response = await fetch(authorizeUrl(params), { redirect: 'manual' });
        assert.equal(response.status, 303, JSON.stringify(params));
        const answer = new URL(response.headers.get('location')!);
        assert.equal(`${answer.origin}${answer.pathname}`, REDIRECT_URI);
        assert.equal(answer.searchParams.get('error'), error, JSON.stringify(params));
        assert.equal(answer.searchParams.get('state'), 's-1');
        assert.equal(answer.searchParams.get('iss'), issuer);
        assert.equal(answer.searchParams.get('code'), null);
      }
    });

    it('counts each request against the client\'s call limit, and opens nothing over it', async () => {
      const limit = keygate.services.authorizationRateLimit;
      const admit = limit.admit.bind(limit);
      const counted: string[] = [];
      limit.admit = async (appId: string) => {
        counted.push(appId);
        throw new KeygateError('too_many_requests', { retryAfterSeconds: 1 });
      };
      const before = await keygate.stores.control.db.selectFrom('connect_requests').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      try {
        const response = await fetch(authorizeUrl(valid()), { redirect: 'manual' });
        assert.equal(new URL(response.headers.get('location')!).searchParams.get('error'), 'temporarily_unavailable');
      } finally {
        limit.admit = admit;
      }
      assert.deepEqual(counted, [clientId]);
      const after = await keygate.stores.control.db.selectFrom('connect_requests').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(after.n), Number(before.n));
    });

    it('never sends back a state it could not keep', async () => {
      const response = await fetch(authorizeUrl({ ...valid(), state: 'x\u0000y' }), { redirect: 'manual' });
      const answer = new URL(response.headers.get('location')!);
      assert.equal(answer.searchParams.get('error'), 'invalid_request');
      assert.equal(answer.searchParams.get('state'), null);
    });

    it('makes a public client use PKCE', async () => {
      const spa = await keygate.services.apps.createApp({ name: 'SPA', origins: [], returnUrls: [], redirectUris: ['http://127.0.0.1/cb'], publicClient: true });
      const introspected = await fetch(`${issuer}/oidc/introspect`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: spa.clientId, token: 'x' }),
      });
      assert.equal(introspected.status, 401, 'a public client has nothing to introspect with');
      const response = await fetch(authorizeUrl({ ...valid(), client_id: spa.clientId, redirect_uri: 'http://127.0.0.1:51234/cb' }), { redirect: 'manual' });
      const answer = new URL(response.headers.get('location')!);
      assert.equal(answer.port, '51234', 'a loopback redirect URI may change its port');
      assert.equal(answer.searchParams.get('error'), 'invalid_request');
      assert.match(answer.searchParams.get('error_description')!, /PKCE/);
    });

    it('holds a private client to its list: a person not on it is answered access_denied', async () => {
      const members = await keygate.services.apps.createApp({ name: 'Members only', origins: [], returnUrls: [], redirectUris: [REDIRECT_URI] });
      await keygate.services.apps.setPrivate(members.clientId, true);
      const person = visitor();
      const started = await person.get(`${issuer}/oidc/authorize?${new URLSearchParams({ ...valid(), client_id: members.clientId, state: 'members' })}`);
      const gateway = pathOf(started.headers.location as string);
      await signInNew(person, gateway, 'jana.outsider@example.cz');
      const answered = await person.get(gateway);
      assert.equal(answered.status, 303);
      const answer = new URL(answered.headers.location as string);
      assert.equal(answer.searchParams.get('error'), 'access_denied');
      assert.equal(answer.searchParams.get('state'), 'members');
      assert.equal(answer.searchParams.get('iss'), issuer);
    });

    it('tells the client access_denied when the person refuses', async () => {
      const person = visitor();
      const gateway = await authorize(person, { scope: 'openid email', state: 'refusing' });
      await signInNew(person, gateway, 'jana.refuses@example.cz');
      const decided = await person.post(`${gateway}/consent`, { decision: 'cancel' });
      const answer = new URL(decided.location!);
      assert.equal(answer.searchParams.get('error'), 'access_denied');
      assert.equal(answer.searchParams.get('state'), 'refusing');
      assert.equal(answer.searchParams.get('code'), null);
    });

    /** An ID token of another person for this client. */
    async function signedInElsewhere() {
      const other = visitor();
      const gateway = await authorize(other, { scope: 'openid' });
      await signInNew(other, gateway, `jana.elsewhere.${Math.random().toString(36).slice(2)}@example.cz`);
      const decided = await other.post(`${gateway}/consent`, { decision: 'allow', fields: [] });
      return (await oidc.authorizationCodeGrant(config, new URL(decided.location!))).id_token!;
    }

    it('answers a request for a given sub only for that person (claims sub value)', async () => {
      const person = visitor();
      const first = await authorize(person, { scope: 'openid' });
      await signInNew(person, first, `jana.named.${Math.random().toString(36).slice(2)}@example.cz`);
      const allowed = await person.post(`${first}/consent`, { decision: 'allow', fields: [] });
      const named = (await oidc.authorizationCodeGrant(config, new URL(allowed.location!))).claims()!.sub;
      const claims = JSON.stringify({ id_token: { sub: { value: named } } });
      const again = await authorize(person, { scope: 'openid', claims });
      assert.match((await person.get(again)).html, /to sign you in\?/, 'the named person is asked as usual');
      const decided = await person.post(`${again}/consent`, { decision: 'allow', fields: [] });
      assert.ok(new URL(decided.location!).searchParams.get('code'));

      const stranger = visitor();
      const gateway = await authorize(stranger, { scope: 'openid', claims, state: 'for-named' });
      await signInNew(stranger, gateway, `jana.stranger.${Math.random().toString(36).slice(2)}@example.cz`);
      const answered = await stranger.get(gateway);
      assert.equal(answered.status, 303);
      const answer = new URL(answered.headers.location as string);
      assert.equal(answer.searchParams.get('error'), 'access_denied', 'another person gets no code');
      assert.equal(answer.searchParams.get('state'), 'for-named');
      const badValue = await fetch(`${issuer}/oidc/authorize?${new URLSearchParams({ ...valid(), claims: JSON.stringify({ id_token: { sub: { value: 5 } } }) })}`, { redirect: 'manual' });
      assert.equal(new URL(badValue.headers.get('location')!).searchParams.get('error'), 'invalid_request');
    });

    it('asks a signed-in person to sign in again for prompt=login and an old sign-in under max_age, and says consent_required for prompt=none', async () => {
      const person = visitor();
      const first = await authorize(person, { scope: 'openid' });
      await signInNew(person, first, 'jana.again@example.cz');
      assert.match((await person.get(first)).html, /to sign you in\?/, 'signed in: the consent page');

      const none = await person.get(oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', prompt: 'none' }).href);
      assert.equal(new URL(none.headers.location as string).searchParams.get('error'), 'consent_required');

      // Once the person has allowed the app, prompt=none lets them in without a page.
      assert.equal((await person.post(`${first}/consent`, { decision: 'allow', fields: [] })).status, 303);
      const nonce = oidc.randomNonce();
      const silentUrl = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', prompt: 'none', state: 'quiet', nonce });
      const silent = await person.get(silentUrl.href);
      assert.equal(silent.status, 303);
      const silentAnswer = new URL(silent.headers.location as string);
      assert.equal(`${silentAnswer.origin}${silentAnswer.pathname}`, REDIRECT_URI, 'straight back to the client');
      const silentTokens = await oidc.authorizationCodeGrant(config, silentAnswer, { expectedState: 'quiet', expectedNonce: nonce, idTokenExpected: true });
      assert.ok(silentTokens.claims()!.sub);
      const wider = await person.get(oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid email', prompt: 'none' }).href);
      assert.equal(new URL(wider.headers.location as string).searchParams.get('error'), 'consent_required', 'asking for more needs the person');
      const hinted = await person.get(oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', prompt: 'none', id_token_hint: silentTokens.id_token! }).href);
      assert.ok(new URL(hinted.headers.location as string).searchParams.get('code'), 'the hinted person is the one signed in');
      const someoneElse = await signedInElsewhere();
      const mismatch = await person.get(oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', prompt: 'none', id_token_hint: someoneElse }).href);
      assert.equal(new URL(mismatch.headers.location as string).searchParams.get('error'), 'login_required', 'a hint for another person');

      keygate.clock.advance(120);
      const login = await authorize(person, { scope: 'openid', prompt: 'login' });
      const loginPage = await person.get(login);
      assert.doesNotMatch(loginPage.html, /to sign you in\?/, 'prompt=login: no consent before a new sign-in');
      assert.match(loginPage.html, /name="password"/);
      const early = await person.post(`${login}/consent`, { decision: 'allow', fields: [] });
      assert.equal(early.location, login, 'nor can the consent be posted past it');

      const recent = await authorize(person, { scope: 'openid', max_age: '3600' });
      assert.match((await person.get(recent)).html, /to sign you in\?/, 'a sign-in two minutes old meets max_age=3600');
      const old = await authorize(person, { scope: 'openid', max_age: '60' });
      assert.doesNotMatch((await person.get(old)).html, /to sign you in\?/, 'but not max_age=60');
      const signedIn = await person.post(`${old}/sign-in`, { email: 'jana.again@example.cz', password: SIGN_UP_JANA.password });
      assert.equal(signedIn.location, old);
      assert.match((await person.get(old)).html, /to sign you in\?/, 'after signing in again, the consent page');
    });
  });

  describe('refusals at the token endpoint', () => {
    /** A code issued to this client for `REDIRECT_URI`, with or without PKCE. */
    async function freshCode(options: { pkce?: boolean } = {}) {
      const person = visitor();
      const verifier = oidc.randomPKCECodeVerifier();
      const gateway = await authorize(person, { scope: 'openid', ...(options.pkce === false ? {} : { code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }) });
      await signInNew(person, gateway, `jana.${Math.random().toString(36).slice(2)}@example.cz`);
      const decided = await person.post(`${gateway}/consent`, { decision: 'allow', fields: [] });
      return { code: new URL(decided.location!).searchParams.get('code')!, verifier, connectId: connectIdOf(`${issuer}${gateway}`) };
    }
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    const token = (form: Record<string, string>, headers: Record<string, string> = { authorization: basic(clientId, clientSecret) }) =>
      fetch(`${issuer}/oidc/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) });

    it('refuses a wrong client secret the same way as an unknown client, and changes nothing', async () => {
      const { code, verifier } = await freshCode();
      const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier };
      for (const headers of [{ authorization: basic(clientId, `${clientSecret}x`) }, { authorization: basic('00000000-0000-4000-8000-000000000000', clientSecret) }, { authorization: 'Basic !!!' }]) {
        const refused = await token(form, headers);
        assert.equal(refused.status, 401);
        assert.deepEqual(Object.keys(await refused.json()), ['error', 'error_description']);
        assert.match(refused.headers.get('www-authenticate')!, /^Basic/);
      }
      const noSecret = await token({ ...form, client_id: clientId }, {});
      assert.equal(noSecret.status, 401, 'a confidential client cannot act as a public one');
      const both = await token({ ...form, client_secret: clientSecret });
      assert.equal((await both.json()).error, 'invalid_request', 'one authentication method at a time');
      const accepted = await token(form);
      assert.equal(accepted.status, 200, 'the code was not used up by the refusals');
      assert.equal(accepted.headers.get('cache-control'), 'no-store');
    });

    it('binds the code to its redirect URI and PKCE verifier, both ways', async () => {
      const withPkce = await freshCode();
      const form = { grant_type: 'authorization_code', code: withPkce.code, redirect_uri: REDIRECT_URI, code_verifier: withPkce.verifier };
      for (const wrong of [
        { ...form, redirect_uri: `${REDIRECT_URI}/other` },
        { ...form, code_verifier: oidc.randomPKCECodeVerifier() },
        { grant_type: 'authorization_code', code: withPkce.code, redirect_uri: REDIRECT_URI },
        { ...form, code: `${withPkce.connectId}.${'A'.repeat(43)}` },
        { ...form, code: 'garbage' },
      ]) {
        const refused = await token(wrong);
        assert.equal(refused.status, 400);
        assert.equal((await refused.json()).error, 'invalid_grant', JSON.stringify(wrong));
      }
      assert.equal((await token(form)).status, 200);

      const withoutPkce = await freshCode({ pkce: false });
      const downgrade = await token({ grant_type: 'authorization_code', code: withoutPkce.code, redirect_uri: REDIRECT_URI, code_verifier: oidc.randomPKCECodeVerifier() });
      assert.equal((await downgrade.json()).error, 'invalid_grant', 'a verifier for a request that had no challenge is refused');
      const clientSecretPost = await token({ grant_type: 'authorization_code', code: withoutPkce.code, redirect_uri: REDIRECT_URI, client_id: clientId, client_secret: clientSecret }, {});
      assert.equal(clientSecretPost.status, 200, 'client_secret_post works too');
    });

    it('answers malformed requests with OAuth errors, never a 5xx', async () => {
      assert.equal((await (await token({})).json()).error, 'invalid_request');
      assert.equal((await (await token({ grant_type: 'password' })).json()).error, 'unsupported_grant_type');
      assert.equal((await (await token({ grant_type: 'authorization_code' })).json()).error, 'invalid_request');
      const json = await fetch(`${issuer}/oidc/token`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: basic(clientId, clientSecret) }, body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: 'x' }),
      });
      assert.equal(json.status, 400);
      assert.equal((await json.json()).error, 'invalid_request');
      const huge = await token({ grant_type: 'authorization_code', code: 'x'.repeat(20_000) });
      assert.ok(huge.status >= 400 && huge.status < 500);
      const userinfo = await fetch(`${issuer}/oidc/userinfo`, { headers: { authorization: 'Bearer eu.not-a-token' } });
      assert.equal(userinfo.status, 401);
      const anonymous = await fetch(`${issuer}/oidc/userinfo`);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="keygate"', 'no error code without a token (RFC 6750 §3.1)');
      assert.equal((await fetch(`${issuer}/oidc/userinfo`, { headers: { authorization: 'bearer eu.not-a-token' } })).status, 401, 'the scheme is case-insensitive');
    });

    it('does not let a Ukey1 code be traded at the OpenID Connect token endpoint', async () => {
      const app = (await keygate.services.appDirectory.findApp(clientId))!;
      const { connectId } = await keygate.services.connects.openConnect({ ...app, protections: { ...app.protections, returnUrl: false } }, {
        requestId: 'r-ukey1', scope: { fields: [], mandatory: [] }, returnUrl: 'https://rp.example.org/ukey1',
      });
      const refused = await token({ grant_type: 'authorization_code', code: `${connectId}.${'A'.repeat(43)}`, redirect_uri: 'https://rp.example.org/ukey1' });
      assert.equal((await refused.json()).error, 'invalid_grant');
    });
  });

  describe('revocation, introspection and CORS', () => {
    const basic = () => `Basic ${Buffer.from(`${clientId}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
    const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${issuer}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(), ...headers }, body: new URLSearchParams(form) });

    async function signedInTokens(email: string, fields: string[], scope = 'openid profile email offline_access') {
      const person = visitor();
      const verifier = oidc.randomPKCECodeVerifier();
      const gateway = await authorize(person, { scope, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
      await signInNew(person, gateway, email);
      const decided = await person.post(`${gateway}/consent`, { decision: 'allow', fields });
      return oidc.authorizationCodeGrant(config, new URL(decided.location!), { pkceCodeVerifier: verifier });
    }

    it('introspects a live access token with what the person grants now, audited, and nothing for other tokens', async () => {
      const tokens = await signedInTokens('jana.introspect@example.cz', ['firstname', 'email']);
      const live = await (await post('/oidc/introspect', { token: tokens.access_token })).json() as Record<string, unknown>;
      assert.equal(live.active, true);
      assert.equal(live.client_id, clientId);
      assert.equal(live.sub, tokens.claims()!.sub);
      assert.equal(live.given_name, 'Jana');
      assert.equal(live.email, 'jana.introspect@example.cz');
      assert.equal(typeof live.exp, 'number');
      const reads = await keygate.stores.zones.eu.db.selectFrom('audit_events').select('field').where('purpose', '=', 'oidc.introspection').orderBy('id').execute();
      assert.deepEqual(reads.map((r) => r.field), ['firstname', 'email']);
      for (const token of [tokens.refresh_token!, `eu.${clientId}.${'A'.repeat(43)}`, 'nonsense']) {
        assert.deepEqual(await (await post('/oidc/introspect', { token })).json(), { active: false });
      }
      const unauthenticated = await post('/oidc/introspect', { token: tokens.access_token }, { authorization: 'Basic eDp5' });
      assert.equal(unauthenticated.status, 401);
      const other = await keygate.services.apps.createApp({ name: 'Other', origins: [], returnUrls: [], redirectUris: ['https://other.example.org/cb'] });
      const byOther = await post('/oidc/introspect', { token: tokens.access_token }, { authorization: `Basic ${Buffer.from(`${other.clientId}:${other.clientSecret}`).toString('base64')}` });
      assert.deepEqual(await byOther.json(), { active: false }, 'another client learns nothing of this token');
    });

    it('revokes a refresh token with everything issued along it, and answers the same for unknown tokens', async () => {
      const tokens = await signedInTokens('jana.revoke@example.cz', ['firstname']);
      for (const token of ['unknown', `eu.${'B'.repeat(43)}`]) assert.equal((await post('/oidc/revoke', { token })).status, 200);
      assert.equal((await post('/oidc/revoke', { token: tokens.refresh_token!, token_type_hint: 'refresh_token' })).status, 200);
      assert.deepEqual(await (await post('/oidc/introspect', { token: tokens.access_token })).json(), { active: false }, 'its access token is gone too');
      await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token!), (error: oidc.ResponseBodyError) => error.error === 'invalid_grant');
      const hint = await post('/oidc/revoke', { token: 'x', token_type_hint: 'id_token' });
      assert.equal((await hint.json()).error, 'unsupported_token_type');

      const again = await signedInTokens('jana.revoke2@example.cz', ['firstname']);
      assert.equal((await post('/oidc/revoke', { token: again.access_token })).status, 200);
      assert.equal((await fetch(`${issuer}/oidc/userinfo`, { headers: { authorization: `Bearer ${again.access_token}` } })).status, 401);
      const revoked = await keygate.stores.zones.eu.db.selectFrom('audit_events').select('action').where('action', '=', 'token.revoked').execute();
      assert.equal(revoked.length, 2);
    });

    it('lets a browser read token and userinfo answers only from the client\'s listed origins', async () => {
      const tokens = await signedInTokens('jana.cors@example.cz', ['firstname'], 'openid profile');
      const from = (origin: string) => fetch(`${issuer}/oidc/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}`, origin } });
      assert.equal((await from('https://rp.example.org')).headers.get('access-control-allow-origin'), 'https://rp.example.org');
      assert.equal((await from('https://evil.example.org')).headers.get('access-control-allow-origin'), null);
      const preflight = await fetch(`${issuer}/oidc/token`, { method: 'OPTIONS', headers: { origin: 'https://rp.example.org', 'access-control-request-method': 'POST' } });
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://rp.example.org');
      const foreign = await fetch(`${issuer}/oidc/token`, { method: 'OPTIONS', headers: { origin: 'https://evil.example.org', 'access-control-request-method': 'POST' } });
      assert.equal(foreign.headers.get('access-control-allow-origin'), null);
      const authorizeCors = await fetch(`${issuer}/oidc/authorize?client_id=${clientId}`, { headers: { origin: 'https://rp.example.org' } });
      assert.equal(authorizeCors.headers.get('access-control-allow-origin'), null, 'the authorization endpoint never answers CORS');
    });

    it('holds the token and userinfo endpoints to the client\'s IP protection', async () => {
      const tokens = await signedInTokens('jana.ip@example.cz', ['firstname'], 'openid profile');
      const app = (await keygate.services.appDirectory.findApp(clientId))!;
      const settings = (ip: boolean) => ({ protections: { ...app.protections, ip }, origins: app.origins, returnUrls: app.returnUrls, ipEntries: ip ? ['192.0.2.0/24'] : [] });
      await keygate.services.apps.updateProtections(clientId, settings(true));
      try {
        const refused = await fetch(`${issuer}/oidc/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
        assert.equal(refused.status, 403);
        assert.equal((await refused.json()).error, 'unauthorized_client');
      } finally {
        await keygate.services.apps.updateProtections(clientId, settings(false));
      }
      assert.equal((await fetch(`${issuer}/oidc/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status, 200);
    });
  });

  describe('logout', () => {
    const SIGNED_OUT = 'https://rp.example.org/signed-out';
    let backchannel: Server;
    const notices: string[] = [];

    before(async () => {
      backchannel = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk) => { body += chunk; });
        request.on('end', () => {
          notices.push(new URLSearchParams(body).get('logout_token') ?? '');
          response.writeHead(200).end();
        });
      });
      await new Promise<void>((resolve) => backchannel.listen(0, '127.0.0.1', resolve));
      const { port } = backchannel.address() as { port: number };
      await keygate.services.apps.updateLogout(clientId, { postLogoutRedirectUris: [SIGNED_OUT], backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel` });
    });
    after(() => new Promise<void>((resolve) => backchannel.close(() => resolve())));

    async function signedIn(email: string) {
      const person = visitor();
      const verifier = oidc.randomPKCECodeVerifier();
      const gateway = await authorize(person, { scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
      await signInNew(person, gateway, email);
      const decided = await person.post(`${gateway}/consent`, { decision: 'allow', fields: [] });
      return { person, tokens: await oidc.authorizationCodeGrant(config, new URL(decided.location!), { pkceCodeVerifier: verifier }), gateway };
    }
    const signedInStill = async (person: GatewayVisitor) => /to sign you in\?/.test((await person.get(await authorize(person, { scope: 'openid' }))).html);

    it('signs out at once with a hint for this session, sends the person to the registered URI with state, and tells the client on its back channel', async () => {
      const { person, tokens } = await signedIn('jana.logout@example.cz');
      const claims = tokens.claims()!;
      assert.match(String(claims.sid), /^[A-Za-z0-9_-]{32}$/, 'the ID token names the session');
      assert.equal(await signedInStill(person), true);
      notices.length = 0;
      const url = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: SIGNED_OUT, state: 'bye' });
      const ended = await person.get(url.href);
      assert.equal(ended.status, 303);
      assert.equal(ended.headers.location, `${SIGNED_OUT}?state=bye`);
      assert.equal(await signedInStill(person), false, 'the Keygate session is over');

      await keygate.logoutNoticesSettled();
      assert.equal(notices.length, 1);
      const confused = await visitor().get(`${issuer}/oidc/logout?id_token_hint=${notices[0]}`);
      assert.equal(confused.status, 400, 'a logout token is no ID token hint');
      const keys = createLocalJWKSet(await (await fetch(`${issuer}/oidc/jwks`)).json());
      const { payload, protectedHeader } = await jwtVerify(notices[0]!, keys, { issuer, audience: clientId });
      assert.equal(protectedHeader.typ, 'logout+jwt');
      assert.equal(payload.sub, claims.sub);
      assert.equal(payload.sid, claims.sid);
      assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
      assert.equal(payload.nonce, undefined);
    });

    it('asks first without a hint for this session, and signs out only when the person says so', async () => {
      const { person } = await signedIn('jana.asked@example.cz');
      const asked = await person.get(`${issuer}/oidc/logout?client_id=${clientId}&post_logout_redirect_uri=${encodeURIComponent(SIGNED_OUT)}&state=s2`);
      assert.equal(asked.status, 200);
      assert.match(asked.html, /Relying Party asks to sign you out of Keygate/);
      assert.equal(await signedInStill(person), true, 'nothing happens before the person answers');
      const confirmed = await person.post('/oidc/logout/confirm', { client_id: clientId, post_logout_redirect_uri: SIGNED_OUT, state: 's2' });
      assert.equal(confirmed.location, `${SIGNED_OUT}?state=s2`);
      assert.equal(await signedInStill(person), false);

      const other = await signedIn('jana.other-session@example.cz');
      const stale = await other.person.get(oidc.buildEndSessionUrl(config, { id_token_hint: (await signedIn('jana.third@example.cz')).tokens.id_token! }).href);
      assert.equal(stale.status, 200, "another session's hint only leads to the question");
      assert.equal(await signedInStill(other.person), true);
    });

    it('refuses an unregistered post-logout URI or a forged hint on a page, changing nothing', async () => {
      const { person, tokens } = await signedIn('jana.forged@example.cz');
      const [header, body] = tokens.id_token!.split('.');
      for (const url of [
        `${issuer}/oidc/logout?client_id=${clientId}&post_logout_redirect_uri=${encodeURIComponent('https://evil.example.org/')}`,
        `${issuer}/oidc/logout?id_token_hint=${header}.${body}.${'A'.repeat(342)}`,
        `${issuer}/oidc/logout?id_token_hint=not-a-jwt`,
        `${issuer}/oidc/logout?post_logout_redirect_uri=${encodeURIComponent(SIGNED_OUT)}`,
      ]) {
        const refused = await person.get(url);
        assert.equal(refused.status, 400, url);
        assert.equal(refused.headers.location, undefined);
      }
      assert.equal(await signedInStill(person), true);
      assert.equal(config.serverMetadata().end_session_endpoint, `${issuer}/oidc/logout`);
    });
  });

  describe('private_key_jwt', () => {
    it('authenticates a client by a JWT signed with a key it registered, each assertion once', async () => {
      const { privateKey, publicKey } = await generateKeyPair('RS256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'rp-key-1', alg: 'RS256' };
      const rp = await keygate.services.apps.createApp({ name: 'Keyed RP', origins: [], returnUrls: [], redirectUris: [REDIRECT_URI] });
      await keygate.services.apps.updateClientJwks(rp.clientId, JSON.stringify({ keys: [jwk] }));
      // Earlier tests moved Keygate's clock on; the client is told how far, as it would be told of a real skew.
      const serverNow = () => Math.floor(keygate.clock.now().getTime() / 1000);
      const skew = serverNow() - Math.floor(Date.now() / 1000);
      const keyed = await oidc.discovery(new URL(issuer), rp.clientId, { [oidc.clockSkew]: skew }, oidc.PrivateKeyJwt({ key: privateKey, kid: 'rp-key-1' }), { execute: [oidc.allowInsecureRequests] });
      assert.ok(keyed.serverMetadata().token_endpoint_auth_methods_supported?.includes('private_key_jwt'));

      const person = visitor();
      const verifier = oidc.randomPKCECodeVerifier();
      const started = await person.get(oidc.buildAuthorizationUrl(keyed, {
        redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      }).href);
      const gateway = pathOf(started.headers.location as string);
      await signInNew(person, gateway, 'jana.keyed@example.cz');
      const decided = await person.post(`${gateway}/consent`, { decision: 'allow', fields: [] });
      const tokens = await oidc.authorizationCodeGrant(keyed, new URL(decided.location!), { pkceCodeVerifier: verifier });
      assert.equal(tokens.claims()!.aud, rp.clientId);

      const assertion = (options: { key?: Parameters<SignJWT['sign']>[0]; expiresIn?: number; audience?: string; jti?: string } = {}) => new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: 'rp-key-1' }).setIssuer(rp.clientId).setSubject(rp.clientId)
        .setAudience(options.audience ?? issuer).setIssuedAt(serverNow()).setExpirationTime(serverNow() + (options.expiresIn ?? 120)).setJti(options.jti ?? randomUUID())
        .sign(options.key ?? privateKey);
      const introspect = (clientAssertion: string) => fetch(`${issuer}/oidc/introspect`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tokens.access_token, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: clientAssertion }),
      });
      const once = await assertion();
      assert.equal((await (await introspect(once)).json()).active, true);
      assert.equal((await introspect(once)).status, 401, 'an assertion works once');
      const other = (await generateKeyPair('RS256')).privateKey;
      for (const bad of [
        await assertion({ key: other }), await assertion({ expiresIn: 3600 }), await assertion({ audience: 'https://elsewhere.example' }),
        // Only the issuer: an endpoint's URL as audience is what audience injection exploits.
        await assertion({ audience: `${issuer}/oidc/token` }), await assertion({ audience: `${issuer}/oidc/introspect` }), 'not.a.jwt',
      ]) {
        assert.equal((await introspect(bad)).status, 401);
      }
    });

    it('registers public keys only', async () => {
      const { privateKey } = await generateKeyPair('RS256', { extractable: true });
      const rp = await keygate.services.apps.createApp({ name: 'Careless RP', origins: [], returnUrls: [], redirectUris: [REDIRECT_URI] });
      for (const text of [JSON.stringify({ keys: [await exportJWK(privateKey)] }), '{"keys":[]}', 'not json', JSON.stringify({ keys: [{ kty: 'RSA', n: 'AQAB', e: 'AQAB' }] })]) {
        await assert.rejects(keygate.services.apps.updateClientJwks(rp.clientId, text), AppSettingsError);
      }
      assert.equal((await keygate.services.appDirectory.findApp(rp.clientId))!.clientJwks, null);
    });
  });

  it('signs ID tokens with a key the key set publishes', async () => {
    const jwks = await (await fetch(`${issuer}/oidc/jwks`)).json() as { keys: Array<{ kid: string }> };
    const person = visitor();
    const verifier = oidc.randomPKCECodeVerifier();
    const gateway = await authorize(person, { scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    await signInNew(person, gateway, 'jana.keys@example.cz');
    const decided = await person.post(`${gateway}/consent`, { decision: 'allow', fields: [] });
    const tokens = await oidc.authorizationCodeGrant(config, new URL(decided.location!), { pkceCodeVerifier: verifier });
    const header = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString()) as { kid: string; alg: string };
    assert.equal(header.alg, 'RS256');
    assert.ok(jwks.keys.some((k) => k.kid === header.kid));
    assert.equal(decodeJwt(tokens.id_token!).iss, issuer);
  });
});
