import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseEmail } from '../../src/domain/people/email.js';
import { isBrowserOriginAllowed, isOriginAllowed, normaliseOrigin } from '../../src/domain/protection/origin.js';

describe('origins', () => {
  it('normalises scheme, case, IDN and default port', () => {
    assert.equal(normaliseOrigin('HTTPS://Example.ORG:443'), 'https://example.org');
    assert.equal(normaliseOrigin('https://example.org/'), 'https://example.org');
    assert.equal(normaliseOrigin('https://bücher.example'), 'https://xn--bcher-kva.example');
    assert.equal(normaliseOrigin('http://localhost:3000'), 'http://localhost:3000');
    assert.equal(normaliseOrigin('http://[::1]:3000'), 'http://[::1]:3000');
  });

  for (const bad of ['null', '', 'example.org', 'ftp://example.org', 'https://example.org/path', 'https://example.org?q', 'https://u@example.org', 'https://example.org.', 'javascript:alert(1)']) {
    it(`is not an origin: ${JSON.stringify(bad)}`, () => assert.equal(normaliseOrigin(bad), null));
  }

  const listed = ['https://example.org', 'http://localhost:3000'];
  it('matches a browser Origin only in its canonical form', () => {
    assert.equal(isBrowserOriginAllowed('https://example.org', listed), true);
    for (const other of ['https://EXAMPLE.org', 'https://example.org.evil.com', 'https://evil-example.org', 'http://example.org', 'https://example.org:8443', 'null', undefined]) {
      assert.equal(isBrowserOriginAllowed(other, listed), false, String(other));
    }
  });

  it('matches a server X-Origin after normalisation', () => {
    assert.equal(isOriginAllowed('https://EXAMPLE.org/', listed), true);
    assert.equal(isOriginAllowed('https://example.org.evil.com', listed), false);
    assert.equal(isOriginAllowed(undefined, listed), false);
  });
});

describe('email normalisation before lookup', () => {
  it('folds case, width and the trailing dot of the domain', () => {
    assert.equal(normaliseEmail('  Jana@Example.CZ. '), 'jana@example.cz');
    assert.equal(normaliseEmail('ｊａｎａ@example.cz'), 'jana@example.cz');
    assert.equal(normaliseEmail('jana@bücher.example'), 'jana@xn--bcher-kva.example');
  });

  for (const bad of ['', 'jana', '@example.cz', 'jana@', 'ja na@example.cz', 'jana@localhost', 'a..b@example.cz', 'jana@exa_mple.cz', `${'a'.repeat(250)}@example.cz`]) {
    it(`refuses ${JSON.stringify(bad.slice(0, 40))}`, () => assert.equal(normaliseEmail(bad), null));
  }
});
