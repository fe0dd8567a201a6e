/**
 * Graph's wire conventions (docs/api/wire-format.md): request ids, OData headers and content type, the JSON body parser
 * (empty bodies allowed, everything else must be JSON), 404/405 for unknown paths and methods, and the error handler.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods, RouteHandlerMethod } from 'fastify';
import type { Clock } from '../platform/clock/clock.ts';
import { TOO_DEEP_MESSAGE, nestedDeeperThan } from '../platform/json/depth.ts';
import './types.ts';
import { GraphError, clientRequestId, httpDate, sendGraphError, toGraphError } from './errors.ts';

export const ODATA_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

export const genReqId = () => randomUUID();

export function installWire(app: FastifyInstance, clock: Clock): void {
  app.decorate('clock', clock);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('request-id', request.id);
    reply.header('client-request-id', clientRequestId(request));
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    // The server's clock, as innerError.date [P: d-one-clock]; Node would stamp the wall clock.
    reply.header('date', httpDate(clock.now()));
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('application/json')) {
      reply.header('content-type', ODATA_JSON);
      reply.header('OData-Version', '4.0');
    }
    return payload;
  });

  // JSON only; an empty body reads as undefined so body-less actions work with or without a Content-Type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    // Before parsing: a deeply nested value would overflow the stack of whatever walks it later ($batch items).
    if (nestedDeeperThan(text)) return done(new GraphError(400, 'BadRequest', TOO_DEEP_MESSAGE), undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new GraphError(400, 'BadRequest',
        `Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format. ${(err as Error).message}`), undefined);
    }
  });

  app.setNotFoundHandler((request, reply) => {
    sendGraphError(reply, clock.now(), noResourceAt(request.method, request.url));
  });

  app.setErrorHandler((err, request, reply) => {
    const graph = toGraphError(err, request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit);
    if (graph) return sendGraphError(reply, clock.now(), graph);
    request.log.error({ err, requestId: request.id }, 'unexpected fault');
    return sendGraphError(reply, clock.now(), new GraphError(500, 'generalException',
      `An unexpected error occurred. Quote request-id ${request.id} when reporting it.`));
  });
}

/**
 * Errors the router raises before any hook runs (a malformed percent-escape in the path, say): answered as Graph
 * errors with the usual headers.
 */
export function frameworkErrorHandler(clock: Clock) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    reply.header('request-id', request.id);
    reply.header('client-request-id', clientRequestId(request));
    reply.header('content-type', ODATA_JSON);
    reply.header('OData-Version', '4.0');
    const message = err.code === 'FST_ERR_BAD_URL'
      ? 'The request URL is malformed: it has an invalid percent-encoded sequence.'
      : err.message;
    return sendGraphError(reply, clock.now(), new GraphError(err.statusCode && err.statusCode < 500 ? err.statusCode : 400, 'BadRequest', message));
  };
}

/** The 404 of a path nothing is registered at (`url` may carry a query, which is left out). */
export function noResourceAt(method: string, url: string): GraphError {
  const path = url.split('?')[0] ?? '';
  return new GraphError(404, 'ResourceNotFound',
    `Resource not found for the segment '${lastSegment(path)}'. No resource exists at ${method} ${path}.`);
}

function lastSegment(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return decodeSafe(parts[parts.length - 1] ?? '');
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s).slice(0, 100);
  } catch {
    return s.slice(0, 100);
  }
}

const ALL_METHODS: HTTPMethods[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * Registers the handlers of one path; the other common methods answer 405 with an Allow header, as a known path
 * with the wrong method should.
 */
export function resource(
  app: FastifyInstance,
  url: string,
  handlers: Partial<Record<'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', RouteHandlerMethod>>,
): void {
  const allowed = Object.keys(handlers) as HTTPMethods[];
  for (const [method, handler] of Object.entries(handlers)) {
    app.route({ method: method as HTTPMethods, url, handler: handler as RouteHandlerMethod });
  }
  const others = ALL_METHODS.filter((m) => !allowed.includes(m));
  if (others.length === 0) return;
  app.route({
    method: others,
    url,
    handler: (request: FastifyRequest, reply: FastifyReply) => {
      reply.header('allow', allowed.join(', '));
      return sendGraphError(reply, request.server.clock.now(), new GraphError(405, 'MethodNotAllowed',
        `The HTTP method '${request.method}' is not allowed on this resource; use ${allowed.join(' or ')}.`));
    },
  });
}
