import fc from 'fast-check';
import { FIELD_CODES } from '../../src/domain/consent/fields.js';

/**
 * Generators for fuzzing Keygate over HTTP (see test/http/fuzz.test.ts).
 *
 * A generated request is plain data, so that fast-check prints a readable counterexample.
 * Values that only exist at run time (the App ID of a fixture app, the open connect id,
 * the browser's CSRF token...) are written as `{{placeholders}}` and filled in when the
 * request is sent; see `PLACEHOLDERS`.
 */

export const ORIGIN = 'https://app.example.org';
export const RETURN_URL = 'https://app.example.org/callback/';
export const DASH_ORIGIN = 'https://dash.example.org';
export const DASH_RETURN_URL = 'https://dash.example.org/back/';
/** Where the fuzzed app, as an OpenID Connect client, takes people back to and after signing out. */
export const OIDC_REDIRECT_URI = 'https://app.example.org/oidc/callback';
export const OIDC_SIGNED_OUT = 'https://app.example.org/signed-out';
/** The body limit of the API and of the forms. */
export const BODY_LIMIT = 64 * 1024;

/** Everything a generated request may name, filled in by the harness at send time. */
export const PLACEHOLDERS = [
  'app', 'appUpper', 'privateApp', 'serverOnlyApp', 'ipApp', 'dashApp', 'dashAppUpper',
  'connect', 'connectUpper', 'closedConnect', 'usedCode', 'usedRefresh', 'accessToken', 'reference',
  'csrf', 'otherCsrf', 'person', 'otherPerson', 'otherEmail', 'appName', 'accountEmail',
  'clientSecret', 'clientBasic', 'idToken',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
const ph = (name: Placeholder) => `{{${name}}}`;

export type Method = 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH' | 'OPTIONS' | 'HEAD';
export type Browser = 'developer' | 'visitor' | 'anonymous' | 'none';
export type Signer = 'app' | 'privateApp' | 'serverOnlyApp' | 'ipApp';

export interface FuzzRequest {
  readonly method: Method;
  /** Path and query, possibly with placeholders. */
  readonly url: string;
  readonly headers: Record<string, string>;
  /** Text bodies may hold placeholders; byte bodies are sent as they are. */
  readonly body?: string | Uint8Array;
  /**
   * Sign the request as a real server would, with this app's Secret Key, over the body
   * actually sent: `as: 'self'` a valid signature, `otherPath` one for another endpoint,
   * `otherApp` one made with another app's key.
   */
  readonly sign?: { readonly app: Signer; readonly as: 'self' | 'otherPath' | 'otherApp' };
  /** Whose cookie jar goes with the request (page requests). */
  readonly browser?: Browser;
}

// ---------------------------------------------------------------------------------------
// Strings

/** What a header value can carry on the wire: visible ASCII, tab and obs-text (latin1). */
const headerChar = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 1, arbitrary: fc.constant(0x09) },
  { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
).map((code) => String.fromCharCode(code));
export const headerValue = fc.string({ unit: headerChar, maxLength: 120 });

/** Characters that tend to break things: NUL, controls, quotes, markup, surrogates, escapes. */
const nastyUnit = fc.constantFrom(
  '\u0000', '\u0001', '\u001f', '\u007f', '\n', '\r', '\t', ' ', '"', "'", '\\', '/', '<', '>', '&', '%', '%00', '%zz',
  '+', '=', '[', ']', '{', '}', '\u00a0', '\u00ff', '\u200b', '\u202e', '\ufeff', '\uffff', '\ud800', '\udfff', '€', '𝄞', 'é', 'a', '0',
);
export const nastyString = fc.oneof(
  fc.string({ unit: nastyUnit, maxLength: 40 }),
  fc.constantFrom('', ' ', 'null', 'undefined', 'true', '0', '-1', 'NaN', 'Infinity', '1e309', '__proto__', 'constructor',
    'prototype', 'toString', '{{', '}}', '${1}', '%s%n', '../../etc/passwd', '<script>alert(1)</script>', "' or '1'='1"),
);
/** Any text: printable, any code point, or nasty. */
export const anyString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 3, arbitrary: nastyString },
);
/** A string just under, at or just over `max` characters. */
export const boundaryString = (max: number) =>
  fc.tuple(fc.integer({ min: Math.max(0, max - 1), max: max + 2 }), fc.constantFrom('x', 'é', '\u0000', '𝄞'))
    .map(([length, unit]) => unit.repeat(length));
/** A value far beyond the body limit once in a form or JSON. */
export const oversized = fc.integer({ min: BODY_LIMIT - 64, max: BODY_LIMIT + 4096 }).map((n) => 'x'.repeat(n));

export const uuidLike = fc.oneof(
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.uuid().map((u) => `{${u}}`),
  fc.uuid().map((u) => ` ${u} `),
  fc.uuid().map((u) => u.replace(/-/g, '')),
  fc.uuid().map((u) => `${u.slice(0, -1)}g`),
  fc.uuid().map((u) => `${u}0`),
  fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '00000000-0000-4000-8000-000000000000'),
);

