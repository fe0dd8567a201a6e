/**
 * JSON batching: `POST /v1.0/$batch` and `POST /beta/$batch` (docs/api/batch.md; the request side, parsing and checking the items, is ./batchRequest.ts).
 *
 * Each item runs through the real app with `inject` (or, a GET an express lane can answer, through that lane:
 * ./front.ts, the same answer), so its rules, headers and errors are exactly those of a direct
 * call: authentication, permissions, validation, 404/405, and — when throttling is on — its own 429 with Retry-After
 * (each item counts on its own, docs/api/throttling.md). The outer request is not authenticated itself: its
 * `Authorization` is handed to every item (an item's own headers win), so a missing token gives each item its own 401,
 * as Graph answers.
 *
 * dependsOn follows Graph's supported patterns — parallel (nobody depends), sequential (each request depends on the one
 * before it) or same (every request that depends names the same single request); anything else is 400. A dependant of
 * a request that answered 400 or more is not run and answers 424 FailedDependency.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, InjectOptions, LightMyRequestResponse } from 'fastify';
import { errorBody } from './errors.ts';
import { PROTOCOL_HEADER, isJsonType, parseBatch, type BatchItem } from './batchRequest.ts';
import type { ApiVersion } from './odata.ts';
import type { Front, LaneResult } from './front.ts';
import { ODATA_JSON, resource } from './wire.ts';

export interface BatchResponseItem {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  /**
   * Instead of `body`: the body as JSON text already, put into the envelope as it is (an express lane's answer, JSON
   * made by JSON.stringify and its parts, which a parse and a stringify again would give back byte for byte).
   */
  bodyJson?: string;
}

/**
 * Response headers not copied into an item: hop-by-hop, re-computed for the envelope, or about the envelope's own
 * connection (its diagnostics and CORS headers, which the envelope carries).
 */
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'content-length', 'date', 'x-ms-ags-diagnostic', 'access-control-allow-origin', 'access-control-expose-headers',
]);

/**
 * Graph's spelling of response header names. graph-client v3's BatchResponseContent looks up `Content-Type`
 * exactly, to decide that a body is JSON.
 */
const HEADER_CASE: Record<string, string> = {
  'content-type': 'Content-Type',
  'odata-version': 'OData-Version',
  'retry-after': 'Retry-After',
  location: 'Location',
  allow: 'Allow',
  'www-authenticate': 'WWW-Authenticate',
  'cache-control': 'Cache-Control',
  etag: 'ETag',
  'preference-applied': 'Preference-Applied',
};

/**
 * Items are injected, so Fastify sees them on a mock socket: plain http. To give an item the protocol of the
 * envelope (it shows in `@odata.context`), the envelope passes a one-time token in PROTOCOL_HEADER; a hook removes the
 * header and marks the socket. The token is random and used once, so no client can claim https with it.
 */
const pendingProtocols = new Map<string, string>();
const hooked = new WeakSet<FastifyInstance>();

/** `front`: a GET item a lane can answer is answered there, as the same request through the front would be. */
export function batchRoutes(app: FastifyInstance, version: ApiVersion, front: Front | null = null): void {
  if (!hooked.has(app)) {
    hooked.add(app);
    // A callback hook: it runs on every request, and an async hook costs a promise each time.
    app.addHook('onRequest', (request, _reply, done) => {
      const token = request.headers[PROTOCOL_HEADER];
      if (token !== undefined) {
        delete request.headers[PROTOCOL_HEADER];
        if (typeof token === 'string' && pendingProtocols.get(token) === 'https') {
          (request.raw.socket as unknown as { encrypted?: boolean }).encrypted = true;
        }
      }
      done();
    });
  }

  resource(app, `/${version}/$batch`, {
    POST: async (request: FastifyRequest, reply: FastifyReply) => {
      const items = parseBatch(request.body, version);
      const responses = await runBatch(items, (item) => laneItem(front, app, request, item) ?? injectItem(app, request, item), (item, failed) => ({
        id: item.id,
        status: 424,
        headers: { 'Content-Type': ODATA_JSON },
        body: errorBody(request, app.clock.now(), 'FailedDependency',
          `The request '${item.id}' was not run: it depends on request '${failed.id}', which failed with status ${failed.status}.`),
      }));
      // Written here rather than by Fastify's JSON.stringify: lane answers go in as the text they are (envelope).
      return reply.code(200).type('application/json').send(envelope(responses));
    },
  });
}

/**
 * `{"responses":[…]}`, the text JSON.stringify would make of it, with each `bodyJson` as the item's `body`. Its keys in
 * the order an item is built in: id, status, headers, body.
 */
export function envelope(responses: readonly BatchResponseItem[]): string {
  let text = '{"responses":[';
  for (let i = 0; i < responses.length; i++) {
    const r = responses[i]!;
    if (i > 0) text += ',';
    text += r.bodyJson === undefined
      ? JSON.stringify(r)
      : `{"id":${JSON.stringify(r.id)},"status":${r.status},"headers":${JSON.stringify(r.headers)},"body":${r.bodyJson}}`;
  }
  return `${text}]}`;
}

