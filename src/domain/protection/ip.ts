import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** A parsed entry: one address (`prefix` null) or a subnet given by its network address. */
interface Range {
  address: Address;
  prefix: number | null;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Longer than any IPv6 address with an IPv4 tail plus `/128`. */
const MAX_ENTRY_LENGTH = 64;
const MAPPED_PREFIX_BITS = 96;

const refuse = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

function format(address: Address): string {
  return address.kind() === 'ipv6' ? (address as ipaddr.IPv6).toRFC5952String() : address.toString();
}

const formatRange = (range: Range): string =>
  range.prefix === null ? format(range.address) : `${format(range.address)}/${range.prefix}`;

const bitsOf = (address: Address): number => (address.kind() === 'ipv4' ? 32 : 128);

function hasLeadingZero(text: string): boolean {
  const ipv4Part = text.slice(text.lastIndexOf(':') + 1);
  return /(^|\.)0\d/.test(ipv4Part);
}

/**
 * Parses one address strictly. `node:net` decides what is valid, because ipaddr.js also
 * accepts legacy forms (octal and hex parts, `1.2.3`) that would silently name another
 * address; ipaddr.js then does the arithmetic.
 */
function parseAddress(text: string): Parsed<Address> {
  if (text.includes('%')) return refuse('zone ids (the part after "%") are not allowed');
  if (isIP(text) === 0) {
    if (/^[\d.:a-f]+$/i.test(text) && hasLeadingZero(text)) {
      return refuse('leading zeros are ambiguous (some systems read them as octal): remove them');
    }
    return refuse('not an IPv4 or IPv6 address');
  }
  // ipaddr.js reads `::1.2.3.4` (IPv4-compatible, a distinct address) as `::ffff:1.2.3.4`;
  // the equivalent spelling `0::1.2.3.4` is read correctly.
  try {
    return { ok: true, value: ipaddr.parse(text.startsWith('::') ? `0${text}` : text) };
  } catch {
    return refuse('not an IPv4 or IPv6 address');
  }
}

/** Masks the host bits off, so the result is the network address of `address/prefix`. */
function networkOf(address: Address, prefix: number): Address {
  const bytes = address.toByteArray().map((byte, i) => {
    const bitsInByte = Math.min(8, Math.max(0, prefix - i * 8));
    return byte & (0xff << (8 - bitsInByte)) & 0xff;
  });
  return ipaddr.fromByteArray(bytes);
}

/** An IPv4-mapped IPv6 address (or subnet inside `::ffff:0:0/96`) stated as IPv4. */
function unmap(range: Range): Range {
  const { address, prefix } = range;
  if (address.kind() !== 'ipv6') return range;
  const ipv6 = address as ipaddr.IPv6;
  if (!ipv6.isIPv4MappedAddress() || (prefix !== null && prefix < MAPPED_PREFIX_BITS)) return range;
  return { address: ipv6.toIPv4Address(), prefix: prefix === null ? null : prefix - MAPPED_PREFIX_BITS };
}

function parseRange(value: string): Parsed<Range> {
  const text = value.trim();
  if (text === '') return refuse('enter an IP address or a subnet such as 10.0.0.0/8');
  if (text.length > MAX_ENTRY_LENGTH) return refuse('too long to be an IP address or subnet');

  const [addressText = '', prefixText, ...rest] = text.split('/');
  if (rest.length > 0) return refuse('a subnet has a single "/"');
  const address = parseAddress(addressText);
  if (!address.ok) return address;
  if (prefixText === undefined) return { ok: true, value: unmap({ address: address.value, prefix: null }) };

  const bits = bitsOf(address.value);
  const version = bits === 32 ? 'IPv4' : 'IPv6';
  if (!/^(0|[1-9]\d{0,2})$/.test(prefixText)) {
    return refuse(`the prefix after "/" must be a number from 0 to ${bits} for ${version}`);
  }
  const prefix = Number(prefixText);
  if (prefix > bits) return refuse(`prefix /${prefix} is out of range for ${version} (0 to ${bits})`);

  const network = networkOf(address.value, prefix);
  if (network.toNormalizedString() !== address.value.toNormalizedString()) {
    const suggestion = formatRange(unmap({ address: network, prefix }));
    return refuse(`host bits are set after the /${prefix} prefix: did you mean ${suggestion}?`);
  }
  return { ok: true, value: unmap({ address: network, prefix }) };
}

/**
 * Validates an allow-list entry: an IPv4 or IPv6 address or a CIDR subnet. The canonical form
 * is lower-case compressed IPv6, and IPv4 for IPv4-mapped addresses and subnets.
 */
export function parseIpEntry(value: string): { ok: true; entry: string } | { ok: false; reason: string } {
  const range = parseRange(value);
  return range.ok ? { ok: true, entry: formatRange(range.value) } : range;
}

/** Parses a client address (no subnet), IPv4-mapped IPv6 stated as IPv4; null when invalid. */
function parseClientAddress(text: string): Address | null {
  if (text.length > MAX_ENTRY_LENGTH) return null;
  const address = parseAddress(text);
  return address.ok ? unmap({ address: address.value, prefix: null }).address : null;
}

function contains(range: Range, address: Address): boolean {
  if (range.address.kind() !== address.kind()) return false;
  return address.match(range.address, range.prefix ?? bitsOf(address));
}

function parseRanges(entries: readonly string[]): Range[] {
  return entries.flatMap((entry) => {
    const range = parseRange(entry);
    return range.ok ? [range.value] : [];
  });
}

/**
 * True when the address is one of the entries or inside one of their subnets. Entries that do
 * not parse match nothing; IPv4 (including IPv4-mapped IPv6) only ever matches IPv4 entries.
 */
export function isAddressAllowed(address: string | null, entries: readonly string[]): boolean {
  if (address === null) return false;
  const parsed = parseClientAddress(address);
  return parsed !== null && parseRanges(entries).some((range) => contains(range, parsed));
}

/** Parses a comma-separated list of proxy addresses or subnets; throws naming the bad entry. */
export function parseTrustedProxies(value: string | undefined): string[] {
  if (value === undefined) return [];
  const entries = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item) => {
      const parsed = parseIpEntry(item);
      if (!parsed.ok) throw new Error(`Invalid trusted proxy "${item}": ${parsed.reason}`);
      return parsed.entry;
    });
  return [...new Set(entries)];
}

