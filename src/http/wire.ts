/**
 * Graph's wire conventions (docs/api/wire-format.md): request ids, the headers of every answer (Cache-Control,
 * x-ms-ags-diagnostic, CORS on Graph's trees, the 401 challenge), OData headers and content type, the JSON body parser
 * (empty bodies allowed, everything else must be JSON), unknown paths and methods, and the error handler.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods, RouteHandlerMethod } from 'fastify';
import type { Clock } from '../platform/clock/clock.ts';
import { TOO_DEEP_MESSAGE, nestedDeeperThan } from '../platform/json/depth.ts';
import './types.ts';
import { CORS_HEADERS, answerPreflight, isPreflight, setCorsHeaders } from './cors.ts';
import { GraphError, clientRequestIdOf, httpDate, segmentNotFound, sendGraphError, toGraphError } from './errors.ts';
import { CACHE_CONTROL, DEFAULT_GRAPH_HEADERS, bearerChallenge, type GraphHeaders } from './graphHeaders.ts';
import { GRAPH_TREE, RouteTree } from './routeTree.ts';

export const ODATA_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

export const ODATA_VERSION = '4.0';

export const genReqId = () => randomUUID();

/** The headers every answer begins with, in this order (the onRequest hook below; an express lane, ./front.ts). */
export function answerHeaders(requestId: string, clientRequestIdHeader: string | string[] | undefined, headers: GraphHeaders): Record<string, string> {
  return {
    'request-id': requestId,
    'client-request-id': clientRequestIdOf(clientRequestIdHeader, requestId),
    'cache-control': CACHE_CONTROL,
    'x-ms-ags-diagnostic': headers.diagnostic,
  };
}

/**
 * Every header of a JSON answer under Graph's trees, as one object in the order the hooks below give an answer through
 * the framework: the onRequest hook's, CORS, the route's content type (made OData's in its place by the onSend hook),
 * the onSend hook's date and OData-Version, then the length. An express lane's answer (./front.ts): one object, made in
 * one go, is what keeps a lane cheap; test/api/express-lanes.test.ts compares the two answers header by header.
 */
export function graphJsonHeaders(requestId: string, clientRequestIdHeader: string | string[] | undefined, headers: GraphHeaders, now: number, contentLength: number) {
  const all = graphTreeHeaders(requestId, clientRequestIdHeader, headers);
  all['content-type'] = ODATA_JSON;
  all.date = httpDate(now);
  all['odata-version'] = ODATA_VERSION;
  all['content-length'] = String(contentLength);
  return all;
}

/** The headers every answer under Graph's trees begins with: the onRequest hook's, then CORS. */
function graphTreeHeaders(requestId: string, clientRequestIdHeader: string | string[] | undefined, headers: GraphHeaders): Record<string, string> {
  const all = answerHeaders(requestId, clientRequestIdHeader, headers);
  all['access-control-allow-origin'] = CORS_HEADERS['access-control-allow-origin'];
  all['access-control-expose-headers'] = CORS_HEADERS['access-control-expose-headers'];
  return all;
}

/**
 * Every header of an answer with no body under Graph's trees (a write's 200), in the order the framework gives them:
 * the onRequest hook's, CORS, the onSend hook's date, then the length (a write express lane, ./front.ts).
 */
export function graphEmptyHeaders(requestId: string, clientRequestIdHeader: string | string[] | undefined, headers: GraphHeaders, now: number) {
  const all = graphTreeHeaders(requestId, clientRequestIdHeader, headers);
  all.date = httpDate(now);
  all['content-length'] = '0';
  return all;
}

/**
 * Installs the conventions on `app`; call it before any route is registered (the routes under /v1.0 and /beta are
 * collected as they are added, to answer unknown paths).
 */
export function installWire(app: FastifyInstance, clock: Clock, headers: GraphHeaders = DEFAULT_GRAPH_HEADERS): void {
  app.decorate('clock', clock);
  const tree = new RouteTree();
  app.addHook('onRoute', (route) => {
    if (GRAPH_TREE.test(route.url)) tree.add(route.url, [route.method].flat());
  });
  // A callback hook: it runs on every request, and an async hook costs a promise each time.
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(answerHeaders(request.id, request.headers['client-request-id'], headers));
    if (GRAPH_TREE.test(request.url)) {
      setCorsHeaders(reply);
      // Answered here, before routing matters and before authentication or throttling see it.
      if (isPreflight(request)) return answerPreflight(request, reply);
    }
    done();
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    // The server's clock, as innerError.date [P: d-one-clock]; Node would stamp the wall clock.
    reply.header('date', httpDate(clock.now()));
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('application/json')) {
      reply.header('content-type', ODATA_JSON);
      reply.header('OData-Version', ODATA_VERSION);
    }
    if (reply.statusCode === 401) reply.header('www-authenticate', bearerChallenge(headers.authorizationUri(request)));
    done(null, payload);
  });

  // JSON only; an empty body reads as undefined so body-less actions work with or without a Content-Type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // A route registered with `jsonText` (resource) gets the text and parses it itself, with parseJsonBody.
    if ((request.routeOptions.config as RouteJsonConfig | undefined)?.jsonText === true) return done(null, body);
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as GraphError, undefined);
    }
  });

  app.setNotFoundHandler((request, reply) => {
    sendGraphError(reply, clock.now(), unresolvedPath(tree, request.method, request.url));
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
 * A JSON request body's text as the routes get it: blank is undefined (a body-less action), anything nested too deeply
 * or not JSON is a 400 naming the problem. The framework's parser (installWire) and the write express lane
 * (src/presence/writeLane.ts) both read bodies with it.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  // Before parsing: a deeply nested value would overflow the stack of whatever walks it later ($batch items).
  if (nestedDeeperThan(text)) throw new GraphError(400, 'BadRequest', TOO_DEEP_MESSAGE);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new GraphError(400, 'BadRequest',
      `Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format. ${(err as Error).message}`);
  }
}

