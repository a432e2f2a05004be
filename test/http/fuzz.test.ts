import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ACCOUNT_CENTRE_FORMS, ACCOUNT_SECURITY_FORMS, API_BODY_FIELDS, CODE_FIELDS, CONSENT_FIELDS, DASHBOARD_APP_FORMS, EMAIL_FIELDS, NEW_APP_FIELDS, ORIGIN,
  OIDC_AUTHORIZE_FIELDS, OIDC_LOGOUT_FIELDS, OIDC_TOKEN_FIELDS, OWNER_INVITATION_FIELDS, RESET_FIELDS, SIGN_IN_FIELDS, SIGN_UP_FIELDS,
  clientAuthorizationish, encodeForm, formPairs,
  apiBody, appIdish, authorizationish, contentTypeish, encodedSegment, extraHeaders, formBody, formHeaders, headerValue,
  malformedSegment, originish, queryish, signatureish, uuidLike, wellTypedObject,
  type Browser, type FormFields, type FuzzRequest, type Method, type Signer,
} from '../support/fuzz-arbitraries.js';
import { FuzzHarness } from '../support/fuzz-harness.js';

/**
 * Property-based fuzzing of every API endpoint and every form with fast-check, through
 * `server.inject` into the real app on in-memory stores. For every generated request:
 * no 5xx; on the API the Ukey1 envelope (`result` = HTTP status, and on a refusal
 * `debug.code` and `debug.message`); elsewhere an HTML page with a title and a heading
 * and no stack trace, or a redirect that stays on site; and a refused request (>= 400)
 * leaves the row counts of the control plane and of every zone as they were (and no
 * row of the control plane's apps, owners, lists or connect requests updated). Signed
 * requests and forms with a valid CSRF token may succeed; those are not held to
 * "nothing written", and the fixtures they use up are put back afterwards.
 *
 * The seed is random on every run; fast-check prints it with any counterexample, and
 * `FUZZ_SEED=<seed>` replays a run. The budgets add up to 11,800 requests (the two
 * malformed-path properties stop early while their bug stands: about 11,500).
 */

const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

/** How often an optional header is there. */
const usually = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(undefined) });
const sometimes = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 1, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(undefined) });
const rarely = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 1, arbitrary: arb }, { weight: 6, arbitrary: fc.constant(undefined) });

const compact = (headers: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined));

const API_ENDPOINTS = [
  { method: 'POST', path: '/auth/v2/connect', fields: 'connect' },
  { method: 'POST', path: '/auth/v2/token', fields: 'token' },
  { method: 'POST', path: '/auth/v2/token/refresh', fields: 'refresh' },
  { method: 'GET', path: '/auth/v2/me', fields: 'none' },
  { method: 'GET', path: '/auth/v2/system/scopes', fields: 'none' },
  { method: 'POST', path: '/auth/v2/extranet/users', fields: 'invite' },
  { method: 'DELETE', path: '/auth/v2/extranet/users', fields: 'remove' },
] as const satisfies ReadonlyArray<{ method: Method; path: string; fields: string }>;
const METHODS: Method[] = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD'];

const apiQuery = fc.oneof({ weight: 8, arbitrary: fc.constant('') }, { weight: 1, arbitrary: queryish });
const someExtraHeaders = fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extraHeaders });

/** Unsigned calls (as a browser, or a forger) with every header garbage or missing. */
const unsignedApiCall: fc.Arbitrary<FuzzRequest> = fc.constantFrom(...API_ENDPOINTS).chain((endpoint) => fc.record({
  endpoint: fc.constant(endpoint),
  query: apiQuery,
  body: apiBody(API_BODY_FIELDS[endpoint.fields]!),
  headers: fc.record({
    'x-ukey1-app': usually(appIdish),
    'x-ukey1-signature': sometimes(signatureish),
    authorization: sometimes(authorizationish),
    origin: usually(originish),
    'x-origin': sometimes(originish),
    'content-type': sometimes(contentTypeish),
  }, { noNullPrototype: true }),
  extra: someExtraHeaders,
})).map(({ endpoint, query, body, headers, extra }) => ({
  method: endpoint.method, url: `${endpoint.path}${query}`, headers: compact({ ...extra, ...headers }), ...(body === undefined ? {} : { body }),
}));

