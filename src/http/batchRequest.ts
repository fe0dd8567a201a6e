/**
 * The request side of JSON batching (docs/api/batch.md): a batch body read and checked into items — at most
 * MAX_BATCH_REQUESTS, each with an id, a method, a URL under this version, headers an item may set, a JSON body, and
 * a dependsOn in one of Graph's supported patterns. Every problem is a 400 naming the property. ./batch.ts runs them.
 */
import { canonicalKeys, type JsonObject } from '../platform/json/validate.ts';
import { GraphError, badRequest, segmentNotFound } from './errors.ts';
import type { ApiVersion } from './odata.ts';

/** Graph's limit of requests in one batch. */
export const MAX_BATCH_REQUESTS = 20;

const METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const;
type Method = (typeof METHODS)[number];
const ITEM_PROPERTIES = ['id', 'method', 'url', 'headers', 'body', 'dependsOn'];

export interface BatchItem {
  id: string;
  method: Method;
  /** The path and query to inject, version prefix included: `/v1.0/users/{id}/presence?$select=…`. */
  path: string;
  /** Item headers, names lower-cased. */
  headers: Record<string, string>;
  /** The payload to send, already encoded; undefined when the item has no body. */
  payload: string | Buffer | undefined;
  /** Index (into the batch) of the request this one depends on, or null. */
  dependsOn: number | null;
  /** An answer known without running the item (a URL that repeats the version), or undefined. */
  error?: GraphError;
}

/** Request headers an item may not set: they describe the connection or the envelope, not the item. */
const DROPPED_REQUEST_HEADERS = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect',
  'proxy-authorization', 'proxy-connection',
]);

/** The header that carries an item's protocol from the envelope to its injected request (./batch.ts); an item may not set it. */
export const PROTOCOL_HEADER = 'x-presently-batch-item';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function show(value: string): string {
  return value.length > 64 ? `${value.slice(0, 64)}…` : value;
}

/** Validates a batch body; every problem is a 400 naming the property. */
export function parseBatch(body: unknown, version: ApiVersion): BatchItem[] {
  if (body === undefined) throw badRequest("The request body is empty: a JSON batch is an object with a 'requests' array.");
  if (!isObject(body)) throw badRequest(`The request body must be a JSON object with a 'requests' array, not ${typeName(body)}.`);
  // Property names are case-insensitive, as in every Graph request body.
  const envelope = canonicalKeys(body as JsonObject, '', ['requests'],
    (key) => badRequest(`The property '${show(key)}' does not exist on a JSON batch request; the only property is 'requests'.`));
  const raw = envelope.requests;
  if (raw === undefined || raw === null) throw badRequest("Property 'requests' is required: the requests of the batch, as an array.");
  if (!Array.isArray(raw)) throw badRequest(`Property 'requests' must be an array, not ${typeName(raw)}.`);
  if (raw.length === 0) throw badRequest("Property 'requests' must contain at least one request.");
  if (raw.length > MAX_BATCH_REQUESTS) {
    throw badRequest(`The batch has ${raw.length} requests; the limit is ${MAX_BATCH_REQUESTS} requests in one batch.`);
  }

  const byId = new Map<string, number>();
  const parsed = raw.map((value, i) => {
    const item = parseItem(value, i, version);
    const key = item.id.toLowerCase();
    const first = byId.get(key);
    if (first !== undefined) {
      throw badRequest(`Property 'requests[${i}].id': the id '${show(item.id)}' is already used by requests[${first}]; ids must be unique (compared case-insensitively).`);
    }
    byId.set(key, i);
    return item;
  });

  const dependsOn = parsed.map((item, i) => {
    if (item.dependsOn.length === 0) return null;
    return item.dependsOn.map((dep, j) => {
      const index = byId.get(dep.toLowerCase());
      if (index === undefined) throw badRequest(`Property 'requests[${i}].dependsOn[${j}]' names the request '${show(dep)}', which is not in the batch.`);
      if (index === i) throw badRequest(`Property 'requests[${i}].dependsOn[${j}]': a request cannot depend on itself.`);
      return index;
    });
  });
  const single = checkPattern(dependsOn);
  return parsed.map((item, i) => ({ ...item, dependsOn: single[i] ?? null }));
}

/**
 * Graph's supported dependsOn patterns. Returns, for each request, the index of the one request it depends on (or
 * null); anything else is a 400.
 */
function checkPattern(dependsOn: Array<number[] | null>): Array<number | null> {
  const flat = dependsOn.map((d) => (d && d.length === 1 ? d[0]! : d === null ? null : -1));
  const parallel = flat.every((d) => d === null);
  const sequential = flat.every((d, i) => (i === 0 ? d === null : d === i - 1));
  const targets = new Set(flat.filter((d): d is number => d !== null));
  const same = !flat.includes(-1) && targets.size === 1 && flat[[...targets][0]!] === null;
  if (parallel || sequential || same) return flat;
  throw badRequest(
    'The dependsOn properties of the batch must follow one of the supported patterns: parallel (no request has ' +
    'dependsOn), sequential (every request depends on the one before it) or same (every request that has dependsOn ' +
    'depends on the same single request, which has none).',
  );
}

interface ParsedItem extends Omit<BatchItem, 'dependsOn'> {
  dependsOn: string[];
}