// ---------------------------------------------------------------------------------------
// JSON bodies

/** JSON text written out by hand, so bodies can hold what JSON.stringify cannot produce. */
export type JsonText = string;
const str = (value: string): JsonText => JSON.stringify(value);

/** Numbers as raw JSON literals, in and far out of range. */
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom('0', '-0', '1e400', '-1e400', '1e-400', '9007199254740993', '-9007199254740993', '123456789012345678901234567890',
    '1.0', '1e2', '0.1', '4294967296', '-1'),
);

/** Any JSON value as text (with nesting), from fast-check's own JSON generator. */
const anyJsonText = fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? 'null');

/** Characters that a text column, a JSON parser or a regular expression may choke on. */
const oddCharOther = fc.constantFrom('\u0001', '\u0008', '\u001b', '\u007f', '\u0085', '\u00a0', '\u2028', '\u202e', '\ufeff', '\ud800', '\udc00', '\uffff', '%00', '\\', '"');
const oddChar = fc.oneof({ weight: 2, arbitrary: fc.constant('\u0000') }, { weight: 3, arbitrary: oddCharOther });

/**
 * A string of the right type whose content is odd: control characters (NUL above all),
 * lone surrogates, any code point, only blanks, or exactly `max` long.
 */
export function oddText(min: number, max: number): fc.Arbitrary<string> {
  const upTo = Math.min(max, 30);
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ minLength: min, maxLength: upTo }) },
    { weight: 3, arbitrary: fc.tuple(fc.string({ maxLength: 8 }), oddChar, fc.string({ maxLength: 8 })).map(([a, c, b]) => `${a}${c}${b}`) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: min, maxLength: upTo }) },
    { weight: 1, arbitrary: fc.string({ unit: nastyUnit, minLength: min, maxLength: upTo }) },
    { weight: 1, arbitrary: fc.constantFrom(' ', '\t', '\n', '\r\n', '\u3000') },
    { weight: 1, arbitrary: fc.constantFrom('x', 'é').map((unit) => unit.repeat(max)) },
  ).filter((text) => text.length >= min && text.length <= max);
}

/**
 * What a field of an endpoint's body takes: `good` values have the right type (with
 * valid, plausible and odd content); `max` is the length the schema allows.
 */
export interface FieldSpec {
  readonly good: fc.Arbitrary<JsonText>;
  readonly max?: number;
}

/** A value for a field: mostly of the right type, otherwise of the wrong type, at its length bound or odd. */
export function wrongish({ good, max }: FieldSpec): fc.Arbitrary<JsonText> {
  return fc.oneof(
    { weight: 8, arbitrary: good },
    { weight: 1, arbitrary: fc.constantFrom('null', 'true', 'false', '[]', '{}', '""', '"\\u0000"', '[null]', '{"0":1}') },
    { weight: 1, arbitrary: numberText },
    { weight: 2, arbitrary: anyString.map(str) },
    { weight: 1, arbitrary: anyJsonText },
    { weight: 1, arbitrary: fc.array(good, { maxLength: 3 }).map((items) => `[${items.join(',')}]`) },
    { weight: 1, arbitrary: good.map((v) => `{"value":${v}}`) },
    ...(max ? [{ weight: 1, arbitrary: boundaryString(max).map(str) }] : []),
  );
}

type Fields = Record<string, FieldSpec>;

const objectText = (entries: ReadonlyArray<readonly [string, JsonText]>) => `{${entries.map(([k, v]) => `${str(k)}:${v}`).join(',')}}`;

/** An object whose every field has the right type (odd content included); rarely one is missing. */
export function wellTypedObject(fields: Fields): fc.Arbitrary<JsonText> {
  const entries = Object.entries(fields).map(([key, { good }]) =>
    fc.option(good.map((v) => [key, v] as const), { freq: 12, nil: undefined }));
  return fc.tuple(...entries).map((known) => objectText(known.filter((e): e is readonly [string, string] => e !== undefined)));
}

/** An object with the given fields (each may be missing, of any type), extra keys and repeated keys. */
export function shapedObject(fields: Fields): fc.Arbitrary<JsonText> {
  const entries = Object.entries(fields).map(([key, spec]) =>
    fc.option(wrongish(spec).map((v) => [key, v] as const), { freq: 6, nil: undefined }));
  const extra = fc.array(fc.tuple(
    fc.oneof(anyString, fc.constantFrom('__proto__', 'constructor', ...Object.keys(fields))),
    fc.oneof(anyJsonText, ...Object.values(fields).map((spec) => spec.good)),
  ), { maxLength: 2 });
  return fc.tuple(fc.tuple(...entries), extra, fc.boolean())
    .map(([known, more, extraFirst]) => {
      const present = known.filter((e): e is readonly [string, string] => e !== undefined);
      return objectText(extraFirst ? [...more, ...present] : [...present, ...more]);
    });
}

