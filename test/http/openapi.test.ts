import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';
import { Ukey1ServerClient } from '../support/ukey1-client.js';
import { UKEY1_ENDPOINTS } from '../../src/http/api/ukey1-v2.js';
import { UKEY1_ERRORS, type Ukey1ErrorCode } from '../../src/protocols/ukey1/errors.js';

const ORIGIN = 'https://app.example.org';
const RETURN_URL = 'https://app.example.org/callback/';
const METHODS = ['get', 'post', 'delete'] as const;

/** The routes Fastify has, read from `printRoutes`' tree: each line adds its segment to its parent's path. */
function routesOf(tree: string): Array<{ method: string; path: string }> {
  const routes: Array<{ method: string; path: string }> = [];
  const pathAtDepth: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const path = (depth > 0 ? pathAtDepth[depth - 1]! : '') + match[2]!;
    pathAtDepth[depth] = path;
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, path });
  }
  return routes;
}

describe('the OpenAPI document of the Ukey1 v2 API (GET /openapi.json)', () => {
  let keygate: TestKeygate;
  let client: Ukey1ServerClient;
  let document: any;
  let headers: Record<string, unknown>;
  const ajv = addFormats.default(new Ajv2020({ strict: false }));

  before(async () => {
    keygate = await startTestKeygate();
    const app = await keygate.services.apps.createApp({ name: 'Documented App', origins: [ORIGIN], returnUrls: [RETURN_URL] });
    client = new Ukey1ServerClient(keygate.http, app.appId, app.secretKey, ORIGIN);
    const response = await keygate.http.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    headers = response.headers;
    document = response.json();
  });
  after(() => keygate.close());

  const operations = () => Object.entries(document.paths as Record<string, any>)
    .flatMap(([path, item]) => METHODS.filter((method) => item[method]).map((method) => ({ path, method, operation: item[method] })));

  it('is a valid OpenAPI 3.1 document naming the public URL as its server', async () => {
    const result = await new Validator().validate(document);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.match(document.openapi, /^3\.1\./);
    assert.deepEqual(document.servers, [{ url: 'http://localhost:8080' }]);
    assert.match(String(headers['content-type']), /^application\/json/);
    assert.match(String(headers['cache-control']), /max-age=\d+/);
  });

  it('documents every route Fastify has under /auth/v2/ (bar the CORS preflight and HEAD)', () => {
    const routed = routesOf(keygate.http.printRoutes({ commonPrefix: false }))
      .filter(({ path, method }) => path.startsWith('/auth/v2/') && method !== 'OPTIONS' && method !== 'HEAD');
    assert.ok(routed.length >= 7, JSON.stringify(routed));
    for (const { path, method } of routed) {
      assert.ok(document.paths[path]?.[method.toLowerCase()], `${method} ${path} is routed but not documented`);
    }
  });

  it('documents only operations the API answers (no 404 not_found, no 405)', async () => {
    assert.equal(operations().length, Object.keys(UKEY1_ENDPOINTS).length);
    for (const { path, method } of operations()) {
      const response = await keygate.http.inject({ method: method.toUpperCase() as 'GET', url: path });
      assert.notEqual(response.statusCode, 405, `${method} ${path}`);
      assert.notEqual(response.json().debug?.code, 'not_found', `${method} ${path}`);
      assert.equal(response.json().debug?.code, 'missing_app_id', `${method} ${path}`);
    }
  });

  it('lists for each endpoint only codes of UKEY1_ERRORS, each under its own status', () => {
    for (const { path, method, operation } of operations()) {
      for (const [status, response] of Object.entries(operation.responses as Record<string, any>)) {
        const schema = response.content['application/json'].schema;
        const codes: string[] = schema.properties.debug?.properties.code.enum ?? [];
        if (Number(status) < 400) {
          assert.equal(codes.length, 0);
          continue;
        }
        assert.ok(codes.length > 0, `${method} ${path} ${status} lists no code`);
        for (const code of codes) {
          assert.ok(code in UKEY1_ERRORS, `${method} ${path} lists ${code}, which is not a Ukey1 code`);
          assert.equal(UKEY1_ERRORS[code as Ukey1ErrorCode].status, Number(status), `${method} ${path} lists ${code} under ${status}`);
        }
      }
    }
  });

  it('lists the refusals of admission, of the body and of the endpoint itself', () => {
    const codesOf = (path: string, method: string) => Object.values(document.paths[path][method].responses as Record<string, any>)
      .flatMap((response) => response.content['application/json'].schema.properties.debug?.properties.code.enum ?? []);
    for (const { path, method } of operations()) {
      for (const code of ['missing_app_id', 'unknown_app', 'bad_signature', 'ip_not_allowed', 'origin_not_allowed', 'too_many_requests', 'internal_error']) {
        assert.ok(codesOf(path, method).includes(code), `${method} ${path} does not list ${code}`);
      }
    }
    assert.ok(codesOf('/auth/v2/connect', 'post').includes('invalid_scope'));
    assert.ok(codesOf('/auth/v2/connect', 'post').includes('body_too_large'));
    assert.ok(codesOf('/auth/v2/token', 'post').includes('code_already_used'));
    assert.ok(codesOf('/auth/v2/me', 'get').includes('missing_token'));
    assert.ok(!codesOf('/auth/v2/me', 'get').includes('invalid_json'), 'a GET has no body to refuse');
    assert.ok(codesOf('/auth/v2/extranet/users', 'delete').includes('ip_protection_required'));
    assert.ok(!codesOf('/auth/v2/connect', 'post').includes('ip_protection_required'));
  });

  it('describes the connect body as the API validates it, and its answers as the API sends them', async () => {
    const operation = document.paths['/auth/v2/connect'].post;
    const acceptsBody = ajv.compile(operation.requestBody.content['application/json'].schema);
    const created = ajv.compile(operation.responses['201'].content['application/json'].schema);
    const refused = ajv.compile(operation.responses['400'].content['application/json'].schema);

    for (const body of [{ request_id: 1234, scope: ['email', 'firstname!'], return_url: RETURN_URL }, { request_id: 'ref-1', return_url: RETURN_URL }]) {
      assert.ok(acceptsBody(body), JSON.stringify(acceptsBody.errors));
      const response = await client.call('POST', '/auth/v2/connect', body);
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.ok(created(response.body), JSON.stringify(created.errors));
    }
    for (const body of [
      { request_id: 1.5, return_url: RETURN_URL },
      { request_id: '', return_url: RETURN_URL },
      { request_id: 'x'.repeat(129), return_url: RETURN_URL },
      { request_id: 'a', scope: 'email', return_url: RETURN_URL },
      { request_id: 'a', scope: [] },
    ]) {
      assert.ok(!acceptsBody(body), `the document accepts ${JSON.stringify(body)}`);
      const response = await client.call('POST', '/auth/v2/connect', body);
      assert.equal(response.status, 400, JSON.stringify(response.body));
      assert.equal(response.body.debug.code, 'invalid_request');
      assert.ok(refused(response.body), JSON.stringify(refused.errors));
    }
  });

  it('describes every request body as its zod schema accepts and refuses it', () => {
    const samples: Record<string, { valid: unknown[]; invalid: unknown[] }> = {
      token: { valid: [{ request_id: 7, connect_id: 'c', auth_code: 'a' }], invalid: [{ request_id: 7, connect_id: '', auth_code: 'a' }, { connect_id: 'c', auth_code: 'a' }] },
      refresh: { valid: [{ refresh_token: 'eu.x' }], invalid: [{}, { refresh_token: 'x'.repeat(257) }, { refresh_token: 1 }] },
      inviteExtranetUser: { valid: [{ email: 'a@example.org' }, { email: 'a@example.org', locale: 'cs_CZ' }], invalid: [{ email: 'a' }, { email: 'a@example.org', locale: 'x'.repeat(17) }] },
      removeExtranetUser: { valid: [{ reference_id: 'r' }], invalid: [{ reference_id: '' }, []] },
    };
    for (const [name, { valid, invalid }] of Object.entries(samples)) {
      const endpoint = UKEY1_ENDPOINTS[name as keyof typeof UKEY1_ENDPOINTS];
      assert.ok('body' in endpoint);
      const documented = ajv.compile(document.paths[endpoint.path][endpoint.method.toLowerCase()].requestBody.content['application/json'].schema);
      for (const body of [...valid, ...invalid]) {
        assert.equal(documented(body), endpoint.body.safeParse(body).success, `${name}: the document and the API disagree on ${JSON.stringify(body)}`);
      }
    }
  });

  it('is served to any origin, with nothing on it that must not be cached', async () => {
    assert.equal(headers['access-control-allow-origin'], '*');
    assert.doesNotMatch(String(headers['cache-control']), /no-store/);
  });
});