/**
 * Runs the items, each as soon as the request it depends on has answered, and answers in request order. `failed`
 * builds the answer of an item whose dependency failed (status 400 or more).
 */
export async function runBatch(
  items: BatchItem[],
  run: (item: BatchItem) => Promise<BatchResponseItem>,
  failed: (item: BatchItem, dependency: BatchResponseItem) => BatchResponseItem,
): Promise<BatchResponseItem[]> {
  const results: Array<Promise<BatchResponseItem> | undefined> = new Array(items.length);
  // The patterns have no cycles: a request's dependency never depends on anything that depends on it.
  const start = (i: number): Promise<BatchResponseItem> => {
    const existing = results[i];
    if (existing) return existing;
    const item = items[i]!;
    const result = item.dependsOn === null
      ? run(item)
      : start(item.dependsOn).then((dep) => (dep.status >= 400 ? failed(item, dep) : run(item)));
    results[i] = result;
    return result;
  };
  return Promise.all(items.map((_, i) => start(i)));
}

async function injectItem(app: FastifyInstance, outer: FastifyRequest, item: BatchItem): Promise<BatchResponseItem> {
  if (item.error) {
    return {
      id: item.id,
      status: item.error.status,
      headers: { 'Content-Type': ODATA_JSON },
      body: errorBody(outer, app.clock.now(), item.error.code, item.error.message),
    };
  }
  const token = randomUUID();
  pendingProtocols.set(token, outer.protocol ?? 'http');
  const headers = itemHeaders(outer, item);
  headers[PROTOCOL_HEADER] = token;
  const opts: InjectOptions = { method: item.method, url: item.path, headers, remoteAddress: outer.ip };
  if (item.payload !== undefined) opts.payload = item.payload;
  let res: LightMyRequestResponse;
  try {
    res = await app.inject(opts);
  } catch (err) {
    outer.log.error({ err, requestId: outer.id, batchItem: item.id }, 'batch item failed to run');
    return {
      id: item.id,
      status: 500,
      headers: { 'Content-Type': ODATA_JSON },
      body: errorBody(outer, app.clock.now(), 'generalException',
        `An unexpected error occurred. Quote request-id ${outer.id} when reporting it.`),
    };
  } finally {
    pendingProtocols.delete(token);
  }
  return toResponseItem(item.id, res.statusCode, res.headers, res.body, { raw: res.rawPayload });
}

/** The headers an item is run with: the envelope's token and client-request-id, the item's own, the envelope's host. */
function itemHeaders(outer: FastifyRequest, item: BatchItem): Record<string, string> {
  const headers: Record<string, string> = {};
  const forwarded = ['authorization', 'client-request-id'] as const;
  for (const name of forwarded) {
    const value = outer.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  Object.assign(headers, item.headers);
  // The envelope's host (`:authority` under HTTP/2, which has no Host header).
  if (outer.host) headers.host = outer.host;
  return headers;
}

/**
 * A GET item answered by an express lane (./front.ts), as the same request injected would be answered; null when no
 * lane takes it at once. An item a lane declines after waiting (or whose wait fails) is injected after all: the route
 * answers it, errors included. The item's protocol is the envelope's, as injectItem gives it.
 */
function laneItem(front: Front | null, app: FastifyInstance, outer: FastifyRequest, item: BatchItem): Promise<BatchResponseItem> | null {
  if (front === null || item.error || item.method !== 'GET' || item.payload !== undefined) return null;
  const answer = front.answerInProcess({
    url: item.path, headers: itemHeaders(outer, item), socket: { encrypted: outer.protocol === 'https' },
  });
  if (answer === null) return null;
  const respond = (a: LaneResult | null) =>
    (a === null ? injectItem(app, outer, item) : toResponseItem(item.id, 200, a.headers, a.body, { madeJson: true }));
  return answer instanceof Promise ? answer.then(respond, () => injectItem(app, outer, item)) : Promise.resolve(respond(answer));
}

/**
 * `text`: the body as text. `raw`: its bytes when they may not be UTF-8 (a non-JSON body goes base64). `madeJson`: a
 * JSON body is JSON this server made (an express lane's), kept as text instead of parsed (`bodyJson`).
 */
function toResponseItem(
  id: string, status: number, responseHeaders: Record<string, string | string[] | number | undefined>, text: string,
  { raw, madeJson = false }: { raw?: Buffer; madeJson?: boolean } = {},
): BatchResponseItem {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(responseHeaders)) {
    if (value === undefined || DROPPED_RESPONSE_HEADERS.has(name)) continue;
    headers[HEADER_CASE[name] ?? name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  const out: BatchResponseItem = { id, status, headers };
  if ((raw?.length ?? text.length) === 0) return out;
  const type = (headers['Content-Type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (isJsonType(type)) {
    if (madeJson) {
      out.bodyJson = text;
      return out;
    }
    try {
      out.body = JSON.parse(text);
      return out;
    } catch {
      // not JSON after all: fall through to base64
    }
  }
  // Graph carries a non-JSON body base64-encoded.
  out.body = (raw ?? Buffer.from(text)).toString('base64');
  return out;
}