const text = (min: number, max: number, ...plausible: fc.Arbitrary<string>[]) =>
  fc.oneof({ weight: 2, arbitrary: oddText(min, max) }, ...plausible.map((arbitrary) => ({ weight: 2, arbitrary }))).map(str);
const validScope = fc.subarray([...FIELD_CODES, 'firstname!', 'surname!', 'country!', 'language!']);
const anyScopeCode = fc.constantFrom(...FIELD_CODES, ...FIELD_CODES.map((f) => `${f}!`), 'phone', '', '!', 'EMAIL', 'email!!', 'email ', 'email\u0000');
const requestId: FieldSpec = {
  good: fc.oneof(
    { weight: 3, arbitrary: text(1, 128, fc.string({ minLength: 1, maxLength: 20 })) },
    { weight: 1, arbitrary: fc.oneof(fc.integer({ min: -1000, max: 10 ** 9 }), fc.maxSafeInteger(), fc.maxSafeNat()).map(String) },
  ),
  max: 128,
};

/** The fields of each endpoint's body (see the zod schemas in src/http/api/ukey1-v2.ts). */
export const API_BODY_FIELDS: Record<string, Fields> = {
  connect: {
    request_id: requestId,
    scope: {
      good: fc.oneof(
        { weight: 4, arbitrary: validScope },
        { weight: 1, arbitrary: fc.array(anyScopeCode, { maxLength: 26 }) },
        { weight: 1, arbitrary: fc.array(oddText(0, 32), { maxLength: 3 }) },
      ).map((codes) => JSON.stringify(codes)),
    },
    return_url: {
      good: text(1, 2048,
        fc.constant(RETURN_URL), fc.constant(RETURN_URL),
        fc.oneof(oddText(0, 40), fc.constantFrom('?a=1', '#x', '?a=1#x', 'sub/', '../x', '%00', '%2e%2e/', '?\u0000')).map((tail) => `${RETURN_URL}${tail}`),
        fc.webUrl(),
        fc.constantFrom('https://app.example.org@evil.com/callback/', 'http://app.example.org/callback/', 'javascript:alert(1)', '//evil.com',
          'https://APP.example.org/callback/', 'https://app.example.org:443/callback/', 'https://app.example.org/callback', 'http://127.0.0.1:1/x',
          'https://[::1]/callback/', 'https://xn--80ak6aa92e.com/callback/'),
      ),
      max: 2048,
    },
  },
  token: {
    request_id: requestId,
    connect_id: { good: text(1, 64, fc.constantFrom(ph('connect'), ph('closedConnect'), ph('connectUpper')), uuidLike), max: 64 },
    auth_code: { good: text(1, 256, fc.constant(ph('usedCode')), fc.constant(`${ph('usedCode')}x`)), max: 256 },
  },
  refresh: {
    refresh_token: { good: text(1, 256, fc.constant(ph('usedRefresh')), fc.constant(ph('accessToken'))), max: 256 },
  },
  invite: {
    email: { good: text(3, 320, fc.emailAddress(), fc.constantFrom(ph('accountEmail'), 'INVITEE.FUZZ@example.cz', 'a@b', 'a@[127.0.0.1]')), max: 320 },
    locale: { good: text(0, 16, fc.constantFrom('en_GB', 'cs_CZ', 'cs', 'xx_YY', '', '../en', 'en-GB')), max: 16 },
  },
  remove: {
    reference_id: { good: text(1, 64, fc.constant(ph('reference')), uuidLike), max: 64 },
  },
  none: {},
};

/** A body exactly `bytes` long (UTF-8), a well-formed connect body padded out. */
const bodyOfSize = fc.tuple(fc.integer({ min: BODY_LIMIT - 48, max: BODY_LIMIT + 48 }), fc.constantFrom('x', 'é', '€'))
  .map(([bytes, unit]) => {
    const head = `{"request_id":"big","scope":[],"return_url":${str(RETURN_URL)},"pad":"`;
    const room = bytes - Buffer.byteLength(head) - 2;
    const units = Math.floor(room / Buffer.byteLength(unit));
    return `${head}${unit.repeat(units)}${'x'.repeat(room - units * Buffer.byteLength(unit))}"}`;
  });

/** `[[[...]]]` or `{"a":{"a":...}}`, alone or as a field value, up to the body limit. */
const deeplyNested = fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('array', 'object'), fc.constantFrom('alone', 'request_id', 'scope'))
  .map(([depth, kind, where]) => {
    const open = kind === 'array' ? '['.repeat(depth) : '{"a":'.repeat(depth);
    const close = kind === 'array' ? ']'.repeat(depth) : '}'.repeat(depth);
    const value = `${open}${kind === 'array' ? '' : '1'}${close}`;
    if (where === 'alone') return value;
    return `{"request_id":${where === 'request_id' ? value : '"deep"'},"scope":${where === 'scope' ? value : '[]'},"return_url":${str(RETURN_URL)}}`;
  });

