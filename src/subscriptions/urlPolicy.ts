/**
 * Which webhook URLs Presently will call (notifications.md §3). Checked for `notificationUrl` and
 * `lifecycleNotificationUrl` when a subscription is created or its URL is changed, before the validation handshake.
 *
 * - development (the default, dev auth mode): any `https://` URL, and `http://` to `localhost`, `127.0.0.1` or `[::1]`.
 * - production: `https://` only, and the host must not resolve (every address it resolves to is checked) to a
 *   loopback, link-local, private, unspecified or otherwise non-public address, unless the allow-list names the host.
 * - Presently's own sink (`/_presently/sink/…` on one of the server's own origins) is always allowed.
 *
 * The address check happens at subscribe time; a deliverer that wants to close the DNS-rebinding window can call
 * `isBlockedAddress` again on the address it connects to.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { InvalidInput } from '../platform/json/errors.ts';

export type WebhookMode = 'development' | 'production';

/** All addresses a host name resolves to (IPv4 and IPv6). Rejects when it does not resolve. */
export type Resolver = (hostname: string) => Promise<string[]>;

export interface UrlPolicy {
  mode: WebhookMode;
  /** Host names (or IP literals) exempt from the private-address check, lower-case, IPv6 without brackets. */
  allowHosts: readonly string[];
  /** Name resolution; defaults to node:dns lookup with `all: true`. Tests inject their own. */
  resolve?: Resolver;
  /** True for a URL of Presently's own sink, which is always allowed. */
  isOwnSink?: (url: URL) => boolean;
}

export const MAX_URL_LENGTH = 2048;

const DEV_HTTP_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

export const systemResolver: Resolver = async (hostname) => {
  const found = await lookup(hostname, { all: true, verbatim: true });
  return found.map((a) => a.address);
};

/** Non-public ranges: loopback, link-local, private (RFC 1918, ULA), CGNAT, unspecified, multicast, reserved. */
const BLOCKED = (() => {
  const list = new BlockList();
  const v4: Array<[string, number]> = [
    ['0.0.0.0', 8], // "this network", unspecified
    ['10.0.0.0', 8], // private
    ['100.64.0.0', 10], // shared address space (CGNAT)
    ['127.0.0.0', 8], // loopback
    ['169.254.0.0', 16], // link-local (cloud metadata endpoints live here)
    ['172.16.0.0', 12], // private
    ['192.0.0.0', 24], // IETF protocol assignments
    ['192.168.0.0', 16], // private
    ['198.18.0.0', 15], // benchmarking
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, broadcast
  ];
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, 'ipv4');
  const v6: Array<[string, number]> = [
    ['::', 128], // unspecified
    ['::1', 128], // loopback
    ['fe80::', 10], // link-local
    ['fec0::', 10], // site-local (deprecated)
    ['fc00::', 7], // unique local
    ['ff00::', 8], // multicast
  ];
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, 'ipv6');
  return list;
})();

/** Matches IPv4-mapped (::ffff:a.b.c.d / ::ffff:xxxx:xxxx) and NAT64 (64:ff9b::/96) forms, which embed an IPv4. */
function embeddedIpv4(address: string): string | null {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!m) return null;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True when the address (IPv4 or IPv6 literal, no brackets) is not a public unicast address. Unparsable: true. */
export function isBlockedAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''); // brackets, IPv6 zone id
  const family = isIP(bare);
  if (family === 4) return BLOCKED.check(bare, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(bare);
    if (v4 !== null) return BLOCKED.check(v4, 'ipv4');
    return BLOCKED.check(bare, 'ipv6');
  }
  return true;
}

/** `a.example, B.example ,[::1]` → `['a.example', 'b.example', '::1']`. */
export function normalizeHosts(hosts: readonly string[]): string[] {
  return hosts.map(normalizeHost).filter((h) => h !== '');
}

function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

function refuse(property: string, url: string, why: string): InvalidInput {
  return new InvalidInput(`Property '${property}' ('${url.slice(0, 200)}') is not allowed: ${why}`, property);
}

/** Parses a webhook URL: absolute http(s), no credentials, at most 2048 characters. Throws InvalidInput. */
export function parseWebhookUrl(raw: string, property: string): URL {
  if (raw.length > MAX_URL_LENGTH) {
    throw new InvalidInput(`Property '${property}' is longer than ${MAX_URL_LENGTH} characters.`, property);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidInput(`Property '${property}' must be an absolute https URL, not '${raw.slice(0, 200)}'.`, property);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidInput(`Property '${property}' must be an https URL, not a ${url.protocol.replace(/:$/, '')} URL.`, property);
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidInput(`Property '${property}' must not contain a user name or password.`, property);
  }
  return url;
}

/**
 * Checks a webhook URL against the policy; resolves to the parsed URL or rejects with InvalidInput naming
 * `property` and the reason.
 */
export async function checkWebhookUrl(raw: string, property: string, policy: UrlPolicy): Promise<URL> {
  const url = parseWebhookUrl(raw, property);
  if (policy.isOwnSink?.(url)) return url;
  const host = url.hostname.toLowerCase();

  if (policy.mode === 'development') {
    if (url.protocol === 'https:' || DEV_HTTP_HOSTS.includes(host)) return url;
    throw refuse(property, raw,
      'plain http is allowed only for localhost, 127.0.0.1 and [::1] in development mode; use an https URL.');
  }

  if (url.protocol !== 'https:') throw refuse(property, raw, 'it must be an https URL in production mode.');
  const bare = normalizeHost(host);
  if (policy.allowHosts.some((h) => normalizeHost(h) === bare)) return url;

  let addresses: string[];
  if (isIP(bare) !== 0) {
    addresses = [bare];
  } else {
    try {
      addresses = await (policy.resolve ?? systemResolver)(bare);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw refuse(property, raw, `its host '${bare}' could not be resolved${code ? ` (${code})` : ''}.`);
    }
    if (addresses.length === 0) throw refuse(property, raw, `its host '${bare}' could not be resolved.`);
  }
  const blocked = addresses.find(isBlockedAddress);
  if (blocked !== undefined) {
    throw refuse(property, raw,
      `its host '${bare}' resolves to ${blocked}, a loopback, link-local or private address. ` +
      'Name the host in --webhook-allow (PRESENTLY_WEBHOOK_ALLOW) to allow it.');
  }
  return url;
}
