import Bowser from 'bowser';
import ipaddr from 'ipaddr.js';

/** Where a session was started from, as the person sees it in their list of sessions. */
export interface SessionOrigin {
  readonly userAgent?: string;
  readonly address?: string | null;
}

/** "Firefox on Windows", or null when the browser does not say. */
export function describeDevice(userAgent: string | undefined): string | null {
  if (!userAgent) return null;
  const parsed = Bowser.parse(userAgent.slice(0, 512));
  const browser = parsed.browser.name;
  const os = parsed.os.name;
  if (!browser && !os) return null;
  return [browser ?? 'A browser', os ? `on ${os}` : ''].filter(Boolean).join(' ').slice(0, 80);
}

/**
 * The network an address belongs to, as an approximate place that names no single
 * device: its /24 (IPv4) or /48 (IPv6), or what kind of network it is.
 */
export function describeNetwork(address: string | null | undefined): string | null {
  if (!address || !ipaddr.isValid(address)) return null;
  let parsed = ipaddr.parse(address);
  if (parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress()) parsed = parsed.toIPv4Address();
  const range = parsed.range();
  if (range === 'loopback') return 'this computer';
  const prefix = parsed.kind() === 'ipv4' ? 24 : 48;
  const base = parsed.kind() === 'ipv4'
    ? ipaddr.IPv4.networkAddressFromCIDR(`${parsed.toString()}/${prefix}`)
    : ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/${prefix}`);
  const cidr = `${base.toString()}/${prefix}`;
  return range === 'private' || range === 'uniqueLocal' ? `a private network (${cidr})` : `network ${cidr}`;
}