/** Calls signed properly with a real app's Secret Key over the fuzzed body, so that the body is parsed. */
const signedApiCall: fc.Arbitrary<FuzzRequest> = fc.constantFrom(...API_ENDPOINTS).chain((endpoint) => fc.record({
  endpoint: fc.constant(endpoint),
  signer: fc.constantFrom<Signer>('app', 'app', 'app', 'privateApp', 'privateApp', 'serverOnlyApp', 'ipApp'),
  as: fc.oneof({ weight: 12, arbitrary: fc.constant('self' as const) }, { weight: 1, arbitrary: fc.constantFrom('otherPath' as const, 'otherApp' as const) }),
  query: apiQuery,
  body: apiBody(API_BODY_FIELDS[endpoint.fields]!),
  headers: fc.record({
    'x-origin': fc.oneof({ weight: 8, arbitrary: fc.constant(ORIGIN) }, { weight: 1, arbitrary: originish }, { weight: 1, arbitrary: fc.constant(undefined) }),
    'x-ukey1-app': rarely(appIdish),
    origin: rarely(originish),
    'content-type': sometimes(contentTypeish),
    authorization: endpoint.fields === 'none'
      ? fc.oneof({ weight: 4, arbitrary: fc.constant('Bearer {{accessToken}}') }, { weight: 2, arbitrary: authorizationish }, { weight: 1, arbitrary: fc.constant(undefined) })
      : rarely(authorizationish),
  }, { noNullPrototype: true }),
  extra: someExtraHeaders,
})).map(({ endpoint, signer, as, query, body, headers, extra }) => ({
  method: endpoint.method, url: `${endpoint.path}${query}`, headers: compact({ ...extra, ...headers }),
  ...(body === undefined ? {} : { body }), sign: { app: signer, as },
}));

/**
 * Signed calls a real server could send, with every header right, whose body fields all
 * have the right type but odd content (NUL and other control characters, lone
 * surrogates, blanks, maximal lengths): what reaches the services and the stores. The
 * endpoints that write (connect, invite) come up twice as often.
 */
const wellTypedSignedCall: fc.Arbitrary<FuzzRequest> = fc.constantFrom(...API_ENDPOINTS, API_ENDPOINTS[0], API_ENDPOINTS[5]).chain((endpoint) => fc.record({
  endpoint: fc.constant(endpoint),
  signer: fc.constantFrom<Signer>('app', 'app', 'privateApp', 'privateApp', 'serverOnlyApp'),
  body: wellTypedObject(API_BODY_FIELDS[endpoint.fields]!),
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', undefined),
  authorization: endpoint.fields === 'none' ? usually(fc.constant('Bearer {{accessToken}}')) : fc.constant(undefined),
})).map(({ endpoint, signer, body, contentType, authorization }) => ({
  method: endpoint.method, url: endpoint.path,
  headers: compact({ 'x-origin': ORIGIN, 'content-type': endpoint.method === 'GET' ? undefined : contentType, authorization }),
  ...(endpoint.method === 'GET' ? {} : { body }), sign: { app: signer, as: 'self' as const },
}));