/** Any API body: mostly the endpoint's own shape, with odd or wrong values, otherwise anything. */
export function apiBody(fields: Fields): fc.Arbitrary<string | Uint8Array | undefined> {
  return fc.oneof(
    { weight: 4, arbitrary: wellTypedObject(fields) },
    { weight: 6, arbitrary: shapedObject(fields) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
    { weight: 1, arbitrary: fc.constantFrom(
      new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), new Uint8Array([0xc0, 0x80]),
      new Uint8Array([0xed, 0xa0, 0x80]), new Uint8Array([0x22, 0x00, 0x22]), new Uint8Array([0xfe, 0xff, 0x00, 0x7b, 0x00, 0x7d]),
    ) },
    { weight: 1, arbitrary: anyString },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '\n', 'null', '[]', '{}', '""', '0', '{"request_id":"a",', '{"a":1}{"a":2}', '\ufeff{}', '{"__proto__":{"polluted":1}}') },
    { weight: 1, arbitrary: shapedObject(fields).map((text) => `\ufeff${text}`) },
    { weight: 1, arbitrary: bodyOfSize },
    { weight: 1, arbitrary: deeplyNested },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

// ---------------------------------------------------------------------------------------
// Headers

export const originish = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(ORIGIN, DASH_ORIGIN, 'null', 'https://evil.example.com', 'HTTPS://APP.EXAMPLE.ORG',
    `${ORIGIN}/`, `${ORIGIN}:443`, 'https://app.example.org.evil.com', 'https://app.example.org:8443', '*', '',
    'http://app.example.org', 'https://app.example.org\u0000', 'file://', 'https://xn--pple-43d.com', 'https://[::1]', 'https://1.2.3.4:99999') },
  { weight: 1, arbitrary: fc.webUrl() },
  { weight: 2, arbitrary: headerValue },
);

export const contentTypeish = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(
    'application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'APPLICATION/JSON', 'text/plain',
    'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-16', 'multipart/form-data; boundary=x',
    'multipart/form-data', 'application/octet-stream', '*/*', '', ';', 'application/json;;;', 'application/jsonx', 'text/html',
    'application/xml', 'application/json; charset="\u00ff"', 'application/problem+json',
  ) },
  { weight: 1, arbitrary: headerValue },
);

/** `Bearer` headers, garbage and near-valid ones. */
export const authorizationish = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(`Bearer ${ph('accessToken')}`, `bearer ${ph('accessToken')}`, `Bearer ${ph('accessToken')}x`,
    `Bearer  ${ph('accessToken')}`, `Bearer ${ph('usedRefresh')}`, 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer a.b.c',
    'Bearer eyJhbGciOiJub25lIn0.e30.', `Bearer ${'a'.repeat(8193)}`) },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_\-.~+/=]{1,200}$/).map((token) => `Bearer ${token}`) },
  { weight: 1, arbitrary: fc.tuple(fc.base64String({ maxLength: 60 }), fc.base64String({ maxLength: 60 }), fc.base64String({ maxLength: 60 }))
    .map(([a, b, c]) => `Bearer ${a}.${b}.${c}`) },
  { weight: 2, arbitrary: headerValue },
);

export const signatureish = fc.oneof(
  { weight: 2, arbitrary: headerValue },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 256, maxLength: 256 }).map((b) => encodeURIComponent(Buffer.from(b).toString('base64'))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('base64')) },
  { weight: 1, arbitrary: fc.constantFrom('', '%%%', '%', '%E0%A4%A', '=', 'AAAA', '%00') },
);

export const appIdish = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(ph('app'), ph('privateApp'), ph('serverOnlyApp'), ph('ipApp'), ph('dashApp'), ph('appUpper'), ` ${ph('app')} `) },
  { weight: 3, arbitrary: uuidLike },
  { weight: 2, arbitrary: headerValue },
);

const headerName = fc.oneof(
  fc.constantFrom('x-forwarded-for', 'x-real-ip', 'forwarded', 'accept', 'accept-encoding', 'accept-language', 'user-agent', 'cookie',
    'host', 'x-http-method-override', 'sec-fetch-site', 'sec-fetch-mode', 'x-requested-with', 'if-none-match', 'range', 'expect'),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
);
export const extraHeaders = fc.dictionary(headerName, headerValue, { maxKeys: 3, noNullPrototype: true });

/** Garbage cookies: a session or CSRF cookie that is not ours, repeated names, bad syntax. */
export const cookieish = fc.oneof(
  fc.constantFrom('keygate-session=x', 'keygate-csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'keygate-session=; keygate-session=a',
    'keygate-csrf=%zz', '=', ';;;', 'keygate-session="quoted"', 'a=b; a=c', 'keygate-session=eu.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'keygate-sign-in=x', 'keygate-sign-in=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'keygate-device=%00'),
  fc.tuple(fc.constantFrom('keygate-session', 'keygate-csrf', 'keygate-sign-in', 'keygate-device', 'x'), headerValue).map(([k, v]) => `${k}=${v.replace(/[;\s]/g, '')}`),
  headerValue,
);

