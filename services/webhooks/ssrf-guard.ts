/**
 * Keeps webhook URLs (which tenants choose) from reaching the deployment's own network: loopback, private and
 * link-local ranges (the cloud metadata service at 169.254.169.254), and the IPv6 forms that embed them.
 * Only public unicast addresses pass, unless an operator allowlists a range or host name.
 * Pure given a resolver: the DNS lookup is injected.
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';

export type AddressCheck = { ok: true } | { ok: false; reason: string };

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address a host name resolves to (like `dns.promises.lookup(host, { all: true })`). */
export type HostLookup = (hostname: string) => Promise<ResolvedAddress[]>;

export interface CheckUrlOptions {
  lookup: HostLookup;
  /** CIDRs (`127.0.0.1/32`, `fd00::/8`), single addresses, or exact host names that are let through anyway. */
  allowlist?: readonly string[] | undefined;
}

export type UrlCheck =
  | { ok: true; url: URL; hostname: string; addresses: ResolvedAddress[] }
  /** `refused`: the URL itself is not allowed (permanent); false when only the lookup failed (worth retrying). */
  | { ok: false; reason: string; refused: boolean };

/** A connect-time refusal, told apart from network errors by its name. */
export class RefusedAddressError extends Error {
  override readonly name = 'RefusedAddressError';
  readonly code = 'ERR_WEBHOOK_ADDRESS_REFUSED';
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

interface ParsedAllowlist {
  ranges: Cidr[];
  hosts: Set<string>;
}

/** Whether `entry` is a CIDR, an IP address or a host name, as the allowlist accepts (for validating configuration). */
export function isAllowlistEntry(entry: string): boolean {
  const value = entry.trim();
  return ipaddr.isValidCIDR(value) || isStrictAddress(value) || isHostName(value);
}

export function checkAddress(ip: string, allowlist: readonly string[] = []): AddressCheck {
  return checkParsedAddress(ip, parseAllowlist(allowlist));
}

export async function checkUrl(url: string | URL, options: CheckUrlOptions): Promise<UrlCheck> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'not a valid URL', refused: true };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { ok: false, reason: `scheme ${parsed.protocol} is not allowed (only http and https)`, refused: true };
  // Credentials in a webhook URL would be sent in clear to whoever the host resolves to.
  if (parsed.username !== '' || parsed.password !== '') return { ok: false, reason: 'credentials in the URL are not allowed', refused: true };

  const allowlist = parseAllowlist(options.allowlist ?? []);
  const hostname = hostnameOf(parsed);
  if (isStrictAddress(hostname)) {
    const check = checkParsedAddress(hostname, allowlist);
    if (!check.ok) return { ok: false, reason: check.reason, refused: true };
    return { ok: true, url: parsed, hostname, addresses: [{ address: hostname, family: ipaddr.parse(hostname).kind() === 'ipv4' ? 4 : 6 }] };
  }

  let addresses: ResolvedAddress[];
  try {
    addresses = await options.lookup(hostname);
  } catch (error) {
    return { ok: false, reason: `could not resolve ${hostname}: ${messageOf(error)}`, refused: false };
  }
  if (addresses.length === 0) return { ok: false, reason: `${hostname} resolved to no address`, refused: false };
  if (allowlist.hosts.has(normaliseHost(hostname))) return { ok: true, url: parsed, hostname, addresses };
  const refusal = firstRefusal(hostname, addresses, allowlist);
  if (refusal) return { ok: false, reason: refusal, refused: true };
  return { ok: true, url: parsed, hostname, addresses };
}

export type NodeLookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type NodeLookupFunction = (hostname: string, options: LookupOptions, callback: NodeLookupCallback) => void;

/**
 * A `lookup` for `net.connect` that checks every address the host resolves to at the moment of connecting, so a
 * DNS answer that changes after `checkUrl` (DNS rebinding) cannot steer the connection inside.
 */
export function createGuardedLookup(lookup: HostLookup, allowlist: readonly string[] = []): NodeLookupFunction {
  const parsedAllowlist = parseAllowlist(allowlist);
  return (hostname, options, callback) => {
    const host = stripBrackets(hostname);
    const resolving: Promise<ResolvedAddress[]> = isStrictAddress(host) ? Promise.resolve([{ address: host, family: ipaddr.parse(host).kind() === 'ipv4' ? 4 : 6 }]) : lookup(host);
    resolving.then(
      (addresses) => {
        const refusal = parsedAllowlist.hosts.has(normaliseHost(host)) ? null : firstRefusal(host, addresses, parsedAllowlist);
        if (refusal) return callback(new RefusedAddressError(refusal), '');
        const wanted = familyOf(options.family);
        const usable = wanted === 0 ? addresses : addresses.filter((entry) => entry.family === wanted);
        const first = usable[0];
        if (!first) return callback(Object.assign(new Error(`${host} has no IPv${wanted} address`), { code: 'ENOTFOUND' }), '');
        if (options.all) return callback(null, usable.map((entry) => ({ address: entry.address, family: entry.family })));
        return callback(null, first.address, first.family);
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), ''),
    );
  };
}

