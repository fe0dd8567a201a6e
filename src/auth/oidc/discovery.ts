/**
 * The discovery document of an issuer (OpenID Connect Discovery): only its `issuer`, which must be the configured
 * one, and its `jwks_uri`. Every fetch is bounded by a timeout and follows no redirect.
 */
import { httpGet, type GetResponse } from './httpGet.ts';
import { discoveredIssuerMatches, type IssuerSpec } from './issuers.ts';

/** A provider that could not be asked, or answered something unusable; the message says which and why. */
export class ProviderUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderUnavailable';
  }
}

export interface Discovery {
  jwksUri: URL;
}

export async function fetchDiscovery(spec: IssuerSpec, timeoutMs: number): Promise<Discovery> {
  const doc = await fetchJson(spec.discoveryUrl, timeoutMs);
  const issuer = doc.issuer;
  if (typeof issuer !== 'string' || !discoveredIssuerMatches(spec, issuer)) {
    throw new ProviderUnavailable(`the discovery document at ${spec.discoveryUrl} names the issuer '${String(issuer)}', not '${spec.issuer}'`);
  }
  const jwksUri = typeof doc.jwks_uri === 'string' ? URL.parse(doc.jwks_uri) : null;
  if (jwksUri === null || !/^https?:$/.test(jwksUri.protocol)) {
    throw new ProviderUnavailable(`the discovery document at ${spec.discoveryUrl} has no usable jwks_uri`);
  }
  if (jwksUri.protocol === 'http:' && new URL(spec.discoveryUrl).protocol === 'https:') {
    throw new ProviderUnavailable(`the discovery document at ${spec.discoveryUrl} names a key set over plain http`);
  }
  return { jwksUri };
}

/** GET `url` as JSON within `timeoutMs`, or a ProviderUnavailable naming what went wrong. */
export async function fetchJson(url: string, timeoutMs: number): Promise<Record<string, unknown>> {
  let response: GetResponse;
  try {
    response = await httpGet(url, timeoutMs);
  } catch (err) {
    throw new ProviderUnavailable(`${url} could not be reached: ${describeFetchError(err, timeoutMs)}`);
  }
  // A redirect is not followed: an answer other than 200 is the provider's problem to fix.
  if (response.status !== 200) throw new ProviderUnavailable(`${url} answered HTTP ${response.status}`);
  try {
    const json = response.json();
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('not a JSON object');
    return json as Record<string, unknown>;
  } catch (err) {
    throw new ProviderUnavailable(`${url} answered something other than a JSON object (${describeFetchError(err, timeoutMs)})`);
  }
}

export function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'JWKSTimeout') return `no answer within ${timeoutMs} ms`;
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message} (${cause})` : e.message;
}
