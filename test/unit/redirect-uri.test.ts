import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRegisteredRedirectUri, parseRedirectUri } from '../../src/domain/protection/redirect-uri.js';

describe('OpenID Connect redirect URIs', () => {
  const registered = ['https://app.example.org/callback', 'http://127.0.0.1/native', 'http://[::1]:8000/v6', 'http://localhost:3000/dev'];

  it('accepts exactly a registered URI, character for character', () => {
    assert.ok(isRegisteredRedirectUri('https://app.example.org/callback', registered));
    for (const near of [
      'https://app.example.org/callback/', 'https://app.example.org/callback?x=1', 'https://app.example.org/Callback',
      'https://APP.example.org/callback', 'https://app.example.org:443/callback', 'https://app.example.org/callback#f',
      'https://app.example.org/callback/../callback', 'https://app.example.org.evil.example/callback', 'http://app.example.org/callback',
      'https://app.example.org/call', '', 'not a url',
    ]) assert.equal(isRegisteredRedirectUri(near, registered), false, near);
  });

  it('lets only the port vary for http on a loopback IP literal (RFC 8252)', () => {
    assert.ok(isRegisteredRedirectUri('http://127.0.0.1:53124/native', registered));
    assert.ok(isRegisteredRedirectUri('http://[::1]:9/v6', registered));
    assert.ok(isRegisteredRedirectUri('http://[::1]/v6', registered));
    for (const near of ['http://127.0.0.1:53124/native/', 'http://127.0.0.2:1/native', 'http://127.0.0.1:1/other', 'https://127.0.0.1:1/native',
      'http://localhost:3001/dev', 'http://127.0.0.1:1@evil.example/native', 'http://127.0.0.1:1/native#x']) {
      assert.equal(isRegisteredRedirectUri(near, registered), false, near);
    }
    // A name is not a literal: localhost is matched exactly, port included.
    assert.ok(isRegisteredRedirectUri('http://localhost:3000/dev', registered));
  });

  it('registers https, or http on loopback, without credentials or fragments', () => {
    assert.equal(parseRedirectUri('https://app.example.org/cb'), 'https://app.example.org/cb');
    assert.equal(parseRedirectUri('http://127.0.0.1/cb'), 'http://127.0.0.1/cb');
    for (const bad of ['http://app.example.org/cb', 'https://app.example.org/cb#x', 'https://u:p@app.example.org/cb', 'javascript:alert(1)',
      'https://app.example.org/a%2fb', 'https://app.example.org\\\\cb', 'ftp://app.example.org/cb']) {
      assert.equal(parseRedirectUri(bad), null, bad);
    }
  });
});
