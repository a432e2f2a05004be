import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeDevice, describeNetwork } from '../../src/domain/sessions/session-origin.js';

describe('what a session shows of where it started', () => {
  it('names the browser and system from the user agent, or nothing', () => {
    assert.equal(describeDevice('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0'), 'Firefox on Windows');
    assert.equal(describeDevice('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36'), 'Chrome on Linux');
    assert.equal(describeDevice(undefined), null);
    assert.equal(describeDevice(''), null);
    assert.ok((describeDevice('x'.repeat(10_000)) ?? '').length <= 80);
  });

  it('names a network, never the address itself', () => {
    assert.equal(describeNetwork('203.0.113.77'), 'network 203.0.113.0/24');
    assert.equal(describeNetwork('::ffff:198.51.100.9'), 'network 198.51.100.0/24');
    assert.equal(describeNetwork('2001:db8:abcd:12::1'), 'network 2001:db8:abcd::/48');
    assert.equal(describeNetwork('192.168.1.20'), 'a private network (192.168.1.0/24)');
    assert.equal(describeNetwork('127.0.0.1'), 'this computer');
    assert.equal(describeNetwork('::1'), 'this computer');
    assert.equal(describeNetwork('not an address'), null);
    assert.equal(describeNetwork(null), null);
  });
});
