import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createClientAddressResolver,
  isAddressAllowed,
  parseIpEntry,
  parseTrustedProxies,
} from '../../src/domain/protection/ip.js';

describe('parseIpEntry', () => {
  const accepted: Array<[string, string, string]> = [
    ['192.0.2.1', '192.0.2.1', 'an IPv4 address'],
    ['  192.0.2.1\t', '192.0.2.1', 'surrounding whitespace'],
    ['10.0.0.0/8', '10.0.0.0/8', 'an IPv4 subnet'],
    ['0.0.0.0/0', '0.0.0.0/0', 'every IPv4 address'],
    ['192.0.2.7/32', '192.0.2.7/32', 'a /32'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1', 'upper-case uncompressed IPv6'],
    ['2001:db8::/32', '2001:db8::/32', 'an IPv6 subnet'],
    ['2001:0db8:0000::/48', '2001:db8::/48', 'zero-padded IPv6 groups (unambiguous hex)'],
    ['::/0', '::/0', 'every IPv6 address'],
    ['2001:db8::7/128', '2001:db8::7/128', 'a /128'],
    ['::1', '::1', 'IPv6 loopback'],
    ['::ffff:1.2.3.4', '1.2.3.4', 'an IPv4-mapped address'],
    ['::FFFF:102:304', '1.2.3.4', 'an IPv4-mapped address in hex'],
    ['::ffff:0:0/96', '0.0.0.0/0', 'the whole IPv4-mapped range'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8', 'an IPv4-mapped subnet'],
    ['::ffff:192.0.2.1/128', '192.0.2.1/32', 'an IPv4-mapped /128'],
    ['::1.2.3.4', '::102:304', 'an IPv4-compatible address stays IPv6 (not mapped)'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201', 'a NAT64 address with an IPv4 tail'],
  ];
  for (const [input, entry, why] of accepted) {
    it(`accepts ${why}: ${JSON.stringify(input)}`, () => {
      assert.deepEqual(parseIpEntry(input), { ok: true, entry });
    });
  }

  const refused: Array<[string, RegExp, string]> = [
    ['', /enter an IP address/, 'an empty value'],
    ['   ', /enter an IP address/, 'only whitespace'],
    ['hello', /not an IPv4 or IPv6/, 'garbage'],
    ['example.org', /not an IPv4 or IPv6/, 'a host name'],
    ['010.1.1.1', /leading zeros/, 'a leading zero (octal to some parsers)'],
    ['10.01.1.1', /leading zeros/, 'a leading zero in a later part'],
    ['::ffff:010.1.1.1', /leading zeros/, 'a leading zero in a mapped IPv4 tail'],
    ['0x0a.0.0.1', /not an IPv4 or IPv6/, 'hex parts'],
    ['1.2.3', /not an IPv4 or IPv6/, 'three parts'],
    ['16909060', /not an IPv4 or IPv6/, 'a single 32-bit number'],
    ['256.0.0.1', /not an IPv4 or IPv6/, 'a part above 255'],
    ['::ffff:999.1.1.1', /not an IPv4 or IPv6/, 'a mapped address with a part above 255'],
    ['1:2:3:4:5:6:7:8:9', /not an IPv4 or IPv6/, 'nine IPv6 groups'],
    ['1::2::3', /not an IPv4 or IPv6/, 'two "::"'],
    ['fe80::1%eth0', /zone ids/, 'an IPv6 zone id'],
    ['fe80::1%25eth0', /zone ids/, 'a percent-encoded zone id'],
    ['[2001:db8::1]', /not an IPv4 or IPv6/, 'brackets'],
    ['192.0.2.1:443', /not an IPv4 or IPv6/, 'a port'],
    ['1.2.3.4 5.6.7.8', /not an IPv4 or IPv6/, 'two addresses'],
    ['10.0.0.0/33', /out of range for IPv4 \(0 to 32\)/, 'an IPv4 prefix above 32'],
    ['2001:db8::/129', /out of range for IPv6 \(0 to 128\)/, 'an IPv6 prefix above 128'],
    ['10.0.0.0/-1', /prefix after "\/" must be a number/, 'a negative prefix'],
    ['10.0.0.0/', /prefix after "\/" must be a number/, 'an empty prefix'],
    ['10.0.0.0/08', /prefix after "\/" must be a number/, 'a zero-padded prefix'],
    ['10.0.0.0/8.0', /prefix after "\/" must be a number/, 'a fractional prefix'],
    ['10.0.0.0/255.0.0.0', /prefix after "\/" must be a number/, 'a netmask instead of a prefix'],
    ['10.0.0.0/8/8', /single "\/"/, 'two slashes'],
    ['/8', /not an IPv4 or IPv6/, 'a prefix without an address'],
    ['10.0.0.1/8', /did you mean 10\.0\.0\.0\/8\?/, 'host bits set in an IPv4 subnet'],
    ['192.0.2.1/0', /did you mean 0\.0\.0\.0\/0\?/, 'host bits set with /0'],
    ['2001:db8::1/32', /did you mean 2001:db8::\/32\?/, 'host bits set in an IPv6 subnet'],
    ['::ffff:10.0.0.1/104', /did you mean 10\.0\.0\.0\/8\?/, 'host bits set in a mapped subnet'],
    [`${'1'.repeat(100)}.0.0.1`, /too long/, 'an overly long value'],
    [`2001:db8::/${'0'.repeat(80)}`, /too long/, 'an overly long prefix'],
  ];
  for (const [input, reason, why] of refused) {
    it(`refuses ${why}: ${JSON.stringify(input.slice(0, 40))}`, () => {
      const result = parseIpEntry(input);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.reason, reason);
    });
  }
});

describe('isAddressAllowed', () => {
  const cases: Array<[string | null, string[], boolean, string]> = [
    // IPv4 CIDR edges: one below, first, last, one above.
    ['10.255.255.255', ['11.0.0.0/8'], false, 'one below an IPv4 subnet'],
    ['11.0.0.0', ['11.0.0.0/8'], true, 'the first address of an IPv4 subnet'],
    ['11.255.255.255', ['11.0.0.0/8'], true, 'the last address of an IPv4 subnet'],
    ['12.0.0.0', ['11.0.0.0/8'], false, 'one above an IPv4 subnet'],
    ['192.0.2.63', ['192.0.2.64/26'], false, 'one below a /26'],
    ['192.0.2.64', ['192.0.2.64/26'], true, 'the first address of a /26'],
    ['192.0.2.127', ['192.0.2.64/26'], true, 'the last address of a /26'],
    ['192.0.2.128', ['192.0.2.64/26'], false, 'one above a /26'],
    ['0.0.0.0', ['0.0.0.0/0'], true, 'the lowest address in /0'],
    ['255.255.255.255', ['0.0.0.0/0'], true, 'the highest address in /0'],
    ['192.0.2.7', ['192.0.2.7/32'], true, 'the address of a /32'],
    ['192.0.2.8', ['192.0.2.7/32'], false, 'next to a /32'],
    ['192.0.2.6', ['192.0.2.7/32'], false, 'before a /32'],
    ['192.0.2.7', ['192.0.2.7'], true, 'an exact IPv4 entry'],
    ['192.0.2.70', ['192.0.2.7'], false, 'an address that only starts like the entry'],
    // IPv6 CIDR edges.
    ['2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', ['2001:db8::/32'], false, 'one below an IPv6 subnet'],
    ['2001:db8::', ['2001:db8::/32'], true, 'the first address of an IPv6 subnet'],
    ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', ['2001:db8::/32'], true, 'the last address of an IPv6 subnet'],
    ['2001:db9::', ['2001:db8::/32'], false, 'one above an IPv6 subnet'],
    ['::', ['::/0'], true, 'the lowest address in ::/0'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', ['::/0'], true, 'the highest address in ::/0'],
    ['2001:db8::7', ['2001:db8::7/128'], true, 'the address of a /128'],
    ['2001:db8::8', ['2001:db8::7/128'], false, 'next to a /128'],
    ['2001:DB8:0:0::7', ['2001:db8::7'], true, 'a differently written IPv6 address'],
    // IPv4-mapped IPv6, as Node reports IPv4 clients on dual-stack sockets.
    ['::ffff:192.0.2.1', ['192.0.2.1'], true, 'a mapped address against an IPv4 entry'],
    ['::ffff:192.0.2.1', ['192.0.2.0/24'], true, 'a mapped address inside an IPv4 subnet'],
    ['::ffff:192.0.3.1', ['192.0.2.0/24'], false, 'a mapped address outside an IPv4 subnet'],
    ['192.0.2.1', ['::ffff:192.0.2.1'], true, 'an IPv4 address against a mapped entry'],
    ['192.0.2.1', ['::ffff:192.0.2.0/120'], true, 'an IPv4 address inside a mapped subnet'],
    ['::ffff:192.0.2.1', ['::ffff:192.0.2.0/120'], true, 'a mapped address inside a mapped subnet'],
    // IPv4 and IPv6 never meet otherwise.
    ['192.0.2.1', ['::/0'], false, 'IPv4 against ::/0'],
    ['::ffff:192.0.2.1', ['::/0'], false, 'a mapped address against ::/0'],
    ['::1', ['0.0.0.0/0'], false, 'IPv6 against 0.0.0.0/0'],
    ['::102:304', ['1.2.3.4'], false, 'an IPv4-compatible address against its IPv4'],
    ['::1.2.3.4', ['1.2.3.4'], false, 'an IPv4-compatible address (dotted) against its IPv4'],
    // Unknown or malformed addresses.
    [null, ['0.0.0.0/0', '::/0'], false, 'an unknown client'],
    ['', ['0.0.0.0/0'], false, 'an empty address'],
    ['garbage', ['0.0.0.0/0'], false, 'garbage'],
    ['010.0.0.1', ['8.0.0.1', '10.0.0.1'], false, 'a leading-zero address'],
    ['fe80::1%eth0', ['fe80::/10'], false, 'an address with a zone id'],
    ['192.0.2.1', [], false, 'an empty list'],
    ['192.0.2.1', ['not an entry', '192.0.2.1'], true, 'a list with an invalid entry ignored'],
    ['192.0.2.1', ['192.0.2.1/8'], false, 'an entry with host bits set (invalid, so matches nothing)'],
  ];
  for (const [address, entries, expected, why] of cases) {
    it(`${expected ? 'allows' : 'refuses'} ${why}`, () => {
      assert.equal(isAddressAllowed(address, entries), expected);
    });
  }
});

describe('parseTrustedProxies', () => {
  it('reads a comma-separated list into canonical entries', () => {
    assert.deepEqual(parseTrustedProxies(' 10.0.0.0/8, ::FFFF:127.0.0.1 ,2001:DB8::/32,'), [
      '10.0.0.0/8',
      '127.0.0.1',
      '2001:db8::/32',
    ]);
  });
  it('reads nothing from an absent or blank value', () => {
    assert.deepEqual(parseTrustedProxies(undefined), []);
    assert.deepEqual(parseTrustedProxies('  '), []);
  });
  it('drops duplicates', () => {
    assert.deepEqual(parseTrustedProxies('127.0.0.1,::ffff:127.0.0.1'), ['127.0.0.1']);
  });
  it('throws naming the bad entry', () => {
    assert.throws(() => parseTrustedProxies('10.0.0.0/8, 10.0.0.1/8'), /"10\.0\.0\.1\/8".*did you mean 10\.0\.0\.0\/8/);
    assert.throws(() => parseTrustedProxies('127.0.0.1,localhost'), /"localhost"/);
  });
});

describe('createClientAddressResolver', () => {
  const resolve = createClientAddressResolver(['10.0.0.0/8', '2001:db8:a::/48']);
  type Case = [string | undefined, string | string[] | undefined, string | null, string];
  const cases: Case[] = [
    ['203.0.113.9', undefined, '203.0.113.9', 'a direct client'],
    ['::ffff:203.0.113.9', undefined, '203.0.113.9', 'a direct client on a dual-stack socket'],
    ['2001:DB8:B::1', undefined, '2001:db8:b::1', 'a direct IPv6 client, canonicalised'],
    ['203.0.113.9', '198.51.100.1', '203.0.113.9', 'a spoofed X-Forwarded-For from an untrusted peer'],
    ['203.0.113.9', 'garbage', '203.0.113.9', 'garbage X-Forwarded-For from an untrusted peer'],
    ['::ffff:203.0.113.9', '10.0.0.1', '203.0.113.9', 'a spoofed trusted hop from an untrusted peer'],
    ['10.0.0.1', '198.51.100.7', '198.51.100.7', 'one trusted proxy'],
    ['::ffff:10.0.0.1', '198.51.100.7', '198.51.100.7', 'a trusted proxy on a dual-stack socket'],
    ['10.0.0.1', '198.51.100.7, 10.0.0.2', '198.51.100.7', 'a chain through two trusted proxies'],
    ['10.0.0.1', '1.1.1.1, 198.51.100.7, 10.0.0.2', '198.51.100.7', 'a spoofed leftmost hop ignored'],
    ['10.0.0.1', '10.0.0.3, 198.51.100.7, 10.0.0.2', '198.51.100.7', 'a spoofed trusted hop left of the client'],
    ['2001:db8:a::1', '2001:db8:b::5', '2001:db8:b::5', 'a trusted IPv6 proxy'],
    ['10.0.0.1', '::ffff:198.51.100.7', '198.51.100.7', 'a mapped hop canonicalised'],
    ['10.0.0.1', ['198.51.100.7', '10.0.0.2'], '198.51.100.7', 'several header lines joined in order'],
    ['10.0.0.1', ['1.1.1.1, 198.51.100.7', '10.0.0.2'], '198.51.100.7', 'several lines with lists'],
    ['10.0.0.1', '198.51.100.7,10.0.0.2', '198.51.100.7', 'hops without spaces'],
    // A trusted peer whose chain cannot be followed: the client is unknown.
    ['10.0.0.1', undefined, null, 'a trusted peer without the header'],
    ['10.0.0.1', '', null, 'a trusted peer with an empty header'],
    ['10.0.0.1', [], null, 'a trusted peer with no header lines'],
    ['10.0.0.1', '   ', null, 'a trusted peer with a blank header'],
    ['10.0.0.1', 'garbage', null, 'an unparsable header from a trusted peer'],
    ['10.0.0.1', '198.51.100.7, garbage', null, 'an unparsable last hop'],
    ['10.0.0.1', 'garbage, 198.51.100.7', null, 'an unparsable hop left of the client'],
    ['10.0.0.1', '198.51.100.7,, 10.0.0.2', null, 'an empty hop'],
    ['10.0.0.1', '198.51.100.7:4711', null, 'a hop with a port'],
    ['10.0.0.1', '[2001:db8:b::5]', null, 'a bracketed hop'],
    ['10.0.0.1', '010.1.1.1', null, 'a leading-zero hop'],
    ['10.0.0.1', '1.2.3', null, 'a three-part hop'],
    ['10.0.0.1', '::ffff:999.1.1.1', null, 'an out-of-range mapped hop'],
    ['10.0.0.1', 'fe80::1%eth0', null, 'a hop with a zone id'],
    ['10.0.0.1', '10.0.0.2, 10.0.0.3', null, 'a chain of only trusted proxies'],
    // The socket itself.
    [undefined, '198.51.100.7', null, 'no socket address'],
    ['', undefined, null, 'an empty socket address'],
  ];
  for (const [socket, forwardedFor, expected, why] of cases) {
    it(`resolves ${why} to ${String(expected)}`, () => {
      assert.equal(resolve(socket, forwardedFor), expected);
    });
  }

  it('trusts no one when no proxies are configured', () => {
    const direct = createClientAddressResolver([]);
    assert.equal(direct('10.0.0.1', '198.51.100.7'), '10.0.0.1');
  });
  it('handles a very long header without trusting any of it', () => {
    const header = `${Array.from({ length: 2000 }, () => '10.9.9.9').join(', ')}, 198.51.100.7`;
    assert.equal(resolve('10.0.0.1', header), '198.51.100.7');
    assert.equal(resolve('10.0.0.1', `${'9'.repeat(10_000)}, 198.51.100.7`), null);
  });
  it('refuses an invalid trusted proxy when created', () => {
    assert.throws(() => createClientAddressResolver(['10.0.0.0/33']), /"10\.0\.0\.0\/33"/);
  });
});