// ---------------------------------------------------------------------------------------
// Paths

/** A path segment of anything, percent-encoded properly (malformed encoding has its own property). */
export const encodedSegment = fc.oneof(
  anyString.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, ''))),
  uuidLike.map(encodeURIComponent),
  fc.constantFrom('..', '.', '%2e%2e', '%2F', '%00', '%20', '~', '*', ';x', 'x;y=1', '%C3%A9', '%F0%9F%98%80'),
);
export const queryish = fc.oneof(
  fc.constant(''),
  fc.string({ unit: headerChar, maxLength: 60 }).map((q) => `?${q.replace(/[#\s]/g, '')}`),
  fc.constantFrom('?', '?signup=1', '?signup=1&signup=2', '?signup[]=1', '?%zz', '?a=%', '?__proto__[x]=1', '?signup=%00'),
);
/** Percent-encoding that does not decode: lone `%`, bad hex, truncated or invalid UTF-8. */
export const malformedSegment = fc.oneof(
  fc.constantFrom('%', '%%', '%zz', '%2', '%E0%A4%A', '%C0%80', '%FF', '%ED%A0%80', '%C3', '%E2%82', 'a%', '%u0041', '%%41'),
  fc.tuple(fc.string({ maxLength: 5 }).map(encodeURIComponent), fc.constantFrom('%', '%ZZ', '%C3', '%F0%9F')).map(([a, b]) => `${a}${b}`),
);

// ---------------------------------------------------------------------------------------
// Forms

/** How a form's `_csrf` is sent: the browser's own token, another's, garbage, twice, or not at all. */
export const csrfField = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Array<[string, string]>>([['_csrf', ph('csrf')]]) },
  { weight: 3, arbitrary: fc.constantFrom<Array<[string, string]>>(
    [], [['_csrf', '']], [['_csrf', ph('otherCsrf')]], [['_csrf', ph('csrf')], ['_csrf', ph('csrf')]], [['_csrf[]', ph('csrf')]],
    [['_csrf', `${ph('csrf')} `]], [['_csrf', `${ph('csrf')}\u0000`]], [['_CSRF', ph('csrf')]],
  ) },
  { weight: 1, arbitrary: anyString.map((v): Array<[string, string]> => [['_csrf', v]]) },
);

/** A form field's value: mostly one of `valid`, otherwise anything, oversized or repeated. */
export function formValue(valid: fc.Arbitrary<string>, max = 1024): fc.Arbitrary<string | string[]> {
  return fc.oneof(
    { weight: 8, arbitrary: valid },
    { weight: 3, arbitrary: anyString },
    { weight: 1, arbitrary: boundaryString(max) },
    { weight: 1, arbitrary: fc.array(fc.oneof(valid, anyString), { minLength: 2, maxLength: 3 }) },
    { weight: 1, arbitrary: oversized },
  );
}

export type FormFields = Record<string, fc.Arbitrary<string | string[]>>;

/** The fields of a form (each may be missing) and some others, as ordered name/value pairs. */
export function formPairs(fields: FormFields): fc.Arbitrary<Array<[string, string]>> {
  const known = Object.entries(fields).map(([name, value]) =>
    fc.option(value.map((v) => [name, v] as const), { freq: 5, nil: undefined }));
  const stray = fc.array(fc.tuple(
    fc.oneof(anyString, fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'a[b]', 'a[]', 'email[]', 'decision[0]', '', '=')),
    anyString,
  ), { maxLength: 2 });
  return fc.tuple(fc.tuple(...known), stray).map(([present, more]) => {
    const pairs: Array<[string, string]> = [];
    for (const entry of present) {
      if (!entry) continue;
      for (const v of [entry[1]].flat()) pairs.push([entry[0], v]);
    }
    return [...pairs, ...more];
  });
}

/** The text of a form body: URL-encoded as a browser does, or raw with stray `%`, `&` and `=`. */
export function encodeForm(pairs: Array<[string, string]>, raw: boolean): string {
  const encode = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd')).replace(/%20/g, '+');
  // Placeholders are filled in after encoding; keep their braces readable.
  const keep = (s: string) => encode(s).replace(/%7B%7B([a-zA-Z]+)%7D%7D/g, '{{$1}}');
  return pairs.map(([k, v]) => (raw ? `${k}=${v}` : `${keep(k)}=${keep(v)}`)).join('&');
}