function parseItem(sent: unknown, i: number, version: ApiVersion): ParsedItem {
  const at = `requests[${i}]`;
  if (!isObject(sent)) throw badRequest(`Property '${at}' must be an object, not ${typeName(sent)}.`);
  const value: Record<string, unknown> = canonicalKeys(sent as JsonObject, at, ITEM_PROPERTIES, (key) =>
    badRequest(`The property '${at}.${show(key)}' does not exist on a batch request; allowed are ${ITEM_PROPERTIES.join(', ')}.`));

  const id = value.id;
  if (id === undefined || id === null) throw badRequest(`Property '${at}.id' is required.`);
  if (typeof id !== 'string') throw badRequest(`Property '${at}.id' must be a string, not ${typeName(id)}.`);
  if (id.trim() === '') throw badRequest(`Property '${at}.id' must not be empty.`);

  const rawMethod = value.method;
  if (rawMethod === undefined || rawMethod === null) throw badRequest(`Property '${at}.method' is required.`);
  if (typeof rawMethod !== 'string') throw badRequest(`Property '${at}.method' must be a string, not ${typeName(rawMethod)}.`);
  const method = METHODS.find((m) => m === rawMethod.toUpperCase());
  if (!method) throw badRequest(`Property '${at}.method' has an unsupported value '${show(rawMethod)}'. Allowed values: ${METHODS.join(', ')}.`);

  const path = parseUrl(value.url, `${at}.url`, version);
  // Graph reads `/v1.0/users/…` in a batch as the segment 'v1.0' of the batch's version: 400 for that item.
  const versioned = /^\/?(v1\.0|beta)(?=[/?]|$)/i.exec(value.url as string);
  const error = versioned ? segmentNotFound(versioned[1]!) : undefined;
  const headers = parseHeaders(value.headers, `${at}.headers`);

  let payload: string | Buffer | undefined;
  if (value.body !== undefined && value.body !== null) {
    const type = headers['content-type'];
    if (type === undefined) {
      throw badRequest(`Property '${at}.headers' must have a Content-Type header: request '${show(id)}' has a body.`);
    }
    const mime = type.split(';')[0]!.trim().toLowerCase();
    // A JSON body is sent as it is; any other body is, as in Graph, a base64 string.
    payload = !isJsonType(mime) && typeof value.body === 'string'
      ? Buffer.from(value.body, 'base64')
      : JSON.stringify(value.body);
  }

  const deps = value.dependsOn;
  const dependsOn: string[] = [];
  if (deps !== undefined && deps !== null) {
    if (!Array.isArray(deps)) throw badRequest(`Property '${at}.dependsOn' must be an array of request ids, not ${typeName(deps)}.`);
    deps.forEach((d, j) => {
      if (typeof d !== 'string') throw badRequest(`Property '${at}.dependsOn[${j}]' must be a request id (a string), not ${typeName(d)}.`);
      dependsOn.push(d);
    });
  }

  return { id, method, path, headers, payload, dependsOn, ...(error ? { error } : {}) };
}

/**
 * An item's URL is relative to the version of the batch: `/users/{id}/presence` or `users/{id}/presence`. An absolute
 * URL, a path that leaves the version (`..`), or a nested `$batch` is a 400 for the whole batch. (A URL that repeats
 * the version, `/v1.0/users/…`, is not refused here: as in Graph, that item answers 400 for the segment 'v1.0'.)
 */
function parseUrl(value: unknown, at: string, version: ApiVersion): string {
  if (value === undefined || value === null) throw badRequest(`Property '${at}' is required.`);
  if (typeof value !== 'string') throw badRequest(`Property '${at}' must be a string, not ${typeName(value)}.`);
  if (value.trim() === '') throw badRequest(`Property '${at}' must not be empty.`);
  if (/^[a-z][a-z0-9+.-]*:/i.test(value) || value.startsWith('//') || value.includes('\\')) {
    throw badRequest(`Property '${at}' must be a URL relative to /${version}, such as '/users/{id}/presence', not '${show(value)}'.`);
  }
  const prefix = `/${version}`;
  let url: URL;
  try {
    url = new URL(`${prefix}${value.startsWith('/') ? '' : '/'}${value}`, 'http://batch.invalid');
  } catch {
    throw badRequest(`Property '${at}' is not a valid URL: '${show(value)}'.`);
  }
  const pathname = url.pathname;
  if (!pathname.toLowerCase().startsWith(`${prefix.toLowerCase()}/`) || /(^|\/)(\.|%2e){1,2}(\/|$)/i.test(value.split('?')[0]!)) {
    throw badRequest(`Property '${at}' must stay within /${version}: '${show(value)}' has '.' or '..' segments.`);
  }
  let decoded = pathname;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    // the app answers an undecodable path itself
  }
  if (decoded.toLowerCase().replace(/\/+$/, '') === `${prefix.toLowerCase()}/$batch`) {
    throw badRequest(`Property '${at}': a batch cannot contain another $batch request.`);
  }
  return pathname + url.search;
}

function parseHeaders(value: unknown, at: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (value === undefined || value === null) return headers;
  if (!isObject(value)) throw badRequest(`Property '${at}' must be an object of header names and values, not ${typeName(value)}.`);
  for (const [name, v] of Object.entries(value)) {
    if (!TOKEN.test(name)) throw badRequest(`Property '${at}' has an invalid header name '${show(name)}'.`);
    if (typeof v !== 'string') throw badRequest(`Property '${at}.${show(name)}' must be a string, not ${typeName(v)}.`);
    if (BAD_HEADER_VALUE.test(v)) throw badRequest(`Property '${at}.${show(name)}' has characters a header value cannot have.`);
    const lower = name.toLowerCase();
    if (lower === PROTOCOL_HEADER || DROPPED_REQUEST_HEADERS.has(lower)) continue;
    headers[lower] = v;
  }
  return headers;
}

export function isJsonType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}
