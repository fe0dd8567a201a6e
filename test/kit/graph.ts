/**
 * Shared helpers for the API tests: requests as a Graph client sends them, and the wire checks every response must
 * pass (docs/api/wire-format.md).
 */
import assert from 'node:assert/strict';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { TestServer } from './server.ts';
import type { GraphPresence } from '../../src/domain/projection.ts';

export const ODATA_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
export const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const VERSIONS = ['v1.0', 'beta'] as const;
export type Version = (typeof VERSIONS)[number];

/** The personal Microsoft account tenant (docs/api/permissions.md). */
export const MSA_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export interface GraphErrorBody {
  error: {
    code: string;
    message: string;
    innerError: { date: string; 'request-id': string; 'client-request-id': string };
  };
}

/** Presence JSON as Graph answers it: the domain's projection, with the context a response adds. */
export type PresenceJson = GraphPresence & { '@odata.context'?: string };

/** Headers every response carries: request-id, client-request-id, Date, Cache-Control, x-ms-ags-diagnostic. */
export function assertBaseHeaders(res: LightMyRequestResponse, sentClientRequestId?: string): void {
  assert.equal(res.headers['cache-control'], 'no-cache', 'Cache-Control');
  const diagnostic = JSON.parse(String(res.headers['x-ms-ags-diagnostic'])) as { ServerInfo?: Record<string, unknown> };
  assert.deepEqual(Object.keys(diagnostic.ServerInfo ?? {}), ['DataCenter', 'Slice', 'Ring', 'ScaleUnit', 'RoleInstance'], 'x-ms-ags-diagnostic');
  const requestId = res.headers['request-id'];
  assert.equal(typeof requestId, 'string', 'request-id header');
  assert.match(requestId as string, GUID_RE, 'request-id is a GUID');
  assert.equal(res.headers['client-request-id'], sentClientRequestId ?? requestId, 'client-request-id');
  const date = res.headers.date;
  assert.equal(typeof date, 'string', 'Date header');
  assert.ok(!Number.isNaN(Date.parse(date as string)), `Date header parses: ${String(date)}`);
}

/** A JSON response: base headers plus Graph's exact content type and OData-Version. */
export function assertJsonHeaders(res: LightMyRequestResponse, sentClientRequestId?: string): void {
  assertBaseHeaders(res, sentClientRequestId);
  assert.equal(res.headers['content-type'], ODATA_JSON);
  assert.equal(res.headers['odata-version'], '4.0');
}

/**
 * A Graph error: status, code, the exact body shape, and the wire headers. `message` is matched (string: exact,
 * RegExp: match). Returns the body.
 */
export function assertGraphError(
  res: LightMyRequestResponse,
  status: number,
  code: string,
  message?: string | RegExp,
  sentClientRequestId?: string,
): GraphErrorBody {
  assert.equal(res.statusCode, status, `status ${res.statusCode} (expected ${status}): ${res.body}`);
  assertJsonHeaders(res, sentClientRequestId);
  const body = res.json() as GraphErrorBody;
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'innerError', 'message']);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0, 'error message is not empty');
  if (typeof message === 'string') assert.equal(body.error.message, message);
  else if (message) assert.match(body.error.message, message);
  const inner = body.error.innerError;
  assert.deepEqual(Object.keys(inner).sort(), ['client-request-id', 'date', 'request-id']);
  assert.equal(inner.date.length, 19, `innerError.date has no zone: ${inner.date}`);
  assert.match(inner.date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  assert.equal(inner['request-id'], res.headers['request-id']);
  assert.equal(inner['client-request-id'], res.headers['client-request-id']);
  // One clock [P: d-one-clock]: the Date header states the same time (a second apart at most, across a tick).
  const header = Date.parse(String(res.headers.date));
  assert.ok(Math.abs(header - Date.parse(`${inner.date}Z`)) <= 1000, `Date ${String(res.headers.date)} vs innerError.date ${inner.date}`);
  return body;
}

/** A 400 whose message names `property` (quoted, as the server writes it). */
export function assertBadProperty(res: LightMyRequestResponse, property: string): GraphErrorBody {
  return assertGraphError(res, 400, 'BadRequest', new RegExp(`'${escapeRe(property)}'`));
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The three addresses of a user's presence (relative to `/{version}`). */
export function addresses(userId: string): { users: string; communications: string; me: string } {
  return { users: `/users/${userId}/presence`, communications: `/communications/presences/${userId}`, me: '/me/presence' };
}

export async function getPresence(s: TestServer, url: string, token: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return s.inject({ method: 'GET', url, headers: { ...bearer(token), ...headers } });
}

/** Reads a presence and checks it answered 200 with the wire headers. */
export async function readPresence(s: TestServer, url: string, token: string): Promise<PresenceJson> {
  const res = await getPresence(s, url, token);
  assert.equal(res.statusCode, 200, `GET ${url}: ${res.statusCode} ${res.body}`);
  assertJsonHeaders(res);
  return res.json() as PresenceJson;
}

/** POSTs a JSON body; `body` given as a string is sent byte-for-byte. */
export async function postJson(
  s: TestServer,
  url: string,
  token: string | null,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const opts: InjectOptions = {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...(token ? bearer(token) : {}), ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  };
  return s.inject(opts);
}

/** setStatusMessage at `/{version}/users/{userId}/presence/setStatusMessage`, expecting nothing in particular. */
export function setStatus(s: TestServer, userId: string, token: string, body: unknown, version: Version = 'v1.0'): Promise<LightMyRequestResponse> {
  return postJson(s, `/${version}/users/${userId}/presence/setStatusMessage`, token, body);
}

/** setStatusMessage that must succeed: 200, empty body. */
export async function setStatusOk(s: TestServer, userId: string, token: string, body: unknown, version: Version = 'v1.0'): Promise<void> {
  const res = await setStatus(s, userId, token, body, version);
  assert.equal(res.statusCode, 200, `setStatusMessage: ${res.statusCode} ${res.body}`);
  assert.equal(res.body, '');
  assertBaseHeaders(res);
}

export function message(content: string, expiry?: { dateTime: string; timeZone: string }): unknown {
  return { statusMessage: { message: { content, contentType: 'text' }, ...(expiry ? { expiryDateTime: expiry } : {}) } };
}

/** Moves the manual clock (`{"advance": "PT10M"}` or `{"now": "…"}`) and checks it answered 200. */
export async function moveClock(s: TestServer, body: { advance: string } | { now: string }): Promise<{ mode: string; now: string }> {
  const res = await s.inject({ method: 'POST', url: '/_presently/clock', payload: body });
  assert.equal(res.statusCode, 200, `clock: ${res.statusCode} ${res.body}`);
  return res.json() as { mode: string; now: string };
}

/** Creates a user in any tenant through the admin API; returns its id. */
export async function createUser(s: TestServer, tenantId: string, user: { id?: string; displayName?: string; userPrincipalName: string }): Promise<string> {
  const res = await s.inject({ method: 'POST', url: `/_presently/tenants/${tenantId}/users`, payload: user });
  assert.equal(res.statusCode, 201, `create user: ${res.statusCode} ${res.body}`);
  return (res.json() as { id: string }).id;
}

/** Mints a token through the dev token endpoint with any body. */
export async function mintToken(s: TestServer, body: object): Promise<string> {
  const res = await s.inject({ method: 'POST', url: '/_presently/tokens', payload: body });
  assert.equal(res.statusCode, 200, `token: ${res.statusCode} ${res.body}`);
  return (res.json() as { access_token: string }).access_token;
}
