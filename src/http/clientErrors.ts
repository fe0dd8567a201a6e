/**
 * Errors Node's HTTP parser raises before Fastify sees a request — an unknown method, raw non-ASCII bytes in the
 * path, `Transfer-Encoding` together with `Content-Length`, oversized headers, a request that took too long — answered
 * in Graph's error shape with the usual headers, and the connection closed (the stream can no longer be trusted).
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../platform/clock/clock.ts';
import { errorJson, httpDate } from './errors.ts';
import { CACHE_CONTROL, DEFAULT_GRAPH_HEADERS, type GraphHeaders } from './graphHeaders.ts';
import { ODATA_JSON } from './wire.ts';

type ParserError = Error & { code?: string };

/** Status, Graph code and message for a parser error code. */
function describe(err: ParserError): [number, string, string] {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'RequestHeaderFieldsTooLarge', 'The request headers are larger than the server accepts.'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'RequestTimeout', 'The request did not arrive in time; the connection is closed.'];
    case 'HPE_INVALID_METHOD':
      return [400, 'BadRequest', 'The request method is not a valid HTTP method.'];
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
      return /Transfer-Encoding/i.test(err.message)
        ? [400, 'BadRequest', 'The request has both Transfer-Encoding and Content-Length headers; send one of them.']
        : [400, 'BadRequest', 'The Content-Length header is not valid.'];
    case 'HPE_INVALID_URL':
      return [400, 'BadRequest', 'The request URL is malformed: characters outside ASCII must be percent-encoded.'];
    default:
      return [400, 'BadRequest', 'The request is not valid HTTP/1.1 and could not be read.'];
  }
}

/** Answers written per turn of the event loop (see clientErrorHandler). */
const ANSWERS_PER_TURN = 64;

/**
 * Fastify's `clientErrorHandler`: writes the Graph error and closes the connection. The answers are written at most
 * ANSWERS_PER_TURN per turn of the event loop: the timeout sweep can expire thousands of slow connections at once (a
 * slowloris attack), and answering them all in one turn kept every other request waiting for it.
 */
export function clientErrorHandler(clock: Clock, headers: GraphHeaders = DEFAULT_GRAPH_HEADERS) {
  const pending: Array<[ParserError, Socket]> = [];
  const drain = (): void => {
    for (const [err, socket] of pending.splice(0, ANSWERS_PER_TURN)) answer(clock, headers, err, socket);
    if (pending.length > 0) setImmediate(drain);
  };
  return (err: ParserError, socket: Socket): void => {
    if (pending.push([err, socket]) === 1) setImmediate(drain);
  };
}

function answer(clock: Clock, headers: GraphHeaders, err: ParserError, socket: Socket): void {
  // The peer is gone: nothing to answer.
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code, message] = describe(err);
  const id = randomUUID();
  const body = JSON.stringify(errorJson(clock.now(), code, message, id, id));
  socket.end([
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}`,
    `request-id: ${id}`,
    `client-request-id: ${id}`,
    `content-type: ${ODATA_JSON}`,
    'OData-Version: 4.0',
    `date: ${httpDate(clock.now())}`,
    `cache-control: ${CACHE_CONTROL}`,
    `x-ms-ags-diagnostic: ${headers.diagnostic}`,
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    '',
    body,
  ].join('\r\n'), () => socket.destroy());
}