/** A form body: mostly URL-encoded fields with a CSRF token, otherwise JSON, bytes or nothing. */
export function formBody(fields: FormFields): fc.Arbitrary<{ contentType?: string; body?: string | Uint8Array }> {
  const urlencoded = 'application/x-www-form-urlencoded';
  return fc.oneof(
    { weight: 12, arbitrary: fc.tuple(csrfField, formPairs(fields), fc.boolean(), fc.nat({ max: 9 }))
      .map(([csrf, pairs, csrfFirst, rawIf]) => ({
        contentType: urlencoded,
        body: encodeForm(csrfFirst ? [...csrf, ...pairs] : [...pairs, ...csrf], rawIf === 0),
      })) },
    { weight: 2, arbitrary: fc.tuple(csrfField, formPairs(fields), fc.constantFrom('application/json', 'application/json; charset=utf-8'))
      .map(([csrf, pairs, contentType]) => {
        const object: Record<string, unknown> = {};
        for (const [k, v] of [...csrf, ...pairs]) object[k] = k in object ? [object[k], v].flat() : v;
        return { contentType, body: JSON.stringify(object) };
      }) },
    { weight: 1, arbitrary: fc.tuple(fc.option(contentTypeish, { nil: undefined }), fc.oneof(fc.uint8Array({ maxLength: 200 }), anyString, fc.json()))
      .map(([contentType, body]) => ({ contentType, body })) },
    { weight: 1, arbitrary: fc.tuple(fc.option(contentTypeish, { nil: undefined }), csrfField, formPairs(fields))
      .map(([contentType, csrf, pairs]) => ({ contentType, body: encodeForm([...csrf, ...pairs], false) })) },
    { weight: 1, arbitrary: fc.constantFrom<{ contentType?: string; body?: string }>({}, { contentType: urlencoded }, { contentType: urlencoded, body: '' },
      { contentType: urlencoded, body: '_csrf={{csrf}}&&&&' }, { contentType: urlencoded, body: '%' }, { contentType: urlencoded, body: '_csrf={{csrf}}&email=%E0%A4%A' }) },
  );
}

/** Headers a browser (or something pretending to be one) adds to a form post. */
export const formHeaders = fc.record({
  origin: fc.oneof(fc.constantFrom('null', 'http://localhost:8080'), originish),
  'sec-fetch-site': fc.constantFrom('same-origin', 'none', 'same-site', 'cross-site', '', 'SAME-ORIGIN'),
  referer: headerValue,
  cookie: cookieish,
}, { requiredKeys: [], noNullPrototype: true });

const emailish = fc.oneof(
  fc.emailAddress(), fc.constant(ph('accountEmail')), fc.constant(ph('otherEmail')),
  fc.constantFrom('jana@example.cz ', 'JANA@EXAMPLE.CZ', 'a@b', '@', 'a@@b.cz', 'a@b.cz\u0000', '"a b"@example.cz', 'a@[127.0.0.1]', 'a@xn--80ak6aa92e.com'),
);
const passwordish = fc.oneof(fc.constant('correct horse battery staple'), fc.string({ minLength: 8, maxLength: 40 }), fc.constantFrom('password123', ''));
const namish = fc.oneof(fc.constantFrom('Jana', 'Nováková', 'O\'Brien', 'Ω'), fc.string({ minLength: 1, maxLength: 30 }));
const identifierish = fc.oneof(emailish, fc.constantFrom('jana', 'Jana_Fuzz', 'jana.fuzz', ' jana ', 'ab', 'x'.repeat(64)));
export const SIGN_IN_FIELDS: FormFields = { email: formValue(identifierish, 320), password: formValue(passwordish, 256) };
/** Forms that ask for an email (or nickname) only: a sign-in code, a reset link. */
export const EMAIL_FIELDS: FormFields = { email: formValue(identifierish, 320) };
/** Forms that ask for a code from an email or an authenticator app. */
export const CODE_FIELDS: FormFields = {
  code: formValue(fc.oneof(fc.stringMatching(/^\d{6}$/), fc.constantFrom('000000', '123456', ' 123456', '12345', '1234567', '123 456', 'ABCD-EFGH-1234', '٠١٢٣٤٥')), 64),
};
export const RESET_FIELDS: FormFields = { password: formValue(passwordish, 1024) };
/** The answer to an invitation to own an app (see src/http/dashboard/dashboard.ts). */
export const OWNER_INVITATION_FIELDS: FormFields = { decision: formValue(fc.constantFrom('accept', 'decline', 'Accept', 'x', ''), 16) };
export const SIGN_UP_FIELDS: FormFields = {
  email: formValue(emailish, 320),
  password: formValue(passwordish, 1024),
  firstname: formValue(namish, 200),
  surname: formValue(namish, 200),
  country: formValue(fc.constantFrom('CZ', 'US', 'DE', 'cz', 'XX', ' CZ '), 8),
  language: formValue(fc.constantFrom('cs', 'en', 'de', 'EN', 'xx'), 8),
};
const fieldCode = fc.constantFrom(...FIELD_CODES, 'phone', 'EMAIL', '');
export const CONSENT_FIELDS: FormFields = {
  decision: formValue(fc.constantFrom('allow', 'cancel', 'deny', 'ALLOW', ''), 16),
  fields: fc.oneof(fc.array(fieldCode, { maxLength: 7 }), formValue(fieldCode, 16)),
};

const originLines = fc.array(fc.oneof(fc.constantFrom(DASH_ORIGIN, ORIGIN, 'https://a.example.org', 'http://localhost:3000', 'https://x.example.org/path', '*'), anyString), { maxLength: 4 })
  .map((lines) => lines.join('\n'));
