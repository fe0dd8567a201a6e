/**
 * CORS on Graph's trees (docs/api/cors.md): every answer under /v1.0 and /beta carries
 * `Access-Control-Allow-Origin: *` and Graph's list of exposed headers, errors included; a preflight is answered
 * `204` before routing, authentication or throttling [P: d-cors-preflight]. No credentials: Graph authenticates with
 * the `Authorization` header, never with cookies, and a wildcard origin rules credentialed requests out.
 * Presently's own paths (/_presently/…) get no CORS headers.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The response headers Graph lets a page read, as Graph lists them. */
export const EXPOSED_HEADERS = [
  'ETag', 'Location', 'Preference-Applied', 'Content-Range', 'request-id', 'client-request-id',
  'ReadWriteConsistencyToken', 'Retry-After', 'SdkVersion', 'WWW-Authenticate', 'x-ms-client-gcc-tenant',
  'X-Planner-Operationid', 'x-ms-permissions-recommendations',
].join(', ');

/** The methods Graph's API uses; a preflight for any of them is allowed (the real request then answers 405 if need be). */
export const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';

/** How long a browser may reuse a preflight's answer, seconds [P: d-cors-preflight]. */
export const PREFLIGHT_MAX_AGE = '3600';

/** A comma-separated list of header names (what `Access-Control-Request-Headers` holds). */
const HEADER_LIST = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:\s*,\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/;

/** The CORS headers of every Graph-tree answer. */
export const CORS_HEADERS = Object.freeze({
  'access-control-allow-origin': '*',
  'access-control-expose-headers': EXPOSED_HEADERS,
});

/** Sets the CORS headers of a Graph-tree answer. */
export function setCorsHeaders(reply: FastifyReply): void {
  reply.headers(CORS_HEADERS);
}

export function isPreflight(request: FastifyRequest): boolean {
  return request.method === 'OPTIONS' && request.headers.origin !== undefined
    && request.headers['access-control-request-method'] !== undefined;
}

/**
 * Answers a preflight: every method of the API, and the request headers asked for — Graph takes many request headers
 * (Authorization, Content-Type, client-request-id, SdkVersion, Prefer, ConsistencyLevel, If-Match, …) and its
 * clients add their own, so any well-formed list is allowed.
 */
export function answerPreflight(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('access-control-allow-methods', ALLOWED_METHODS);
  const asked = request.headers['access-control-request-headers'];
  if (typeof asked === 'string' && asked.length <= 2000 && HEADER_LIST.test(asked.trim())) {
    reply.header('access-control-allow-headers', asked.trim());
  }
  reply.header('access-control-max-age', PREFLIGHT_MAX_AGE);
  reply.header('vary', 'Access-Control-Request-Headers');
  reply.code(204).send();
}