/** Paths under /auth that are no endpoint, and endpoints with the wrong method. */
const apiPath = fc.oneof(
  fc.array(encodedSegment, { minLength: 1, maxLength: 4 }).map((segments) => `/auth/v2/${segments.join('/')}`),
  fc.tuple(fc.constantFrom(...API_ENDPOINTS.map((e) => e.path)), fc.constantFrom('', '/', '//', '/x', '/..', '%2F', '.json', '/%00', ';', '%20', '/%2e%2e/connect'))
    .map(([path, suffix]) => `${path}${suffix}`),
  fc.constantFrom('/auth/', '/auth/v2', '/auth/v2/', '/auth/v1/connect', '/auth/v3/connect', '/auth/V2/connect', '/auth/v2/CONNECT',
    '/auth//v2/connect', '/auth/v2/./connect', '/auth/v2/x/../connect', '/auth/v2/system', '/auth/v2/system/scopes/x',
    '/auth/v2/extranet', '/auth/v2/extranet/users/x', '/auth/v2/token/refresh/', '/auth/v2/*'),
  fc.array(encodedSegment, { minLength: 1, maxLength: 3 }).map((segments) => `/auth/${segments.join('/')}`),
);
const apiPathCall: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.constantFrom(...METHODS),
  path: apiPath,
  query: apiQuery,
  app: rarely(appIdish),
  origin: rarely(originish),
  body: rarely(apiBody(API_BODY_FIELDS.connect!)),
  signer: rarely(fc.constantFrom<Signer>('app', 'serverOnlyApp')),
}).map(({ method, path, query, app, origin, body, signer }) => ({
  method, url: `${path}${query}`, headers: compact({ 'x-ukey1-app': app, origin, 'x-origin': ORIGIN }),
  ...(body === undefined ? {} : { body }), ...(signer === undefined ? {} : { sign: { app: signer, as: 'self' as const } }),
}));

/** CORS preflights from any origin, for any path under /auth/v2. */
const preflight: fc.Arbitrary<FuzzRequest> = fc.record({
  path: fc.oneof(fc.constantFrom(...API_ENDPOINTS.map((e) => e.path)), apiPath),
  origin: usually(originish),
  method: sometimes(fc.oneof(fc.constantFrom('POST', 'GET', 'DELETE', 'PUT', 'post'), headerValue)),
  requestHeaders: sometimes(fc.oneof(fc.constantFrom('content-type,x-ukey1-app', 'authorization', 'X-Ukey1-Signature, X-Origin', 'x-evil'), headerValue)),
  app: rarely(appIdish),
  body: rarely(apiBody(API_BODY_FIELDS.none!)),
}).map(({ path, origin, method, requestHeaders, app, body }) => ({
  method: 'OPTIONS' as const, url: path,
  headers: compact({ origin, 'access-control-request-method': method, 'access-control-request-headers': requestHeaders, 'x-ukey1-app': app }),
  ...(body === undefined ? {} : { body }),
}));

/** Paths whose percent-encoding does not decode, under `prefixes`. */
const malformedPathCall = (...prefixes: string[]): fc.Arbitrary<FuzzRequest> => fc.record({
  method: fc.constantFrom<Method>('GET', 'POST', 'OPTIONS', 'DELETE'),
  prefix: fc.constantFrom(...prefixes),
  segment: malformedSegment,
  suffix: fc.constantFrom('', '/sign-in', '/consent', '/rename', '/x'),
  browser: fc.constantFrom<Browser>('visitor', 'anonymous', 'none'),
}).map(({ method, prefix, segment, suffix, browser }): FuzzRequest => ({
  method, url: `${prefix}${segment}${suffix}`, browser,
  headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
  ...(method === 'POST' ? { body: '_csrf={{csrf}}' } : {}),
}));

// Forms -----------------------------------------------------------------------------------