function firstRefusal(hostname: string, addresses: readonly ResolvedAddress[], allowlist: ParsedAllowlist): string | null {
  // One inside address is enough to refuse: connection attempts may try any of them.
  for (const { address } of addresses) {
    const check = checkParsedAddress(address, allowlist);
    if (!check.ok) return `${hostname} resolves to ${check.reason}`;
  }
  return null;
}

function checkParsedAddress(ip: string, allowlist: ParsedAllowlist): AddressCheck {
  const text = ip.trim();
  if (!isStrictAddress(text)) return { ok: false, reason: `${ip} is not an IP address` };
  const address = ipaddr.parse(text);
  const embedded = embeddedIPv4(address);
  if (isAllowlisted(address, allowlist) || (embedded && isAllowlisted(embedded.address, allowlist))) return { ok: true };
  const refusal = nonPublicRange(address);
  return refusal ? { ok: false, reason: `${text} (${refusal})` } : { ok: true };
}

/** Why the address is not a public unicast one, or null when it is. */
function nonPublicRange(address: Address): string | null {
  if (address.kind() === 'ipv4') {
    const range = address.range();
    return range === 'unicast' ? null : describeRange(range);
  }
  const embedded = embeddedIPv4(address);
  if (embedded) {
    const inner = nonPublicRange(embedded.address);
    return inner ? `${embedded.form} of ${embedded.address.toString()}, ${inner}` : null;
  }
  const v6 = address as ipaddr.IPv6;
  const range = v6.range();
  // Global unicast is 2000::/3; what ipaddr.js calls unicast outside it (IPv4-compatible ::a.b.c.d, unassigned space) is not routable.
  if (range !== 'unicast') return describeRange(range);
  if (!v6.match(GLOBAL_UNICAST_V6)) return 'not global unicast IPv6';
  return null;
}

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

interface EmbeddedIPv4 {
  address: ipaddr.IPv4;
  form: string;
}

/**
 * The IPv4 address an IPv6 address carries, where ipaddr.js can tell (mapped, translated, NAT64, 6to4). Each is
 * judged by the IPv4 address it reaches: refusing NAT64 outright would break IPv6-only hosts behind DNS64, where
 * every public IPv4 site resolves to 64:ff9b::a.b.c.d.
 */
function embeddedIPv4(address: Address): EmbeddedIPv4 | null {
  if (address.kind() !== 'ipv6') return null;
  const v6 = address as ipaddr.IPv6;
  const parts = v6.parts;
  const fromParts = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  switch (v6.range()) {
    // The kernel connects ::ffff:a.b.c.d to a.b.c.d itself.
    case 'ipv4Mapped':
      return { address: v6.toIPv4Address(), form: 'IPv4-mapped IPv6' };
    case 'rfc6145':
      return { address: fromParts(parts[6] ?? 0, parts[7] ?? 0), form: 'IPv4-translated IPv6' };
    case 'rfc6052':
      return { address: fromParts(parts[6] ?? 0, parts[7] ?? 0), form: 'NAT64 IPv6' };
    case '6to4':
      return { address: fromParts(parts[1] ?? 0, parts[2] ?? 0), form: '6to4 IPv6' };
    default:
      return null;
  }
}

const RANGE_DESCRIPTIONS: Record<string, string> = {
  unspecified: 'unspecified address',
  broadcast: 'broadcast address',
  multicast: 'multicast',
  linkLocal: 'link-local, where cloud metadata services live',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT range',
  private: 'private network range',
  reserved: 'reserved range',
  uniqueLocal: 'unique-local IPv6 (private)',
  teredo: 'Teredo tunnel',
  deprecatedSiteLocal: 'site-local IPv6 (private)',
  benchmarking: 'benchmarking range',
  discard: 'discard-only range',
};

function describeRange(range: string): string {
  return `${RANGE_DESCRIPTIONS[range] ?? `special-purpose range ${range}`}: not a public address`;
}

function isAllowlisted(address: Address, allowlist: ParsedAllowlist): boolean {
  return allowlist.ranges.some(([network, bits]) => network.kind() === address.kind() && address.match(network, bits));
}

function parseAllowlist(entries: readonly string[]): ParsedAllowlist {
  const ranges: Cidr[] = [];
  const hosts = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (ipaddr.isValidCIDR(entry)) ranges.push(ipaddr.parseCIDR(entry));
    else if (isStrictAddress(entry)) {
      const address = ipaddr.parse(entry);
      ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (isHostName(entry)) hosts.add(normaliseHost(entry));
  }
  return { ranges, hosts };
}

/** Dotted-quad IPv4 or IPv6: ipaddr.js also reads `0x7f.1` and `2130706433`, which no resolver returns and no config should hold. */
function isStrictAddress(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text);
}

function isHostName(text: string): boolean {
  return /^(?=.{1,253}\.?$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i.test(text);
}

function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

function hostnameOf(url: URL): string {
  return stripBrackets(url.hostname);
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function familyOf(family: LookupOptions['family']): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return 'code' in error && typeof error.code === 'string' ? `${error.code} ${error.message}` : error.message;
  return String(error);
}