const returnUrlLines = fc.array(fc.oneof(fc.constantFrom(DASH_RETURN_URL, RETURN_URL, 'https://user@a.example.org/back', 'http://localhost:3000/cb'), fc.webUrl(), anyString), { maxLength: 4 })
  .map((lines) => lines.join('\r\n'));
const ipLines = fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('10.0.0.0/8', '10.0.0.1/8', '127.0.0.1', '::1/128', '0.0.0.0/0', '1.2.3.4/33', 'localhost'), anyString), { maxLength: 4 })
  .map((lines) => lines.join('\n'));
const onish = fc.constantFrom('on', 'off', 'true', '1', 'ON', '');

/** Every dashboard form and its fields (see src/http/dashboard/dashboard.ts). */
export const DASHBOARD_APP_FORMS: Record<string, FormFields> = {
  protections: {
    domain: formValue(onish, 8), returnUrl: formValue(onish, 8), serverOnly: formValue(onish, 8), ip: formValue(onish, 8),
    origins: formValue(originLines, 64 * 1024), returnUrls: formValue(returnUrlLines, 64 * 1024), ipEntries: formValue(ipLines, 64 * 1024),
  },
  fields: {
    ask: fc.oneof(fc.array(fieldCode, { maxLength: 7 }), formValue(fieldCode, 16)),
    require: fc.oneof(fc.array(fieldCode, { maxLength: 7 }), formValue(fieldCode, 16)),
    ...Object.fromEntries(FIELD_CODES.map((f) => [`basis_${f}`, formValue(fc.oneof(fc.constant('Needed for the service.'), anyString), 600)])),
  },
  private: { private: formValue(onish, 8) },
  extranet: { email: formValue(emailish, 320), locale: formValue(fc.constantFrom('en_GB', 'cs_CZ', 'xx'), 16) },
  'extranet/remove': { reference: formValue(fc.oneof(uuidLike, fc.constant(ph('reference'))), 64) },
  'extranet/resend': { reference: formValue(fc.oneof(uuidLike, fc.constant(ph('reference'))), 64) },
  owners: { email: formValue(emailish, 320) },
  'owners/remove': { person: formValue(fc.oneof(fc.constantFrom(ph('person'), ph('otherPerson')), uuidLike), 64) },
  rename: { name: formValue(namish, 200) },
  rotate: { graceDays: formValue(fc.constantFrom('0', '1', '7', '30', '31', '-1', 'x', '1e', ' 7', '07', '0x1', ''), 2) },
  delete: { confirm: formValue(fc.oneof(fc.constant(ph('appName')), namish), 200) },
};
/** The account security forms (see src/http/account/security.ts). */
export const ACCOUNT_SECURITY_FORMS: Record<string, FormFields> = {
  nickname: { nickname: formValue(fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{2,29}$/), fc.constantFrom('jana', 'Jana', 'ab', 'admin', 'jana.fuzz@example.cz', '', ' x ')), 100) },
  password: { current: formValue(passwordish, 256), password: formValue(passwordish, 1024) },
  'totp/start': { password: formValue(passwordish, 256), code: CODE_FIELDS.code! },
  'totp/confirm': {
    secret: formValue(fc.oneof(fc.stringMatching(/^[A-Z2-7]{16,32}$/), fc.constantFrom('JBSWY3DPEHPK3PXP', 'jbswy3dpehpk3pxp')), 64),
    proof: formValue(fc.base64String({ maxLength: 100 }), 128),
    code: CODE_FIELDS.code!,
  },
  'totp/disable': { code: CODE_FIELDS.code! },
};
/**
 * The account centre's forms (see src/http/account/centre.ts). Countries stay in the
 * signed-in people's zone (or are not countries): a move would take them out of the fixtures.
 */
export const ACCOUNT_CENTRE_FORMS: Record<string, FormFields> = {
  profile: { firstname: formValue(namish, 200), surname: formValue(namish, 200), language: formValue(fc.constantFrom('cs', 'en', 'EN', 'xx', '', 'cs-CZ'), 8) },
  email: { email: formValue(emailish, 320), password: formValue(passwordish, 256) },
  'email/confirm': { token: formValue(fc.base64String({ maxLength: 48 }), 64), email: formValue(emailish, 320), code: CODE_FIELDS.code! },
  country: { country: formValue(fc.constantFrom('CZ', 'fr', 'DE', ' sk', 'XX', '', 'EU', 'c\u0000z'), 8), password: formValue(passwordish, 256) },
  'apps/revoke': { app: formValue(fc.oneof(uuidLike, fc.constantFrom(ph('app'), ph('dashApp'))), 64) },
  'apps/revoke-field': { app: formValue(fc.oneof(uuidLike, fc.constant(ph('app'))), 64), field: formValue(fieldCode, 16) },
  'sessions/end': { session: formValue(fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.constantFrom('', 'x', '0'.repeat(65))), 80) },
};
export const NEW_APP_FIELDS: FormFields = {
  name: formValue(namish, 200),
  origins: formValue(originLines, 64 * 1024),
  returnUrls: formValue(returnUrlLines, 64 * 1024),
};

