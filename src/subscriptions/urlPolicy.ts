/**
 * Which webhook URLs Presently will call (docs/notifications/url-policy.md). Checked for `notificationUrl` and
 * `lifecycleNotificationUrl` when a subscription is created or its URL is changed, before the validation handshake.
 *
 * - development (the default, dev auth mode): any `https://` URL, and `http://` to `localhost`, `127.0.0.1` or `[::1]`.
 * - production: `https://` only, and the host must not resolve (every address it resolves to is checked) to a
 *   loopback, link-local, private, unspecified or otherwise non-public address, unless the allow-list names the host.
 * - Presently's own sink (`/_presently/sink/…` on one of the server's own origins) is always allowed.
 *
 * The address check happens at subscribe time, and again on every connection the webhook client makes (handshake,
 * notification, lifecycle notification) through `connectGuard`, on the address it actually connects to: a name that
 * resolves to a public address at subscribe time and to loopback later (DNS rebinding) is refused then.
 */
import { isIP } from 'node:net';
import { InvalidInput } from '../platform/json/errors.ts';
import { systemResolver, type AddressGuard, type Resolver } from '../notifications/webhookClient.ts';
import { isBlockedAddress } from './blockedAddresses.ts';

export { isBlockedAddress };

export type WebhookMode = 'development' | 'production';

export { systemResolver, type Resolver };

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

/**
 * The connect-time half of the policy, for the webhook client: in production mode an address that is not public is
 * refused unless the URL is exempt (its host on the allow-list, or Presently's own sink). Null in development mode.
 */
export function connectGuard(policy: UrlPolicy): AddressGuard | null {
  if (policy.mode === 'development') return null;
  const allowed = new Set(normalizeHosts(policy.allowHosts));
  return (url, address) => !allowed.has(normalizeHost(url.hostname)) && !policy.isOwnSink?.(url) && isBlockedAddress(address);
}