export type ClientAddressResolver = (
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
) => string | null;

/**
 * Resolves the client address of a request. `X-Forwarded-For` is read only when the socket
 * peer is a trusted proxy, right to left, skipping trusted proxies; the first other hop is
 * the client. Null means the client is unknown and IP protection must refuse the request.
 */
export function createClientAddressResolver(trustedProxies: readonly string[]): ClientAddressResolver {
  const trusted = trustedProxies.map((entry) => {
    const range = parseRange(entry);
    if (!range.ok) throw new Error(`Invalid trusted proxy "${entry}": ${range.reason}`);
    return range.value;
  });
  const isTrusted = (address: Address): boolean => trusted.some((range) => contains(range, address));

  return (socketAddress, forwardedFor) => {
    const peer = socketAddress === undefined ? null : parseClientAddress(socketAddress);
    if (peer === null) return null;
    if (!isTrusted(peer)) return format(peer);
    if (forwardedFor === undefined) return null;

    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
    const addresses: Address[] = [];
    for (const hop of hops) {
      const address = parseClientAddress(hop.trim());
      // One unreadable hop means the chain cannot be followed: the client is unknown.
      if (address === null) return null;
      addresses.push(address);
    }
    const client = addresses.reverse().find((address) => !isTrusted(address));
    return client === undefined ? null : format(client);
  };
}
