/**
 * Graph's error shape and the mapping from every failure to it. Nothing answers a bare 500: an unexpected fault is
 * logged with its request-id and answered `generalException`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, AuthUnavailable } from '../auth/types.ts';
import { Conflict, InvalidInput, NotFound } from '../platform/json/errors.ts';
import { StoreUnavailable, UpnTaken } from '../store/errors.ts';

export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

export const notFound = (message: string) => new GraphError(404, 'ResourceNotFound', message);
export const badRequest = (message: string) => new GraphError(400, 'BadRequest', message);

/** Graph's answer for a path segment that names nothing (docs/api/wire-format.md#unknown-paths). */
export const segmentNotFound = (segment: string) => badRequest(`Resource not found for the segment '${segment.slice(0, 200)}'.`);

/**
 * One clock for every time an answer states [P: d-one-clock]: the server's clock — the manual one under
 * `--clock manual` — gives both `innerError.date` and the `Date` header.
 */
/** Graph writes the error date without a zone: `2026-11-28T07:05:33`. */
function errorDate(now: number): string {
  return new Date(now).toISOString().slice(0, 19);
}

/** The `Date` header for `now` (RFC 9110's IMF-fixdate). */
let dateSecond = NaN;
let dateText = '';

/** The HTTP date of `now`, formatted once per second (every answer carries one). */
export function httpDate(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

export function errorBody(request: FastifyRequest, now: number, code: string, message: string) {
  return errorJson(now, code, message, request.id, clientRequestId(request));
}

/** Graph's error body for given ids (errorBody for a request; also for errors raised before there is one). */
export function errorJson(now: number, code: string, message: string, requestId: string, clientRequestIdValue: string) {
  return {
    error: {
      code,
      message,
      innerError: {
        date: errorDate(now),
        'request-id': requestId,
        'client-request-id': clientRequestIdValue,
      },
    },
  };
}

export function clientRequestId(request: FastifyRequest): string {
  return clientRequestIdOf(request.headers['client-request-id'], request.id);
}

/** The client's `client-request-id` header when it is one (1 to 128 characters), else the request's own id. */
export function clientRequestIdOf(header: string | string[] | undefined, requestId: string): string {
  return typeof header === 'string' && header.length > 0 && header.length <= 128 ? header : requestId;
}

/** Converts anything thrown while handling a request into a GraphError. */
export function toGraphError(err: unknown, bodyLimit?: number): GraphError | null {
  if (err instanceof GraphError) return err;
  if (err instanceof InvalidInput) return new GraphError(400, err.code, err.message);
  if (err instanceof NotFound) return new GraphError(404, 'ResourceNotFound', err.message);
  if (err instanceof Conflict) return new GraphError(409, 'Conflict', err.message);
  if (err instanceof AuthError) return new GraphError(err.status, err.code, err.message);
  if (err instanceof AuthUnavailable) {
    return new GraphError(503, 'ServiceUnavailable', err.message, { 'Retry-After': String(err.retryAfterSeconds) });
  }
  if (err instanceof StoreUnavailable) {
    return new GraphError(503, 'ServiceUnavailable', `The presence store (${err.backend}) is not reachable right now; retry shortly.`, { 'Retry-After': '5' });
  }
  if (err instanceof UpnTaken) return new GraphError(409, 'Conflict', `The userPrincipalName '${err.userPrincipalName}' is already taken.`);
  const fe = err as Partial<FastifyError> & { type?: string };
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GraphError(413, 'RequestEntityTooLarge', bodyLimit ? `The request body is larger than the limit of ${bodyLimit} bytes.` : 'The request body is larger than the server accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GraphError(415, 'UnsupportedMediaType', 'The request body must be JSON: send it with Content-Type: application/json.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GraphError(400, 'BadRequest', 'The Content-Length header does not match the request body.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GraphError(400, 'BadRequest', 'The request body is empty: send a JSON object.');
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new GraphError(fe.statusCode, 'BadRequest', fe.message ?? 'Bad request.');
  }
  return null;
}

export function sendGraphError(reply: FastifyReply, now: number, err: GraphError): FastifyReply {
  for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
  return reply.code(err.status).send(errorBody(reply.request, now, err.code, err.message));
}
