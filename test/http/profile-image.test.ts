import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { connectIdOf, GatewayVisitor, SIGN_UP_JANA } from '../support/gateway-visitor.js';
import { jpegWithGps } from '../support/images.js';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';

const ORIGIN = 'https://pictures.example.org';
const RETURN = `${ORIGIN}/back`;

/** A multipart form as a browser sends it. */
async function multipartBody(fields: Record<string, string>, file?: { name: string; type: string; bytes: Buffer }) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file) form.append('image', new Blob([new Uint8Array(file.bytes)], { type: file.type }), file.name);
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return { payload: Buffer.from(await request.arrayBuffer()), contentType: request.headers.get('content-type')! };
}

describe('profile pictures', () => {
  let keygate: TestKeygate;
  let client: Ukey1ServerClient;

  before(async () => {
    keygate = await startTestKeygate();
    const app = await keygate.services.apps.createApp({ name: 'Picture App', origins: [ORIGIN], returnUrls: [RETURN] });
    client = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
  });
  after(() => keygate.close());

  async function personWithApp(email: string) {
    const visitor = new GatewayVisitor(keygate.http);
    const connect = await client.connect({ request_id: email, scope: ['firstname', 'image'], return_url: RETURN });
    const base = `/gateway/${connectIdOf(connect.body.gateway)}`;
    assert.equal((await visitor.signUp(base, { ...SIGN_UP_JANA, email }, keygate.outbox)).status, 303);
    const allowed = await visitor.post(`${base}/consent`, { decision: 'allow', fields: ['firstname', 'image'] });
    const code = new URL(allowed.location!).searchParams.get('_ukey1[code]')!;
    const token = (await client.token({ request_id: email, connect_id: connect.body.connect_id, auth_code: code })).body.access_token as string;
    return { visitor, token };
  }

  async function upload(visitor: GatewayVisitor, file?: { name: string; type: string; bytes: Buffer }) {
    const page = await visitor.get('/account/profile');
    assert.equal(page.status, 200);
    const { payload, contentType } = await multipartBody({ _csrf: visitor.csrf! }, file);
    const cookie = [...visitor.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    return keygate.http.inject({ method: 'POST', url: '/account/image', headers: { 'content-type': contentType, cookie }, payload });
  }

  const people = async () => keygate.stores.zones.eu.db.selectFrom('people').select(['id', 'image_ct']).where('image_ct', 'is not', null).execute();

  it('re-encodes an upload without its metadata, serves it to the app by an expiring link, and audits each fetch', async () => {
    const { visitor, token } = await personWithApp('picture@example.cz');
    const original = await jpegWithGps();
    const originalExif = (await sharp(original).metadata()).exif!;
    assert.ok(originalExif.includes(Buffer.from('TestCam')), 'the test photo carries EXIF');
    assert.equal((await client.me(token)).body.user.image, null, 'no picture yet');

    const uploaded = await upload(visitor, { name: 'holiday.jpg', type: 'image/jpeg', bytes: original });
    assert.equal(uploaded.statusCode, 200);
    assert.match(uploaded.body, /Picture saved/);
    const stored = await people();
    assert.equal(stored.length, 1);
    assert.ok(!Buffer.from(stored[0]!.image_ct!).includes(Buffer.from('TestCam')), 'stored sealed');

    const me = await client.me(token);
    const link = new URL(me.body.user.image);
    assert.equal(link.origin, 'http://localhost:8080', 'an absolute URL');
    const fetched = await keygate.http.inject({ method: 'GET', url: link.pathname });
    assert.equal(fetched.statusCode, 200);
    assert.equal(fetched.headers['content-type'], 'image/webp');
    const served = await sharp(fetched.rawPayload).metadata();
    assert.deepEqual([served.format, served.width, served.height], ['webp', 512, 512]);
    assert.equal(served.exif, undefined, 'no EXIF (no GPS) in what is served');
    assert.equal(served.xmp, undefined);
    const reads = await keygate.stores.zones.eu.db.selectFrom('audit_events').select(['purpose', 'app_id'])
      .where('action', '=', 'field.read').where('field', '=', 'image').where('purpose', '=', 'image fetch').execute();
    assert.equal(reads.length, 1);
    assert.equal(reads[0]!.app_id, client.appId);

    keygate.clock.advance(61 * 60);
    assert.equal((await keygate.http.inject({ method: 'GET', url: link.pathname })).statusCode, 404, 'the link expires');
    const fresh = new URL((await client.me(token)).body.user?.image ?? 'http://x/none');
    assert.equal(fresh.pathname, '/none', 'the old access token has expired too');
  });

  it('stops serving the picture the moment the person revokes the field', async () => {
    const { visitor, token } = await personWithApp('revoke.picture@example.cz');
    assert.equal((await upload(visitor, { name: 'me.png', type: 'image/png', bytes: await sharp({ create: { width: 40, height: 40, channels: 4, background: '#0f0' } }).png().toBuffer() })).statusCode, 200);
    const link = new URL((await client.me(token)).body.user.image);
    assert.equal((await keygate.http.inject({ method: 'GET', url: link.pathname })).statusCode, 200);
    await visitor.get('/account/apps');
    assert.equal((await visitor.post('/account/apps/revoke-field', { app: client.appId, field: 'image' })).status, 200);
    assert.equal((await keygate.http.inject({ method: 'GET', url: link.pathname })).statusCode, 404);
  });

  it('refuses disguised, truncated, oversized and missing files, and keeps what was there', async () => {
    const { visitor } = await personWithApp('bad.picture@example.cz');
    const before = (await people()).length;
    const cases: Array<[string, { name: string; type: string; bytes: Buffer } | undefined, number]> = [
      ['a script named .png', { name: 'evil.png', type: 'image/png', bytes: Buffer.from('<script>alert(1)</script>') }, 400],
      ['a truncated JPEG', { name: 'cut.jpg', type: 'image/jpeg', bytes: (await jpegWithGps()).subarray(0, 400) }, 400],
      ['a GIF', { name: 'anim.gif', type: 'image/gif', bytes: await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).gif().toBuffer() }, 400],
      ['no file at all', undefined, 400],
      ['more than 5 MB', { name: 'huge.jpg', type: 'image/jpeg', bytes: Buffer.alloc(5 * 1024 * 1024 + 10, 1) }, 413],
    ];
    for (const [what, file, status] of cases) {
      const response = await upload(visitor, file);
      assert.equal(response.statusCode, status, what);
      assert.match(response.headers['content-type'] as string, /text\/html/, what);
      assert.doesNotMatch(response.body, /at .*\.ts:\d+/, what);
    }
    assert.equal((await people()).length, before);
    assert.equal((await keygate.http.inject({ method: 'GET', url: '/images/not-a-real-link-but-long-enough-to-look-like-one-aaaaaaaa' })).statusCode, 404);
  });
});
