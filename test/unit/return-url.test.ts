import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isReturnUrlAllowed } from '../../src/domain/protection/return-url.js';

const LISTED = ['https://example.org/callback/', 'https://example.org/login', 'http://localhost:3000/back/'];

const accepted: Array<[string, string]> = [
  ['https://example.org/callback/abc/?t=1', 'a sub-path with a query'],
  ['https://example.org/callback/', 'the listed URL itself'],
  ['https://example.org/callback/#frag', 'a fragment'],
  ['https://EXAMPLE.org/callback/x', 'an upper-case host (normalised by the parser)'],
  ['https://example.org:443/callback/x', 'the default port written out'],
  ['https://example.org/login', 'a listed path without a trailing slash'],
  ['https://example.org/login/next', 'a sub-path of a listed path without a trailing slash'],
  ['https://example.org/login?x=1', 'a listed path with a query'],
  ['https://example.org/callback/?a=1;b=2&pct=100%25', 'a semicolon and an encoded % in the query'],
  ['http://localhost:3000/back/done', 'http on localhost'],
];

const refused: Array<[string, string]> = [
  ['https://example.org/invalid', 'another path'],
  ['https://example.org/callbackevil', 'a path that only starts with the listed letters'],
  ['https://example.org/loginevil', 'a listed path without a slash followed by more letters'],
  ['https://example.org.evil.com/callback/', 'a host that starts with the listed host'],
  ['https://evil-example.org/callback/', 'a look-alike host'],
  ['https://example.org@evil.com/callback/', 'userinfo that makes the real host evil.com'],
  ['https://user:pass@example.org/callback/', 'credentials in the URL'],
  ['http://example.org/callback/', 'another scheme'],
  ['https://example.org:8443/callback/', 'another port'],
  ['https://example.org./callback/', 'a trailing dot on the host'],
  ['https://example.org\\@evil.com/callback/', 'a backslash'],
  ['https://example.org/callback\\..\\admin', 'backslash path tricks'],
  ['https://example.org/callback/../admin', 'a dot-dot segment leaving the listed path'],
  ['https://example.org/callback/%2e%2e/admin', 'encoded dots'],
  ['https://example.org/callback%2F..%2Fadmin', 'encoded slashes'],
  ['https://example.org/callback/%2fevil', 'an encoded slash inside the listed path'],
  ['https://example.org/callback/..;/admin', 'a path parameter that servers strip before routing'],
  ['https://example.org/callback/x;jsessionid=1', 'a path parameter under the listed path'],
  ['https://example.org/callback/%252e%252e/admin', 'double-encoded dots'],
  ['https://example.org/callback/%252F..%252Fadmin', 'a double-encoded slash'],
  ['javascript:alert(1)//example.org/callback/', 'a javascript: URL'],
  ['data:text/html,<script>alert(1)</script>', 'a data: URL'],
  ['//example.org/callback/', 'a scheme-relative URL'],
  ['/callback/', 'a relative URL'],
  ['https://exаmple.org/callback/', 'an IDN homograph (Cyrillic a)'],
  [' https://example.org/callback/', 'leading whitespace'],
  ['https://example.org/call\tback/', 'a tab inside'],
  ['http://localhost.evil.com:3000/back/', 'a host that starts with localhost'],
  ['', 'an empty string'],
];

describe('return URL protection', () => {
  for (const [url, why] of accepted) {
    it(`accepts ${why}: ${url}`, () => assert.equal(isReturnUrlAllowed(url, LISTED), true));
  }
  for (const [url, why] of refused) {
    it(`refuses ${why}: ${JSON.stringify(url)}`, () => assert.equal(isReturnUrlAllowed(url, LISTED), false));
  }
  it('refuses everything when nothing is listed', () => {
    assert.equal(isReturnUrlAllowed('https://example.org/callback/', []), false);
  });
});