/** The sign-in steps, under `/gateway/:connectId` and under `/dashboard` (src/http/interaction/sign-in-flow.ts). */
const SIGN_IN_STEPS: Record<string, FormFields> = {
  'sign-in': SIGN_IN_FIELDS, 'sign-up': SIGN_UP_FIELDS, confirm: CODE_FIELDS, 'email-code': EMAIL_FIELDS, 'email-code/confirm': CODE_FIELDS,
  forgot: EMAIL_FIELDS, 'second-factor': CODE_FIELDS,
};
const GATEWAY_FORMS: Record<string, FormFields> = { ...SIGN_IN_STEPS, consent: CONSENT_FIELDS, cancel: {}, 'sign-out': {} };
const DASHBOARD_FORMS: Record<string, FormFields> = {
  ...Object.fromEntries(Object.entries(SIGN_IN_STEPS).map(([step, fields]) => [`/dashboard/${step}`, fields])),
  '/dashboard/sign-out': {}, '/dashboard/apps': NEW_APP_FIELDS,
};
const ACCOUNT_FORMS: Record<string, FormFields> = {
  ...Object.fromEntries(Object.entries(SIGN_IN_STEPS).map(([step, fields]) => [`/account/${step}`, fields])),
  '/account/sign-out': {},
  ...Object.fromEntries(Object.entries(ACCOUNT_SECURITY_FORMS).map(([form, fields]) => [`/account/security/${form}`, fields])),
  ...Object.fromEntries(Object.entries(ACCOUNT_CENTRE_FORMS).map(([form, fields]) => [`/account/${form}`, fields])),
};
const PAGE_STEPS = ['', '/', '/x', '/sign-in', '/sign-up', '/email-code', '/forgot', '/second-factor', '/confirm', '/security'];

/** Mostly none: a browser posting its own form sends no foreign Origin. */
const pageHeaders = fc.oneof({ weight: 5, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: formHeaders });

const connectRef = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('{{connect}}', '{{closedConnect}}', '{{connectUpper}}', '{{app}}', '{{dashApp}}') },
  { weight: 2, arbitrary: uuidLike.map(encodeURIComponent) },
  { weight: 2, arbitrary: encodedSegment },
);
const appRef = fc.oneof(
  { weight: 8, arbitrary: fc.constant('{{dashApp}}') },
  { weight: 2, arbitrary: fc.constantFrom('{{dashAppUpper}}', '{{app}}', '{{privateApp}}', '{{connect}}') },
  { weight: 1, arbitrary: uuidLike.map(encodeURIComponent) },
  { weight: 1, arbitrary: encodedSegment },
);
const resetToken = fc.oneof(encodedSegment, fc.base64String({ minLength: 40, maxLength: 48 }).map(encodeURIComponent));

interface FormPost { url: string; fields: FormFields }

function formPost(target: fc.Arbitrary<FormPost>, browser: fc.Arbitrary<Browser>): fc.Arbitrary<FuzzRequest> {
  return target.chain(({ url, fields }) => fc.record({
    url: fc.constant(url),
    form: formBody(fields),
    browser,
    headers: pageHeaders,
    query: fc.oneof({ weight: 8, arbitrary: fc.constant('') }, { weight: 1, arbitrary: queryish }),
    method: fc.oneof({ weight: 20, arbitrary: fc.constant<Method>('POST') }, { weight: 1, arbitrary: fc.constantFrom<Method>('PUT', 'PATCH', 'DELETE') }),
  })).map(({ url, form, browser, headers, query, method }) => ({
    method, url: `${url}${query}`, browser,
    headers: compact({ ...headers, 'content-type': form.contentType }),
    ...(form.body === undefined ? {} : { body: form.body }),
  }));
}

