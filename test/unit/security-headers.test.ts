import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { securityHeaders } from '../../src/http/security-headers.js';

describe('the security headers every answer carries', () => {
  it('are helmet’s, with framing denied, no referrer, and HSTS only over HTTPS', () => {
    const plain = securityHeaders({ hsts: false });
    assert.equal(plain['x-frame-options'], 'DENY');
    assert.equal(plain['referrer-policy'], 'no-referrer');
    assert.equal(plain['x-content-type-options'], 'nosniff');
    assert.equal(plain['cross-origin-opener-policy'], 'same-origin');
    assert.equal(plain['strict-transport-security'], undefined);
    assert.equal(plain['content-security-policy'], undefined, 'each answer sets its own policy');
    assert.equal(securityHeaders({ hsts: true })['strict-transport-security'], 'max-age=63072000; includeSubDomains');
    assert.ok(Object.isFrozen(plain));
  });
});