// ------------------------------------------------------------------ OpenID Connect

const S256 = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

/** The authorization request's parameters, each right, wrong or missing. */
export const OIDC_AUTHORIZE_FIELDS: FormFields = {
  client_id: formValue(fc.constantFrom(ph('app'), ph('appUpper'), ph('privateApp'), ph('ipApp'), '00000000-0000-4000-8000-000000000000'), 64),
  redirect_uri: formValue(fc.constantFrom(OIDC_REDIRECT_URI, `${OIDC_REDIRECT_URI}/`, RETURN_URL, 'https://evil.example.org/cb', 'http://127.0.0.1:1/cb'), 512),
  response_type: formValue(fc.constantFrom('code', 'code', 'token', 'code id_token', 'none'), 32),
  scope: formValue(fc.constantFrom('openid', 'openid profile email address offline_access', 'profile', 'openid unknown', 'openid  email'), 128),
  state: formValue(fc.constantFrom('s', 'state-123', '%zz', '<script>'), 64),
  nonce: formValue(fc.constantFrom('n-0S6_WzA2Mj', ''), 64),
  code_challenge: formValue(fc.constantFrom(S256, S256.slice(1), `${S256}=`), 64),
  code_challenge_method: formValue(fc.constantFrom('S256', 'plain', 's256'), 16),
  prompt: formValue(fc.constantFrom('none', 'login', 'consent', 'none login', 'select_account', 'x'), 32),
  max_age: formValue(fc.constantFrom('0', '60', '-1', '1e3', '999999999999'), 16),
  claims: formValue(fc.constantFrom('{"userinfo":{"email":{"essential":true}},"id_token":{"given_name":null}}', '{', '[]', '{"id_token":5}', '{"userinfo":{"email":7}}', 'null'), 256),
  request: formValue(fc.constantFrom('eyJhbGciOiJub25lIn0.e30.'), 64),
  request_uri: formValue(fc.constantFrom('https://app.example.org/request.jwt', 'urn:x'), 64),
  id_token_hint: formValue(fc.constantFrom(ph('idToken'), 'a.b.c', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'), 4096),
  login_hint: formValue(fc.constantFrom('jana@example.cz', ''), 400),
  ui_locales: formValue(fc.constantFrom('cs', 'de en', 'xx-YY', '*'), 64),
};

/** What the logout endpoint takes. */
export const OIDC_LOGOUT_FIELDS: FormFields = {
  id_token_hint: formValue(fc.constantFrom(ph('idToken'), 'a.b.c'), 4096),
  client_id: formValue(fc.constantFrom(ph('app'), ph('ipApp')), 64),
  post_logout_redirect_uri: formValue(fc.constantFrom(OIDC_SIGNED_OUT, 'https://evil.example.org/', `${OIDC_SIGNED_OUT}/`), 256),
  state: formValue(fc.constantFrom('bye'), 64),
};

/** The token, revocation and introspection forms. */
export const OIDC_TOKEN_FIELDS: FormFields = {
  grant_type: formValue(fc.constantFrom('authorization_code', 'refresh_token', 'password', 'client_credentials'), 64),
  code: formValue(fc.constantFrom(`${ph('connect')}.${'A'.repeat(43)}`, `${ph('closedConnect')}.${'B'.repeat(43)}`, 'x.y', ph('usedCode')), 256),
  redirect_uri: formValue(fc.constantFrom(OIDC_REDIRECT_URI, RETURN_URL), 256),
  code_verifier: formValue(fc.constantFrom(VERIFIER, 'short'), 256),
  refresh_token: formValue(fc.constantFrom(ph('usedRefresh'), `eu.${'C'.repeat(43)}`), 256),
  token: formValue(fc.constantFrom(ph('accessToken'), ph('usedRefresh'), `eu.${ph('app')}.${'D'.repeat(43)}`), 256),
  token_type_hint: formValue(fc.constantFrom('access_token', 'refresh_token', 'id_token'), 32),
  client_id: formValue(fc.constantFrom(ph('app'), ph('ipApp'), 'x'), 64),
  client_secret: formValue(fc.constantFrom(ph('clientSecret'), 'wrong'), 128),
  scope: formValue(fc.constantFrom('openid', 'openid email', 'email'), 64),
};

/** Client credentials in the header: the right ones, wrong ones, or another scheme. */
export const clientAuthorizationish = fc.oneof(
  { weight: 3, arbitrary: fc.constant(ph('clientBasic')) },
  { weight: 2, arbitrary: fc.constantFrom('Basic', 'Basic !!!', 'Basic dXNlcjpwYXNz', 'Basic Og==', `Bearer ${ph('accessToken')}`, 'Basic ' + 'A'.repeat(5000)) },
  { weight: 1, arbitrary: headerValue },
);