const gatewayAction = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...Object.keys(GATEWAY_FORMS)) },
  { weight: 1, arbitrary: encodedSegment },
);
const gatewayFormAnywhere = formPost(
  fc.tuple(connectRef, gatewayAction).map(([connect, action]) => ({ url: `/gateway/${connect}/${action}`, fields: GATEWAY_FORMS[action] ?? SIGN_IN_FIELDS })),
  fc.constantFrom<Browser>('visitor', 'anonymous', 'none', 'developer'),
);
const gatewayFormOnOpenConnect = formPost(
  fc.constantFrom(...Object.keys(GATEWAY_FORMS)).map((action) => ({ url: `/gateway/{{connect}}/${action}`, fields: GATEWAY_FORMS[action]! })),
  fc.constantFrom<Browser>('visitor', 'visitor', 'visitor', 'anonymous', 'anonymous', 'none', 'developer'),
);
const dashboardForm = formPost(
  fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...Object.keys(DASHBOARD_FORMS)).map((url) => ({ url, fields: DASHBOARD_FORMS[url]! })) },
    { weight: 6, arbitrary: fc.tuple(appRef, fc.constantFrom(...Object.keys(DASHBOARD_APP_FORMS)))
      .map(([app, action]) => ({ url: `/dashboard/apps/${app}/${action}`, fields: DASHBOARD_APP_FORMS[action]! })) },
    { weight: 1, arbitrary: fc.tuple(appRef, encodedSegment).map(([app, action]) => ({ url: `/dashboard/apps/${app}/${action}`, fields: NEW_APP_FIELDS })) },
    { weight: 1, arbitrary: resetToken.map((token) => ({ url: `/reset/${token}`, fields: RESET_FIELDS })) },
    { weight: 1, arbitrary: resetToken.map((token) => ({ url: `/dashboard/owner-invitations/${token}`, fields: OWNER_INVITATION_FIELDS })) },
  ),
  fc.constantFrom<Browser>('developer', 'developer', 'developer', 'developer', 'anonymous', 'visitor', 'none'),
);

const accountForm = formPost(
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...Object.keys(ACCOUNT_FORMS)).map((url) => ({ url, fields: ACCOUNT_FORMS[url]! })) },
    { weight: 1, arbitrary: encodedSegment.map((form) => ({ url: `/account/security/${form}`, fields: ACCOUNT_SECURITY_FORMS.password! })) },
  ),
  fc.constantFrom<Browser>('visitor', 'visitor', 'visitor', 'developer', 'anonymous', 'none'),
);

/** Page requests with garbage in their path parameters and query strings. */
const pageRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.oneof({ weight: 6, arbitrary: fc.constant<Method>('GET') }, { weight: 1, arbitrary: fc.constantFrom<Method>('HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS') }),
  path: fc.oneof(
    fc.tuple(connectRef, fc.constantFrom(...PAGE_STEPS)).map(([c, s]) => `/gateway/${c}${s}`),
    fc.tuple(fc.constantFrom('/dashboard', '/account'), fc.constantFrom(...PAGE_STEPS)).map(([base, s]) => `${base}${s}`),
    resetToken.map((token) => `/reset/${token}`),
    resetToken.map((token) => `/dashboard/owner-invitations/${token}`),
    appRef.map((app) => `/invitations/${app}`),
    fc.tuple(appRef, fc.constantFrom('', '/', '/x', '/protections')).map(([a, s]) => `/dashboard/apps/${a}${s}`),
    fc.constantFrom('/', '/dashboard', '/dashboard/', '/dashboard/sign-up', '/dashboard/apps', '/gateway', '/gateway/', '/reset', '/reset/',
      '/static/keygate.css', '/static/dashboard.js', '/static/x', '/static/../package.json', '/favicon.ico', '/healthz', '/readyz', '/index.html'),
    fc.array(encodedSegment, { minLength: 1, maxLength: 4 }).map((segments) => `/${segments.join('/')}`),
  ),
  query: fc.oneof({ weight: 2, arbitrary: fc.constant('') }, { weight: 1, arbitrary: queryish }),
  browser: fc.constantFrom<Browser>('visitor', 'anonymous', 'none', 'developer'),
  headers: pageHeaders,
}).map(({ method, path, query, browser, headers }) => ({ method, url: `${path}${query}`, browser, headers: compact(headers) }));

// OpenID Connect ----------------------------------------------------------------------------

