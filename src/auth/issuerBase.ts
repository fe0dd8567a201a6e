/**
 * The base URL a dev token's issuer is made of [P: d-dev-token-issuer]: `--public-url` when set, else the origin the
 * client reached the server at (the scheme of the connection and the `Host` header), so the issuer a client reads in
 * the discovery document names the host it called, as MSAL requires. A `Host` that is not a plain host name or
 * address (with an optional port) is not echoed: the loopback name stands in for it.
 */

/** `host[:port]`: a DNS name, an IPv4 address or a bracketed IPv6 address. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** An issuer URL of this server for a tenant: `http(s)://host[:port]/{tid}/v2.0` (or under `--public-url`'s path). */
const ISSUER = /^(https?:\/\/[^/?#\s]+(?:\/[^?#\s]*)?)\/([0-9a-f-]{36})\/v2\.0$/;

export interface RequestOrigin {
  /** True on a TLS connection. */
  encrypted: boolean;
  /** The `Host` header, as sent. */
  host: string | undefined;
}

/**
 * Where a request was sent, from Fastify's view of it: `request.host` is the `Host` header on HTTP/1.1 and the
 * `:authority` pseudo-header on HTTP/2 (which has no `Host`).
 */
export function originOf(request: { protocol: string; host: string }): RequestOrigin {
  return { encrypted: request.protocol === 'https', host: request.host === '' ? undefined : request.host };
}

export function issuerBase(request: RequestOrigin, publicUrl: string | null): string {
  if (publicUrl !== null) return publicUrl.replace(/\/+$/, '');
  const scheme = request.encrypted ? 'https' : 'http';
  const host = request.host !== undefined && HOST.test(request.host) ? request.host.toLowerCase() : 'localhost';
  return new URL(`${scheme}://${host}`).origin;
}

/** The tenant an issuer URL of this server names, or null when `iss` is not of the form `{base}/{tid}/v2.0`. */
export function issuerTenant(iss: unknown): string | null {
  if (typeof iss !== 'string') return null;
  const match = ISSUER.exec(iss);
  return match ? match[2]! : null;
}
