import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { isValidRedirectSignature, secretKeyPem, Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://shop.example.org';
const RETURN_URL = 'https://shop.example.org/callback/?lang=cs#top';

describe('the Ukey1 v2 sign-in flow, driven by a server-side client written from the spec', () => {
  let keygate: TestKeygate;
  let client: Ukey1ServerClient;

  before(async () => {
    keygate = await startTestKeygate();
    const { appId, secretKey } = await keygate.services.apps.createApp({
      name: 'Example Shop',
      origins: [ORIGIN],
      returnUrls: ['https://shop.example.org/callback/'],
    });
    client = new Ukey1ServerClient(keygate.http, appId, secretKey, ORIGIN);
  });
  after(() => keygate.close());

  async function signUpAndDecide(visitor: GatewayVisitor, scope: string[], decide: (connectId: string) => Promise<{ location?: string }>) {
    const connect = await client.connect({ request_id: `req-${Math.random()}`, scope, return_url: RETURN_URL });
    assert.equal(connect.status, 201);
    assert.equal(connect.body.result, 201);
    const connectId = connectIdOf(connect.body.gateway);
    assert.equal(connect.body.connect_id, connectId);
    const decided = await decide(connectId);
    assert.ok(decided.location, 'the gateway redirects back to the app');
    return { connect, redirect: new URL(decided.location!) };
  }

  it('signs up, grants some fields, and the app reads exactly those', async () => {
    const visitor = new GatewayVisitor(keygate.http);
    const requestId = 'order-42';
    const connect = await client.connect({ request_id: requestId, scope: ['firstname', 'surname!', 'email', 'country'], return_url: RETURN_URL });
    assert.equal(connect.status, 201);
    assert.match(connect.body.connect_id, /^[0-9a-f-]{36}$/);
    assert.equal(connect.body.gateway, `http://localhost:8080/gateway/${connect.body.connect_id}`);

    const signUpPage = await visitor.get(`${connect.body.gateway}?signup=1`);
    assert.equal(signUpPage.status, 200);
    assert.match(signUpPage.html, /<label for="email">Email<\/label>/);
    assert.match(signUpPage.html, /<label for="country">Country<\/label>/);

    const signedUp = await visitor.signUp(`/gateway/${connect.body.connect_id}`, SIGN_UP_JANA, keygate.outbox);
    assert.equal(signedUp.status, 303);
    assert.equal(signedUp.location, `/gateway/${connect.body.connect_id}`);

    const consent = await visitor.get(signedUp.location!);
    assert.equal(consent.status, 200);
    assert.match(consent.html, /Allow Example Shop to sign you in\?/);
    assert.doesNotMatch(consent.html, /checked/, 'nothing is pre-ticked');
    assert.match(consent.html, /id="field-surname" name="fields" value="surname" required/);
    assert.match(consent.html, /Required by Example Shop: /);
    assert.match(consent.headers['content-security-policy'] as string, /form-action 'self' https:\/\/shop\.example\.org/);

    // Grant first name and the mandatory surname; refuse email and country.
    const decided = await visitor.post(`/gateway/${connect.body.connect_id}/consent`, { decision: 'allow', fields: ['firstname', 'surname'] });
    assert.equal(decided.status, 303);
    const redirect = new URL(decided.location!);
    assert.equal(`${redirect.origin}${redirect.pathname}`, 'https://shop.example.org/callback/');
    assert.equal(redirect.hash, '#top', 'the fragment is kept');
    assert.equal(redirect.searchParams.get('lang'), 'cs', "the return URL's own query is kept");
    assert.equal(redirect.searchParams.get('_ukey1[request_id]'), requestId);
    assert.equal(redirect.searchParams.get('_ukey1[connect_id]'), connect.body.connect_id);
    assert.equal(redirect.searchParams.get('_ukey1[result]'), 'authorized');
    const code = redirect.searchParams.get('_ukey1[code]')!;
    assert.match(code, /^[A-Za-z0-9_-]{20,}$/);
    assert.ok(isValidRedirectSignature(client.secretKey, client.appId, redirect.searchParams), 'the redirect signature verifies with the Secret Key');

    const token = await client.token({ request_id: requestId, connect_id: connect.body.connect_id, auth_code: code });
    assert.equal(token.status, 200);
    assert.equal(token.body.result, 200);
    assert.deepEqual(token.body.scope, ['firstname', 'surname']);
    assert.match(token.body.expiration, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.equal(token.headers['cache-control'], 'no-store', 'no cache may keep a token');
    assert.equal(decodeProtectedHeader(token.body.access_token).alg, 'RS512');
    const { payload } = await jwtVerify(token.body.access_token, await importSPKI(secretKeyPem(client.secretKey), 'RS512'), {
      algorithms: ['RS512'],
      audience: client.appId,
      currentDate: keygate.clock.now(),
    });
    const userId = (payload.user as { id: string }).id;
    assert.match(userId, /^[0-9a-f-]{36}$/);
    assert.ok(payload.exp! - payload.iat! <= 60 * 60, 'the token lives minutes, not hours');
    assert.equal(payload.nbf, payload.iat);

    const me = await client.me(token.body.access_token);
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, {
      result: 200,
      scope: ['firstname', 'surname'],
      user: { id: userId, firstname: 'Jana', surname: 'Nováková', email: null, image: null, country: null, language: null },
    });

    const scopes = await client.scopes(token.body.access_token);
    assert.equal(scopes.status, 200);
    assert.deepEqual(scopes.body.permissions, ['firstname', 'surname']);
    assert.deepEqual(scopes.body['rejected-permissions'], ['email', 'country']);

    // The code is single-use: a second exchange fails and revokes the token the first one issued.
    const replay = await client.token({ request_id: requestId, connect_id: connect.body.connect_id, auth_code: code });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.debug.code, 'code_already_used');
    const afterReplay = await client.me(token.body.access_token);
    assert.equal(afterReplay.status, 401);
    assert.equal(afterReplay.body.debug.code, 'invalid_token');
    // Both refusals are in the app's trail in the control plane.
    const refusals = await keygate.stores.control.db.selectFrom('audit_events').select('detail')
      .where('app_id', '=', client.appId).where('action', '=', 'api.refused').execute();
    assert.deepEqual(refusals.map((r) => r.detail).filter((d) => d?.startsWith('token.')).sort(), ['token.code_already_used', 'token.invalid_token']);
  });

  it('records one audit event per field read by /me, in the person\'s zone', async () => {
    const visitor = new GatewayVisitor(keygate.http);
    const person = { ...SIGN_UP_JANA, email: 'audit.reader@example.cz' };
    const { connect, redirect } = await signUpAndDecide(visitor, ['firstname', 'email', 'country', 'language'], async (connectId) => {
      await visitor.signUp(`/gateway/${connectId}`, person, keygate.outbox);
      return visitor.post(`/gateway/${connectId}/consent`, { decision: 'allow', fields: ['firstname', 'email', 'country', 'language'] });
    });
    const token = await client.token({ request_id: redirect.searchParams.get('_ukey1[request_id]')!, connect_id: connect.body.connect_id, auth_code: redirect.searchParams.get('_ukey1[code]')! });
    const before = await keygate.stores.zones.eu.db.selectFrom('audit_events').select((eb) => eb.fn.max('id').as('last')).executeTakeFirstOrThrow();
    const me = await client.me(token.body.access_token);
    assert.equal(me.body.user.email, 'audit.reader@example.cz');
    assert.equal(me.body.user.country, 'CZ');
    assert.equal(me.body.user.language, 'cs');
    const reads = await keygate.stores.zones.eu.db.selectFrom('audit_events').select(['field', 'app_id', 'actor_kind'])
      .where('action', '=', 'field.read').where('id', '>', Number(before.last)).execute();
    assert.ok(reads.every((r) => r.app_id === client.appId && r.actor_kind === 'app'));
    assert.deepEqual(reads.map((r) => r.field).sort(), ['country', 'email', 'firstname', 'language']);
    const inUs = await keygate.stores.zones.us.db.selectFrom('audit_events').select('id').where('action', '=', 'field.read').execute();
    assert.equal(inUs.length, 0);
  });

  it('rotates refresh tokens, and a reused refresh token revokes its whole family', async () => {
    const visitor = new GatewayVisitor(keygate.http);
    const { connect, redirect } = await signUpAndDecide(visitor, ['firstname'], async (connectId) => {
      await visitor.signUp(`/gateway/${connectId}`, { ...SIGN_UP_JANA, email: 'refresh@example.cz' }, keygate.outbox);
      return visitor.post(`/gateway/${connectId}/consent`, { decision: 'allow', fields: ['firstname'] });
    });
    const first = await client.token({ request_id: redirect.searchParams.get('_ukey1[request_id]')!, connect_id: connect.body.connect_id, auth_code: redirect.searchParams.get('_ukey1[code]')! });
    assert.match(first.body.refresh_token, /^eu\.[A-Za-z0-9_-]{43}$/);

    const second = await client.call('POST', '/auth/v2/token/refresh', { refresh_token: first.body.refresh_token });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.deepEqual(second.body.scope, ['firstname']);
    assert.notEqual(second.body.refresh_token, first.body.refresh_token);
    assert.equal((await client.me(second.body.access_token)).body.user.firstname, 'Jana');

    // The first refresh token was copied and replayed: everything of the family dies.
    const replay = await client.call('POST', '/auth/v2/token/refresh', { refresh_token: first.body.refresh_token });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.debug.code, 'refresh_token_reused');
    assert.equal((await client.me(second.body.access_token)).status, 401);
    assert.equal((await client.me(first.body.access_token)).status, 401);
    const third = await client.call('POST', '/auth/v2/token/refresh', { refresh_token: second.body.refresh_token });
    assert.equal(third.body.debug.code, 'invalid_refresh_token');

    for (const junk of ['', 'eu.short', 'xx.' + 'a'.repeat(43), 'us.' + 'a'.repeat(43)]) {
      const refused = await client.call('POST', '/auth/v2/token/refresh', { refresh_token: junk });
      assert.equal(refused.status, 400, junk);
    }
  });

  it('returns `canceled` with no code when the person cancels, and the connect cannot be reused', async () => {
    const visitor = new GatewayVisitor(keygate.http);
    const { connect, redirect } = await signUpAndDecide(visitor, ['email'], async (connectId) =>
      visitor.post(`/gateway/${connectId}/cancel`, {}));
    assert.equal(redirect.searchParams.get('_ukey1[result]'), 'canceled');
    assert.equal(redirect.searchParams.get('_ukey1[code]'), '');
    assert.ok(isValidRedirectSignature(client.secretKey, client.appId, redirect.searchParams));
    const page = await visitor.get(connect.body.gateway);
    assert.equal(page.status, 404);
    const token = await client.token({ request_id: redirect.searchParams.get('_ukey1[request_id]')!, connect_id: connect.body.connect_id, auth_code: 'anything' });
    assert.equal(token.body.debug.code, 'invalid_code');
  });

  it('refuses a code after it expires (60 s)', async () => {
    const visitor = new GatewayVisitor(keygate.http);
    const { connect, redirect } = await signUpAndDecide(visitor, ['firstname'], async (connectId) => {
      await visitor.signUp(`/gateway/${connectId}`, { ...SIGN_UP_JANA, email: 'slow.app@example.cz' }, keygate.outbox);
      return visitor.post(`/gateway/${connectId}/consent`, { decision: 'allow', fields: ['firstname'] });
    });
    keygate.clock.advance(61);
    const token = await client.token({ request_id: redirect.searchParams.get('_ukey1[request_id]')!, connect_id: connect.body.connect_id, auth_code: redirect.searchParams.get('_ukey1[code]')! });
    assert.equal(token.status, 400);
    assert.equal(token.body.debug.code, 'invalid_code');
  });

  it('a signed-in person coming back for another app sees only the consent step', async () => {
    const visitor = new GatewayVisitor(keygate.http);
    const first = await client.connect({ request_id: 'a', scope: ['firstname'], return_url: RETURN_URL });
    await visitor.signUp(`/gateway/${first.body.connect_id}`, { ...SIGN_UP_JANA, email: 'returning@example.cz' }, keygate.outbox);
    await visitor.post(`/gateway/${first.body.connect_id}/consent`, { decision: 'allow', fields: ['firstname'] });

    const other = await keygate.services.apps.createApp({ name: 'Second App', origins: ['https://second.example.com'], returnUrls: ['https://second.example.com/back'] });
    const secondClient = new Ukey1ServerClient(keygate.http, other.appId, other.secretKey, 'https://second.example.com');
    const second = await secondClient.connect({ request_id: 'b', scope: ['email'], return_url: 'https://second.example.com/back' });
    const page = await visitor.get(second.body.gateway);
    assert.match(page.html, /Allow Second App to sign you in\?/);
    assert.doesNotMatch(page.html, /type="password"/);
  });

  it('signs in an existing person with email and password, and refuses a wrong password without saying which part was wrong', async () => {
    const owner = new GatewayVisitor(keygate.http);
    const first = await client.connect({ request_id: 'x', scope: [], return_url: RETURN_URL });
    await owner.signUp(`/gateway/${first.body.connect_id}`, { ...SIGN_UP_JANA, email: 'signin.test@example.cz' }, keygate.outbox);

    const visitor = new GatewayVisitor(keygate.http);
    const connect = await client.connect({ request_id: 'y', scope: ['firstname!'], return_url: RETURN_URL });
    const wrong = await visitor.post(`/gateway/${connect.body.connect_id}/sign-in`, { email: 'signin.test@example.cz', password: 'not the password' });
    const unknown = await visitor.post(`/gateway/${connect.body.connect_id}/sign-in`, { email: 'nobody@example.cz', password: 'not the password' });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    const message = (html: string) => /<p class="alert" role="alert">([^<]*)<\/p>/.exec(html)?.[1];
    assert.equal(message(wrong.html), message(unknown.html));
    assert.match(wrong.html, /value="signin.test@example.cz"/, 'the email is kept');

    const ok = await visitor.post(`/gateway/${connect.body.connect_id}/sign-in`, { email: 'SignIn.Test@Example.CZ', password: SIGN_UP_JANA.password });
    assert.equal(ok.status, 303);
    // A mandatory field cannot be refused: Allow without it re-renders the consent with the reason.
    const refused = await visitor.post(`/gateway/${connect.body.connect_id}/consent`, { decision: 'allow' });
    assert.equal(refused.status, 400);
    assert.match(refused.html, /cannot work without the fields marked required/);
    const allowed = await visitor.post(`/gateway/${connect.body.connect_id}/consent`, { decision: 'allow', fields: 'firstname' });
    assert.equal(new URL(allowed.location!).searchParams.get('_ukey1[result]'), 'authorized');
  });
});