/** The authorization and end-session endpoints, by GET (query) or POST (form), from any browser. */
const oidcPageRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  endpoint: fc.constantFrom(
    { path: '/oidc/authorize', fields: OIDC_AUTHORIZE_FIELDS }, { path: '/oidc/authorize', fields: OIDC_AUTHORIZE_FIELDS },
    { path: '/oidc/logout', fields: OIDC_LOGOUT_FIELDS }, { path: '/oidc/logout/confirm', fields: OIDC_LOGOUT_FIELDS },
  ),
  method: fc.oneof({ weight: 3, arbitrary: fc.constant<Method>('GET') }, { weight: 2, arbitrary: fc.constant<Method>('POST') }, { weight: 1, arbitrary: fc.constantFrom<Method>('PUT', 'OPTIONS', 'HEAD') }),
  browser: fc.constantFrom<Browser>('visitor', 'visitor', 'anonymous', 'none', 'developer'),
  headers: pageHeaders,
  raw: fc.nat({ max: 9 }),
}).chain(({ endpoint, method, browser, headers, raw }) => formPairs(endpoint.fields).map((pairs): FuzzRequest => {
  const encoded = encodeForm(pairs, raw === 0);
  if (method === 'POST') {
    const csrf = endpoint.path.endsWith('/confirm') ? `${encoded ? '&' : ''}_csrf={{csrf}}` : '';
    return { method, url: endpoint.path, browser, headers: compact({ ...headers, 'content-type': 'application/x-www-form-urlencoded' }), body: `${encoded}${csrf}` };
  }
  return { method, url: `${endpoint.path}?${encoded}`, browser, headers: compact(headers) };
}));

/** The token, revocation, introspection and userinfo endpoints with garbage credentials, forms and content types. */
const oauthEndpointCall: fc.Arbitrary<FuzzRequest> = fc.record({
  path: fc.constantFrom('/oidc/token', '/oidc/token', '/oidc/revoke', '/oidc/introspect', '/oidc/userinfo', '/oidc/jwks', '/.well-known/openid-configuration', '/oidc/x'),
  method: fc.oneof({ weight: 6, arbitrary: fc.constant<Method>('POST') }, { weight: 2, arbitrary: fc.constant<Method>('GET') }, { weight: 1, arbitrary: fc.constantFrom<Method>('OPTIONS', 'DELETE', 'HEAD') }),
  authorization: fc.oneof({ weight: 3, arbitrary: clientAuthorizationish }, { weight: 2, arbitrary: authorizationish }, { weight: 1, arbitrary: fc.constant(undefined) }),
  contentType: fc.oneof({ weight: 6, arbitrary: fc.constant('application/x-www-form-urlencoded') }, { weight: 1, arbitrary: contentTypeish }),
  origin: rarely(originish),
  pairs: formPairs(OIDC_TOKEN_FIELDS),
  raw: fc.nat({ max: 9 }),
}).map(({ path, method, authorization, contentType, origin, pairs, raw }): FuzzRequest => ({
  method, url: path, headers: compact({ authorization, 'content-type': method === 'POST' ? contentType : undefined, origin }),
  ...(method === 'POST' ? { body: encodeForm(pairs, raw === 0) } : {}),
}));

// -------------------------------------------------------------------------------------------

/**
 * What a failure is about, to tell a bug found again from another: the method, the path
 * with its odd segments blanked out, the status and the failed check.
 */
function bugOf(report: string): string {
  const got = /Got AssertionError[^:]*: (\S+) (\S+) -> (\d+)[^\n]*: ([^:\n]*)\n/.exec(report);
  if (!got) return report;
  const path = got[2]!.split('?')[0]!.split('/').map((segment) => (segment === '' || /^[a-z][a-z0-9-]*$/.test(segment) ? segment : '*')).join('/');
  return `${got[1]} ${path} ${got[3]} ${got[4]}`;
}