/**
 * Errors the router raises before any hook runs (a malformed percent-escape in the path, say): answered as Graph
 * errors with the usual headers.
 */
export function frameworkErrorHandler(clock: Clock, headers: GraphHeaders = DEFAULT_GRAPH_HEADERS) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    reply.headers(answerHeaders(request.id, request.headers['client-request-id'], headers));
    if (GRAPH_TREE.test(request.url)) setCorsHeaders(reply);
    reply.header('content-type', ODATA_JSON);
    reply.header('OData-Version', ODATA_VERSION);
    const message = err.code === 'FST_ERR_BAD_URL'
      ? 'The request URL is malformed: it has an invalid percent-encoded sequence.'
      : err.message;
    return sendGraphError(reply, clock.now(), new GraphError(err.statusCode && err.statusCode < 500 ? err.statusCode : 400, 'BadRequest', message));
  };
}

/**
 * The answer for a method and URL no route serves. Under Graph's trees: an unknown segment is Graph's 400 naming it;
 * a served path with another method is 405 with Allow [P: d-method-not-allowed]; a path Graph serves but Presently
 * only serves below is 404 [P: d-unserved-graph-path]. Elsewhere (Presently's own paths): 404.
 */
export function unresolvedPath(tree: RouteTree, method: string, url: string): GraphError {
  const path = url.split('?')[0] ?? '';
  if (!GRAPH_TREE.test(path)) return noResourceAt(method, url);
  const found = tree.match(path);
  if (found.kind === 'unknown') return segmentNotFound(found.segment);
  if (found.kind === 'resource') return methodNotAllowed(method, found.methods);
  const below = found.next.length > 0 ? ` Below it, Presently serves: ${found.next.join(', ')}.` : '';
  return new GraphError(404, 'ResourceNotFound', `Presently does not serve ${method} ${path.slice(0, 200)}.${below}`);
}

function methodNotAllowed(method: string, allowed: readonly string[]): GraphError {
  return new GraphError(405, 'MethodNotAllowed',
    `The HTTP method '${method.slice(0, 20)}' is not allowed on this resource; use ${allowed.join(' or ')}.`,
    { allow: allowed.join(', ') });
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

export interface ResourceOptions {
  /** Answers OPTIONS instead of the plain 204 with Allow (a path with CORS rules of its own, such as the dev authority's). */
  options?: RouteHandlerMethod;
  /**
   * For a path with a parameter that names a segment (an action): the segment when it names nothing, answered with
   * Graph's 400 whatever the method; null when it is known.
   */
  unknownSegment?: (request: FastifyRequest) => string | null;
  /**
   * The handlers get a JSON body as its text (a string, or undefined with no body), not parsed, and parse it themselves
   * with parseJsonBody, which answers bad JSON as the parser would: for a handler that knows a body it has seen
   * before (getPresencesByUserId's polled lists, src/presence/readMany.ts) before parsing it.
   */
  jsonText?: boolean;
}

/** The route config that asks the JSON parser for the text (ResourceOptions.jsonText). */
interface RouteJsonConfig {
  jsonText?: boolean;
}

/**
 * Registers the handlers of one path; the other common methods answer 405 with an Allow header, as a known path
 * with the wrong method should, and a plain OPTIONS (not a preflight) answers 204 with Allow.
 */
export function resource(
  app: FastifyInstance,
  url: string,
  handlers: Partial<Record<'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', RouteHandlerMethod>>,
  options: ResourceOptions = {},
): void {
  const allowed = Object.keys(handlers) as HTTPMethods[];
  for (const [method, handler] of Object.entries(handlers)) {
    const config: RouteJsonConfig = options.jsonText ? { jsonText: true } : {};
    app.route({ method: method as HTTPMethods, url, handler: handler as RouteHandlerMethod, config });
  }
  const unknown = options.unknownSegment;
  const others = ALL_METHODS.filter((m) => !allowed.includes(m));
  if (others.length > 0) {
    app.route({
      method: others,
      url,
      handler: (request: FastifyRequest, reply: FastifyReply) => {
        const segment = unknown?.(request);
        return sendGraphError(reply, request.server.clock.now(),
          segment ? segmentNotFound(segment) : methodNotAllowed(request.method, allowed));
      },
    });
  }
  app.route({
    method: 'OPTIONS',
    url,
    handler: options.options ?? ((request: FastifyRequest, reply: FastifyReply) => {
      const segment = unknown?.(request);
      if (segment) return sendGraphError(reply, request.server.clock.now(), segmentNotFound(segment));
      return reply.header('allow', allowed.join(', ')).code(204).send();
    }),
  });
}