describe('fuzzing every endpoint and form (fast-check, server.inject)', () => {
  let harness: FuzzHarness;
  const started = Date.now();

  before(async () => {
    harness = await FuzzHarness.start();
  });
  after(() => harness?.close());

  /**
   * Runs a property whose every sample is one request, and restores the fixtures a
   * success used up. A counterexample does not end the fuzzing: after it is shrunk, the
   * rest of the budget runs on with a new seed (up to five times), so that one bug does
   * not hide another and every run sends its share of requests. The property then fails
   * with every distinct counterexample found.
   */
  async function fuzz(arbitrary: fc.Arbitrary<FuzzRequest>, numRuns: number): Promise<void> {
    const property = fc.asyncProperty(arbitrary, async (request) => {
      await harness.restore(await harness.send(request));
    });
    const reports = new Map<string, string>();
    let left = numRuns;
    for (let round = 0; left > 0 && round < 5; round += 1) {
      const details = await fc.check(property, {
        numRuns: left, includeErrorInReport: true, ...(SEED === undefined ? {} : { seed: SEED + round }),
      });
      left -= details.numRuns;
      if (!details.failed) break;
      const report = fc.defaultReportMessage(details)!;
      const key = bugOf(report);
      if (!reports.has(key)) reports.set(key, report);
    }
    await harness.checkCounters();
    if (reports.size > 0) assert.fail([...reports.values()].join('\n\n----------------\n\n'));
  }

  it('API: unsigned calls with garbage App IDs, signatures, tokens, origins, content types and bodies', async () => {
    await fuzz(unsignedApiCall, 2000);
  });

  it('API: calls signed with a real Secret Key over fuzzed bodies (JSON of the wrong shape, bytes, near 64 KiB, deeply nested)', async () => {
    await fuzz(signedApiCall, 1400);
  });

  it('API: signed calls with every header right and well-typed bodies of odd content', async () => {
    await fuzz(wellTypedSignedCall, 1200);
  });

  it('API: unknown paths and wrong methods under /auth', async () => {
    await fuzz(apiPathCall, 700);
  });

  it('API: CORS preflights from any origin', async () => {
    await fuzz(preflight, 400);
  });

  it('API: paths with malformed percent-encoding', async () => {
    await fuzz(malformedPathCall('/auth/v2/', '/auth/v2/connect/', '/auth/v2/extranet/users/'), 150);
  });

  it('pages: paths with malformed percent-encoding', async () => {
    await fuzz(malformedPathCall('/gateway/', '/gateway/{{connect}}/', '/dashboard/apps/', '/dashboard/', '/account/', '/reset/', '/'), 150);
  });

  it('gateway: forms posted to random, closed and open connect ids, with and without a CSRF token', async () => {
    await fuzz(gatewayFormAnywhere, 1200);
  });

  it('gateway: forms posted to the open connect request from a browser that has its page', async () => {
    await fuzz(gatewayFormOnOpenConnect, 1400);
  });

  it('dashboard: every form, to owned, foreign, unknown and garbage app ids, signed in or not', async () => {
    await fuzz(dashboardForm, 1700);
  });

  it('account: the sign-in steps and the security forms (nickname, password, second factor), signed in or not', async () => {
    await fuzz(accountForm, 900);
  });

  it('pages: garbage in path parameters and query strings', async () => {
    await fuzz(pageRequest, 600);
  });

  it('OpenID Connect: the authorization and end-session endpoints with every parameter right, wrong or missing', async () => {
    await fuzz(oidcPageRequest, 900);
  });

  it('OpenID Connect: the token, revocation, introspection and userinfo endpoints with garbage credentials and forms', async () => {
    await fuzz(oauthEndpointCall, 900);
  });

  it('sent at least 10,000 requests', (t) => {
    const statuses = [...harness.statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`).join(' ');
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    t.diagnostic(`${harness.requests} fuzzed requests in ${s(Date.now() - started)} (answering ${s(harness.spent.answering)}, `
      + `snapshots ${s(harness.spent.snapshots)}, restoring fixtures ${s(harness.spent.restoring)}); statuses: ${statuses}`);
    t.diagnostic(`API refusals: ${[...harness.codes].sort(([, a], [, b]) => b - a).map(([code, n]) => `${code}×${n}`).join(' ')}`);
    assert.ok(harness.requests >= 10_000, `only ${harness.requests} requests were sent`);
  });
});
