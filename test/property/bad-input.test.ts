/**
 * Bad input of any kind (docs/api/wire-format.md): every endpoint gets malformed bodies, ids, query strings,
 * content types and tokens, and must answer a Graph-shaped 4xx — never a 5xx — without changing anything stored.
 * Generators produce only inputs that the contract makes invalid; where an input may be valid (GET with a random
 * query, getPresencesByUserId with random GUIDs) the answer is compared with what a valid input must produce.
 * Also: valid random status messages round-trip exactly.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { WINDOWS_TO_IANA_MAP } from 'windows-iana';
import { ADELE, ALEX, MEGAN, TENANT, startInProcess, type TestServer } from '../kit/server.ts';

const LEE = '5f7c2a10-3b9e-4d1a-8e2f-6a4b9c1d2e30';
const NESTOR = 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f';
const DEMO = [ADELE, ALEX, MEGAN, LEE, NESTOR] as const;
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const ODATA_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MARKER = '<pinnednote></pinnednote>';

// ---- an independent oracle for what the contract accepts (docs/api/status-message.md) ----

const WINDOWS_ZONES = [...new Set(WINDOWS_TO_IANA_MAP.map((e) => e.windowsName))];
const IANA_ZONES = Intl.supportedValuesOf('timeZone');
const WINDOWS_LOWER = new Set(WINDOWS_ZONES.map((z) => z.toLowerCase()));

/** A Windows zone name or an IANA name (aliases included). Bare offsets are not zone names. */
function isKnownZone(name: string): boolean {
  if (WINDOWS_LOWER.has(name.toLowerCase())) return true;
  if (!/^[A-Za-z]/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,7})?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** A real local date and time `YYYY-MM-DDThh:mm:ss[.fffffff]` (no offset); year 0 is left out as ambiguous. */
function isValidLocalDateTime(s: string): boolean | 'ambiguous' {
  const m = DATE_TIME.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (y === 0) return 'ambiguous';
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo) && h <= 23 && mi <= 59 && se <= 59;
}

function codePoints(s: string): number {
  return [...s.split(MARKER).join('')].length;
}

// ---- the server under test and the state that bad input must not touch ----

let s: TestServer;
const owner = new Map<string, string>();
let appToken: string;
/** Round-trip target: a user of its own, outside the snapshot of the demo users. */
const ROUND = randomUUID();
let roundToken: string;
/** For the known-bug tests, whose requests do change state today: a user outside the snapshot too. */
const SCRATCH = randomUUID();
let scratchToken: string;
let baseline: string[];

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

async function snapshot(): Promise<string[]> {
  const out: string[] = [];
  for (const id of DEMO) {
    const r = await s.inject({ method: 'GET', url: '/v1.0/me/presence', headers: bearer(owner.get(id)!) });
    assert.equal(r.statusCode, 200, r.body);
    out.push(r.body);
  }
  const users = await s.inject({ method: 'GET', url: `/_presently/tenants/${TENANT}/users` });
  assert.equal(users.statusCode, 200, users.body);
  out.push(users.body);
  return out;
}

before(async () => {
  s = await startInProcess();
  for (const id of DEMO) owner.set(id, await s.userToken(id));
  appToken = await s.appToken();
  const created = await s.inject({ method: 'POST', url: `/_presently/tenants/${TENANT}/users`, payload: { id: ROUND, userPrincipalName: 'roundtrip@contoso.example' } });
  assert.equal(created.statusCode, 201, created.body);
  roundToken = await s.userToken(ROUND);
  const scratch = await s.inject({ method: 'POST', url: `/_presently/tenants/${TENANT}/users`, payload: { id: SCRATCH, userPrincipalName: 'scratch@contoso.example' } });
  assert.equal(scratch.statusCode, 201, scratch.body);
  scratchToken = await s.userToken(SCRATCH);

  // Something to lose: messages with and without expiry, a 9999 expiry, a pinned note, and users without any.
  const set = async (id: string, statusMessage: unknown) => {
    const r = await s.inject({ method: 'POST', url: '/v1.0/me/presence/setStatusMessage', headers: bearer(owner.get(id)!), payload: { statusMessage } });
    assert.equal(r.statusCode, 200, r.body);
  };
  await set(ADELE, { message: { content: "Hey I'm currently in a meeting." }, expiryDateTime: { dateTime: '2031-10-18T17:05:33.2079781', timeZone: 'Pacific Standard Time' } });
  await set(ALEX, { message: { content: 'Working from home 🏠' } });
  await set(MEGAN, { message: { content: `Ask me anything ${MARKER}` }, expiryDateTime: { dateTime: '9999-12-31T23:59:59', timeZone: 'UTC' } });
  await set(NESTOR, { message: { content: 'Back Monday' }, expiryDateTime: { dateTime: '2033-01-03T09:00:00', timeZone: 'Europe/Berlin' } });
  baseline = await snapshot();
});

after(async () => {
  await s.close();
});

// ---- what every rejection must look like ----

function show(req: InjectOptions): string {
  const payload = typeof req.payload === 'string' ? req.payload : JSON.stringify(req.payload);
  const headers = { ...(req.headers ?? {}) } as Record<string, unknown>;
  if (typeof headers.authorization === 'string') headers.authorization = `${headers.authorization.slice(0, 16)}…`;
  return `${req.method} ${String(req.url).slice(0, 300)} headers=${JSON.stringify(headers)} payload=${(payload ?? '').slice(0, 300)}`;
}

function assertGraphError(res: LightMyRequestResponse, req: InjectOptions, statuses?: readonly number[]): void {
  const where = `${show(req)}\n→ ${res.statusCode} ${res.body.slice(0, 400)}`;
  assert.ok(res.statusCode >= 400 && res.statusCode < 500, `expected a 4xx: ${where}`);
  if (statuses) assert.ok(statuses.includes(res.statusCode), `expected one of ${statuses.join(', ')}: ${where}`);
  assert.equal(res.headers['content-type'], ODATA_JSON, `content type: ${where}`);
  const requestId = res.headers['request-id'];
  assert.ok(typeof requestId === 'string' && GUID.test(requestId), `request-id header: ${where}`);
  let body: { error?: { code?: unknown; message?: unknown; innerError?: Record<string, unknown> } };
  try {
    body = JSON.parse(res.body) as typeof body;
  } catch {
    assert.fail(`body is not JSON: ${where}`);
  }
  const e = body.error;
  assert.ok(e && typeof e.code === 'string' && e.code !== '', `error.code: ${where}`);
  assert.ok(typeof e.message === 'string' && e.message !== '', `error.message: ${where}`);
  assert.ok(e.innerError && e.innerError['request-id'] === requestId, `innerError.request-id: ${where}`);
  assert.ok(typeof e.innerError['client-request-id'] === 'string', `innerError.client-request-id: ${where}`);
  assert.match(String(e.innerError.date), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/, `innerError.date: ${where}`);
  const sent = (req.headers as Record<string, unknown> | undefined)?.['client-request-id'];
  if (typeof sent === 'string' && sent.length > 0 && sent.length <= 128) {
    assert.equal(e.innerError['client-request-id'], sent, `client-request-id echoed: ${where}`);
  }
}

async function assertUnchanged(req: InjectOptions): Promise<void> {
  const now = await snapshot();
  for (let i = 0; i < now.length; i++) {
    if (now[i] !== baseline[i]) assert.fail(`stored state changed after ${show(req)}\nbefore: ${baseline[i]}\nafter:  ${now[i]}`);
  }
}

/** Sends a request the contract makes invalid: a Graph 4xx, and nothing stored changes. */
async function rejected(req: InjectOptions, statuses?: readonly number[]): Promise<void> {
  const res = await s.inject(req);
  assertGraphError(res, req, statuses);
  await assertUnchanged(req);
}

const run = <T>(arb: fc.Arbitrary<T>, check: (v: T) => Promise<void>, runs = RUNS) =>
  fc.assert(fc.asyncProperty(arb, check), { numRuns: runs });

// ---- shared arbitraries ----

const version = fc.constantFrom('v1.0', 'beta');
const demoUser = fc.constantFrom(...DEMO);
const isDemo = (v: string) => DEMO.some((id) => id === v.toLowerCase());
const clientRequestId = fc.option(fc.stringMatching(/^[A-Za-z0-9-]{1,140}$/), { nil: undefined });

/** A JSON payload: the string, sent as application/json. */
const json = (value: unknown) => ({ payload: JSON.stringify(value) ?? '', contentType: 'application/json' });

/** Numbers, booleans, strings, arrays and objects (JSON-safe: no NaN or Infinity, which would become null). */
const scalar = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.string({ maxLength: 20 }));
const wrongForObject = fc.oneof(fc.integer(), fc.boolean(), fc.string({ maxLength: 20 }), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }));
const wrongForString = fc.oneof(
  fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(),
  fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), scalar, { maxKeys: 3 }),
);

/** A property name that is not `allowed` (in any case) and not an instance annotation. */
const unknownKey = (allowed: readonly string[]) => fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'odata.type', 'status Message', ' message', 'availability', 'id'),
).filter((k) => !k.includes('@') && !allowed.some((a) => a.toLowerCase() === k.toLowerCase()));

/** Adds an own enumerable property (safe for '__proto__'). */
function withKey<T extends object>(obj: T, key: string, value: unknown): T {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  return obj;
}

const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const THIS_YEAR = new Date().getUTCFullYear();

/** A future local date and time (any real calendar day), with 0–7 fractional digits, and its normalised form. */
const futureDateTime = fc.record({
  year: fc.oneof(fc.integer({ min: THIS_YEAR + 2, max: THIS_YEAR + 30 }), fc.integer({ min: THIS_YEAR + 2, max: 9999 })),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 31 }),
  hour: fc.integer({ min: 0, max: 23 }),
  minute: fc.integer({ min: 0, max: 59 }),
  second: fc.integer({ min: 0, max: 59 }),
  fraction: digits(0, 7),
}).map((t) => {
  const day = Math.min(t.day, daysInMonth(t.year, t.month));
  const base = `${pad(t.year, 4)}-${pad(t.month)}-${pad(day)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
  return { dateTime: t.fraction ? `${base}.${t.fraction}` : base, normalized: `${base}.${t.fraction.padEnd(7, '0')}` };
});

const knownZone = fc.oneof(fc.constantFrom(...WINDOWS_ZONES), fc.constantFrom(...IANA_ZONES));

/** A valid setStatusMessage body (set, not clear), for the mutations to start from. */
const validBody = fc.record({
  content: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  contentType: fc.constantFrom('text', 'Text', undefined),
  expiry: fc.option(fc.record({ when: futureDateTime, timeZone: knownZone }), { nil: undefined }),
  published: fc.constantFrom(undefined, '2020-01-01T00:00:00Z'),
}).map((b) => {
  const message: Record<string, unknown> = { content: b.content };
  if (b.contentType !== undefined) message.contentType = b.contentType;
  const statusMessage: Record<string, unknown> = { message };
  if (b.expiry) statusMessage.expiryDateTime = { dateTime: b.expiry.when.dateTime, timeZone: b.expiry.timeZone };
  if (b.published) statusMessage.publishedDateTime = b.published;
  return { statusMessage };
});

type Body = { statusMessage: { message: Record<string, unknown>; expiryDateTime?: Record<string, unknown>; publishedDateTime?: unknown } };

/** Where a setStatusMessage lands: an authorised caller at one of the three addresses, any case. */
const writeTarget = fc.record({
  user: demoUser,
  version,
  action: fc.constantFrom('setStatusMessage', 'setstatusmessage', 'SETSTATUSMESSAGE'),
  address: fc.constantFrom('me', 'users', 'communications'),
  asApp: fc.boolean(),
  upper: fc.boolean(),
}).map((t) => {
  const id = t.upper ? t.user.toUpperCase() : t.user;
  const path = t.address === 'me' ? `/${t.version}/me/presence/${t.action}`
    : t.address === 'users' ? `/${t.version}/users/${id}/presence/${t.action}`
      : `/${t.version}/communications/presences/${id}/${t.action}`;
  return { path, token: t.address === 'me' || !t.asApp ? owner.get(t.user)! : appToken };
});

function post(target: { path: string; token: string }, body: { payload: string; contentType?: string }, extra: Record<string, string | undefined> = {}): InjectOptions {
  const headers: Record<string, string> = { ...bearer(target.token) };
  if (body.contentType !== undefined) headers['content-type'] = body.contentType;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) headers[k] = v;
  return { method: 'POST', url: target.path, headers, payload: body.payload };
}

// ---- mutations of a valid setStatusMessage body, each one invalid by the contract ----

const ODD_ZONES = ['+05:00', '-08:00', '+00:00', 'Z', 'Etc/GMT+99', 'Etc/GMT+14:30', '', ' ', 'UTC ', ' UTC', 'Pacific Standard Time ', 'Pacific  Standard Time',
  'Mars/Olympus_Mons', 'America/Los Angeles', '../../etc/passwd', '\u0000', 'UTC\u0000', 'Europe/Berlin/', 'GMT+5', 'Eastern', '😀'];
const oddZone = fc.oneof(
  fc.constantFrom(...ODD_ZONES),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 70 }),
  fc.stringMatching(/^[A-Z][a-z]{2,8}\/[A-Z][a-z]{2,10}$/),
).filter((z) => !isKnownZone(z));

const ODD_DATE_TIMES = ['', 'now', 'tomorrow', '2031-02-30T10:00:00', '2031-13-01T00:00:00', '2031-00-10T00:00:00', '2031-01-00T00:00:00', '2031-01-01T24:00:00',
  '2031-01-01T23:60:00', '2031-06-30T23:59:60', '2031-01-01T10:00', '2031-01-01', '2031-01-01 10:00:00', '2031-01-01T10:00:00.12345678',
  '2031-01-01T10:00:00.', '2031-01-01t10:00:00', '+002031-01-01T10:00:00', '20310101T100000', '2031-1-1T1:0:0', '2031-01-01T10:00:00\n',
  ' 2031-01-01T10:00:00', '２０３１-01-01T10:00:00', '2031-01-01T10:00:00,5', '2031-W01-1T10:00:00', '10/18/2031 17:05:33', '1e9'];
const oddDateTime = fc.oneof(
  fc.constantFrom(...ODD_DATE_TIMES),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?$/),
).filter((d) => isValidLocalDateTime(d) === false);
/** Valid local times with an offset, while the zone is not UTC: 400. */
const offsetDateTime = fc.record({ when: futureDateTime, offset: fc.constantFrom('Z', '+05:00', '-08:00', '+00:00', '+14:00') })
  .map((x) => `${x.when.dateTime}${x.offset}`);

type Mutation =
  | { kind: 'wrongType'; path: 'statusMessage' | 'message' | 'content' | 'contentType' | 'expiryDateTime' | 'dateTime' | 'timeZone' | 'publishedDateTime'; value: unknown }
  | { kind: 'huge'; field: 'content' | 'contentType' | 'dateTime' | 'timeZone' | 'unknown'; value: string }
  | { kind: 'tooLong'; content: string }
  | { kind: 'contentType'; value: string }
  | { kind: 'zone'; value: string }
  | { kind: 'dateTime'; value: string; zone: string }
  | { kind: 'unknown'; level: 'root' | 'statusMessage' | 'message' | 'expiryDateTime'; key: string; value: unknown }
  | { kind: 'missing'; field: 'dateTime' | 'timeZone' };

const huge = fc.oneof(
  fc.integer({ min: 100_000, max: 120_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 34_000, max: 40_000 }).map((n) => 'é😀'.repeat(n / 2)),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('wrongType' as const), path: fc.constantFrom('statusMessage' as const, 'message' as const, 'expiryDateTime' as const), value: wrongForObject }),
  fc.record({ kind: fc.constant('wrongType' as const), path: fc.constantFrom('content' as const, 'contentType' as const, 'publishedDateTime' as const), value: wrongForString }),
  // dateTime and timeZone are required: null is wrong too.
  fc.record({ kind: fc.constant('wrongType' as const), path: fc.constantFrom('dateTime' as const, 'timeZone' as const), value: fc.oneof(wrongForString, fc.constant(null)) }),
  fc.record({ kind: fc.constant('huge' as const), field: fc.constantFrom('content' as const, 'contentType' as const, 'dateTime' as const, 'timeZone' as const, 'unknown' as const), value: huge }),
  fc.record({ kind: fc.constant('tooLong' as const), content: fc.string({ unit: 'binary', minLength: 281, maxLength: 600 }) }).filter((m) => codePoints(m.content) > 280),
  fc.record({ kind: fc.constant('contentType' as const), value: fc.oneof(fc.constantFrom('html', 'HTML', 'text/plain', 'texts', ' text', 'text ', '', 'tëxt'), fc.string({ maxLength: 10 })) })
    .filter((m) => m.value.toLowerCase() !== 'text'),
  fc.record({ kind: fc.constant('zone' as const), value: oddZone }),
  fc.record({ kind: fc.constant('dateTime' as const), value: oddDateTime, zone: knownZone }),
  fc.record({ kind: fc.constant('dateTime' as const), value: offsetDateTime, zone: fc.constantFrom('Pacific Standard Time', 'Europe/Berlin', 'Asia/Kolkata', 'Tokyo Standard Time') }),
  fc.record({ kind: fc.constant('unknown' as const), level: fc.constant('root' as const), key: unknownKey(['statusMessage']), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ kind: fc.constant('unknown' as const), level: fc.constant('statusMessage' as const), key: unknownKey(['message', 'expiryDateTime', 'publishedDateTime']), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ kind: fc.constant('unknown' as const), level: fc.constant('message' as const), key: unknownKey(['content', 'contentType']), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ kind: fc.constant('unknown' as const), level: fc.constant('expiryDateTime' as const), key: unknownKey(['dateTime', 'timeZone']), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ kind: fc.constant('missing' as const), field: fc.constantFrom('dateTime' as const, 'timeZone' as const) }),
);

const SOME_EXPIRY = { dateTime: '2035-06-01T12:00:00', timeZone: 'W. Europe Standard Time' };

function mutate(valid: { statusMessage: Record<string, unknown> }, m: Mutation): unknown {
  const body = structuredClone(valid) as Body;
  const sm = body.statusMessage;
  const expiry = () => (sm.expiryDateTime ??= { ...SOME_EXPIRY });
  switch (m.kind) {
    case 'wrongType':
      if (m.path === 'statusMessage') return { statusMessage: m.value };
      if (m.path === 'message') sm.message = m.value as Record<string, unknown>;
      else if (m.path === 'content' || m.path === 'contentType') sm.message[m.path] = m.value;
      else if (m.path === 'expiryDateTime') sm.expiryDateTime = m.value as Record<string, unknown>;
      else if (m.path === 'publishedDateTime') sm.publishedDateTime = m.value;
      else expiry()[m.path] = m.value;
      return body;
    case 'huge':
      if (m.field === 'content' || m.field === 'contentType') sm.message[m.field] = m.value;
      else if (m.field === 'unknown') withKey(sm.message, 'note', m.value);
      else expiry()[m.field] = m.value;
      return body;
    case 'tooLong':
      sm.message.content = m.content;
      return body;
    case 'contentType':
      sm.message.contentType = m.value;
      return body;
    case 'zone':
      expiry().timeZone = m.value;
      return body;
    case 'dateTime':
      sm.expiryDateTime = { dateTime: m.value, timeZone: m.zone };
      return body;
    case 'unknown': {
      const target = m.level === 'root' ? body : m.level === 'statusMessage' ? sm : m.level === 'message' ? sm.message : expiry();
      withKey(target, m.key, m.value);
      return body;
    }
    case 'missing':
      delete expiry()[m.field];
      return body;
  }
}

/** A JSON value that is not a setStatusMessage body: not an object carrying `statusMessage`. */
const notAStatusBody = fc.oneof(
  fc.jsonValue(),
  fc.anything({ maxDepth: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 0, maxKeys: 4 }),
).map((v) => JSON.stringify(v))
  .filter((text): text is string => {
    if (text === undefined) return false;
    const v = JSON.parse(text) as unknown;
    return !(v !== null && typeof v === 'object' && !Array.isArray(v) && 'statusMessage' in v);
  });

/** `{"statusMessage": X}` with X of a wrong type, or an object with a property statusMessage does not have. */
const wrongStatusMessage = fc.oneof(
  wrongForObject,
  fc.dictionary(unknownKey(['message', 'expiryDateTime', 'publishedDateTime']), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 3 }),
).filter((x) => x !== null);

// Query strings: OData options, junk, bad escapes, arrays, prototype names.
const queryKey = fc.oneof(
  fc.constantFrom('$select', '$SELECT', '$Select', 'select', '$filter', '$expand', '$top', '$skip', '$format', '$count', '$search', '$orderby',
    '__proto__', 'constructor', '$select[]', '$select[a]', '', '%', '%ZZ', '%E0%A4%A'),
  fc.string({ maxLength: 10 }).map(encodeURIComponent),
);
const queryValue = fc.oneof(
  fc.constantFrom('availability', 'Activity,availability', 'statusMessage', 'id', 'sequenceNumber', 'nope', '', ',,,', '*', 'availability,nope',
    '%', '%ZZ', '%E0%A4%A', '%00', 'a%2Cb', encodeURIComponent("' or 1 eq 1")),
  fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
  fc.array(fc.constantFrom('id', 'availability', 'activity', 'statusMessage', 'outOfOfficeSettings', 'workLocation', 'sequenceNumber', 'AVAILABILITY'), { maxLength: 4 }).map((a) => a.join(',')),
);
const queryString = fc.array(fc.tuple(queryKey, fc.option(queryValue, { nil: undefined })), { minLength: 1, maxLength: 4 })
  .map((pairs) => pairs.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join('&'));

// ---- the properties ----

describe('bad input: setStatusMessage', () => {
  it('arbitrary JSON values, at all three addresses', async () => {
    await run(fc.record({ target: writeTarget, text: fc.oneof(notAStatusBody, wrongStatusMessage.map((x) => JSON.stringify({ statusMessage: x }))), crid: clientRequestId }),
      async ({ target, text, crid }) => rejected(post(target, { payload: text, contentType: 'application/json' }, { 'client-request-id': crid }), [400]));
  });

  it('nearly valid bodies with one thing wrong: a wrong type, a huge or over-long string, an odd zone or dateTime, an unknown property', async () => {
    await run(fc.record({ target: writeTarget, valid: validBody, m: mutation }), async ({ target, valid, m }) => {
      const statuses = m.kind === 'huge' ? [413] : [400];
      await rejected(post(target, json(mutate(valid, m))), statuses);
    });
  });

  it('text that is not JSON, sent as application/json', async () => {
    const notJson = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.constantFrom('{', '{"statusMessage":', "{'statusMessage': null}", '{"statusMessage": null,}', 'undefined', 'NaN', '\uFEFF{}', '{"a":1}{"b":2}', '[', '"'),
      fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('latin1')),
    ).filter((t) => {
      if (t.trim() === '') return false; // an empty body is "no body": covered below with the required property
      try {
        JSON.parse(t);
        return false;
      } catch {
        return true;
      }
    });
    await run(fc.record({ target: writeTarget, text: notJson }), async ({ target, text }) =>
      rejected(post(target, { payload: text, contentType: 'application/json' }), [400]));
    // No body at all: statusMessage is required.
    for (const text of ['', '   ', '\n']) {
      await rejected(post({ path: '/v1.0/me/presence/setStatusMessage', token: owner.get(ADELE)! }, { payload: text, contentType: 'application/json' }), [400]);
    }
  });

  it('a valid body with a Content-Type that is not JSON', async () => {
    const contentType = fc.oneof(
      fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/html; charset=utf-8',
        '', ';', '*/*', 'application/*', 'application', 'application/', '/json', 'application/octet-stream', 'APPLICATION/XML'),
      fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
    ).filter((t) => !t.toLowerCase().includes('json'));
    await run(fc.record({ target: writeTarget, valid: validBody, contentType }), async ({ target, valid, contentType }) =>
      rejected(post(target, { payload: JSON.stringify(valid), contentType }), [400, 415]));
    // And with no Content-Type at all.
    await rejected(post({ path: '/v1.0/me/presence/setStatusMessage', token: owner.get(ALEX)! }, { payload: '{"statusMessage":null}' }), [415]);
  });

  it('random query strings do not make a bad body acceptable', async () => {
    await run(fc.record({ target: writeTarget, query: queryString, valid: validBody, m: mutation }), async ({ target, query, valid, m }) => {
      const req = post(target, json(mutate(valid, m)));
      req.url = `${String(req.url)}?${query}`;
      await rejected(req, m.kind === 'huge' ? [413] : [400]);
    }, Math.round(RUNS / 2));
  });
});

describe('bad input: ids, queries, methods and tokens', () => {
  const pathId = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 16 }).map(encodeURIComponent),
    fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map(encodeURIComponent),
    fc.constantFrom('..', '.', '%00', '%2F', 'a%2Fb', '%2e%2e', '%2E', 'null', 'undefined', '__proto__', 'constructor', 'me', '*', '%20', `{${ADELE}}`,
      `${ADELE}%20`, `%20${ADELE}`, ADELE.replaceAll('-', ''), `${ADELE}0`, ADELE.slice(1), `${ADELE}%00`, encodeURIComponent("' OR 1=1 --"),
      'é😀', '%F0%9F%98%80', encodeURIComponent('\u202e' + ADELE), TENANT, '00000000-0000-0000-0000-000000000000'),
    fc.uuid().map((u) => u.toUpperCase()),
    fc.uuid(),
    fc.stringMatching(/^[0-9a-fA-F-]{30,40}$/),
  ).filter((seg) => {
    const decoded = decodeURIComponent(seg);
    // Longer ids and bad escapes are the known bug below; a demo user's own id is valid.
    return decoded.length <= 100 && !isDemo(decoded);
  });

  it('random path ids at every presence address: 400 for a non-GUID, 404 for a GUID of no user in the tenant', async () => {
    await run(fc.record({ id: pathId, version, kind: fc.constantFrom('get-users', 'get-comms', 'post-users', 'post-comms'), valid: validBody, delegated: fc.boolean() }),
      async ({ id, version, kind, valid, delegated }) => {
        const decoded = decodeURIComponent(id);
        // A non-GUID is 400; '.' and '..' segments are resolved first and may land on another route (404/405).
        const expected = GUID.test(decoded) ? [404] : [400, 404, 405];
        // A delegated reader with Presence.Read.All may read anyone: only the id can be wrong. Writes use the app.
        const token = kind.startsWith('get') && delegated ? owner.get(ADELE)! : appToken;
        const url = kind.endsWith('users') ? `/${version}/users/${id}/presence` : `/${version}/communications/presences/${id}`;
        const req: InjectOptions = kind.startsWith('get')
          ? { method: 'GET', url, headers: bearer(token) }
          : { method: 'POST', url: `${url}/setStatusMessage`, headers: { ...bearer(token), 'content-type': 'application/json' }, payload: JSON.stringify(valid) };
        await rejected(req, expected);
      });
  });

  it('GET with random query strings: the presence (with a valid $select applied) or a 400, never anything else', async () => {
    const full = baseline.slice(0, DEMO.length).map((b) => JSON.parse(b) as Record<string, unknown>);
    await run(fc.record({ user: fc.integer({ min: 0, max: DEMO.length - 1 }), query: queryString, address: fc.constantFrom('me', 'users', 'communications'), version }),
      async ({ user, query, address, version }) => {
        const id = DEMO[user]!;
        const path = address === 'me' ? '/me/presence' : address === 'users' ? `/users/${id}/presence` : `/communications/presences/${id}`;
        const req: InjectOptions = { method: 'GET', url: `/${version}${path}?${query}`, headers: bearer(owner.get(id)!) };
        const res = await s.inject(req);
        if (res.statusCode === 200) {
          const got = JSON.parse(res.body) as Record<string, unknown>;
          assert.equal(got.id, id, show(req));
          for (const [k, v] of Object.entries(got)) {
            if (k === '@odata.context') continue;
            assert.deepEqual(v, full[user]![k], `${show(req)}: property ${k}`);
          }
        } else {
          assertGraphError(res, req, [400]);
        }
        await assertUnchanged(req);
      });
  });

  it('wrong methods on known paths: 405 with Allow', async () => {
    await run(fc.record({ method: fc.constantFrom('PUT', 'PATCH', 'DELETE'), path: fc.constantFrom('/v1.0/me/presence', `/beta/users/${ALEX}/presence`, `/v1.0/communications/presences/${ALEX}`,
      '/v1.0/me/presence/setStatusMessage', `/v1.0/users/${ALEX}/presence/setStatusMessage`, '/v1.0/communications/getPresencesByUserId', '/_presently/tokens',
      `/_presently/tenants/${TENANT}/users`), valid: validBody }),
    async ({ method, path, valid }) => {
      const req: InjectOptions = { method: method as 'PUT', url: path, headers: { ...bearer(appToken), 'content-type': 'application/json' }, payload: JSON.stringify(valid) };
      const res = await s.inject(req);
      assertGraphError(res, req, [405]);
      assert.ok(typeof res.headers.allow === 'string' && res.headers.allow !== '', `Allow header: ${show(req)}`);
      await assertUnchanged(req);
    }, Math.round(RUNS / 3));
  });

  it('bad or insufficient tokens: 401 or 403, nothing written', async () => {
    const readOnly = await s.userToken(ADELE, ['Presence.Read']);
    const readAllApp = await s.appToken(['Presence.Read.All']);
    const tampered = (t: string) => {
      const [h, p, sig] = t.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
      claims.roles = ['Presence.ReadWrite.All'];
      claims.scp = 'Presence.ReadWrite';
      return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
    };
    const authorization = fc.oneof(
      fc.constant(undefined),
      fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
      fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((t) => `Bearer ${t}`),
      fc.constantFrom('Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `${appToken}`, `Bearer ${appToken}x`, `Bearer ${tampered(appToken)}`,
        `Bearer ${tampered(readOnly)}`, `bearer ${appToken.split('.').slice(0, 2).join('.')}.`, 'Bearer a.b.c', 'Bearer ..'),
    );
    await run(fc.record({ auth: authorization, target: writeTarget, valid: validBody }), async ({ auth, target, valid }) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (auth !== undefined) headers.authorization = auth;
      await rejected({ method: 'POST', url: target.path, headers, payload: JSON.stringify(valid) }, [401]);
    }, Math.round(RUNS / 2));
    // Valid tokens without the right to write.
    const forbidden = fc.record({ valid: validBody, who: fc.constantFrom('readOnly', 'readAllApp', 'otherUser') , user: demoUser });
    await run(forbidden, async ({ valid, who, user }) => {
      const token = who === 'readOnly' ? readOnly : who === 'readAllApp' ? readAllApp : owner.get(user === ADELE ? ALEX : ADELE)!;
      const path = who === 'readOnly' ? '/v1.0/me/presence/setStatusMessage' : `/v1.0/users/${user}/presence/setStatusMessage`;
      await rejected({ method: 'POST', url: path, headers: { ...bearer(token), 'content-type': 'application/json' }, payload: JSON.stringify(valid) }, [403]);
    }, Math.round(RUNS / 3));
  });
});

describe('bad input: getPresencesByUserId', () => {
  const guid = fc.oneof(fc.uuid(), fc.uuid().map((u) => u.toUpperCase()), demoUser);
  const notGuid = fc.oneof(
    fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.integer(), fc.boolean(), fc.constant(null),
    fc.array(fc.uuid(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 4 }), scalar, { maxKeys: 2 }),
    fc.constantFrom(`{${ADELE}}`, ` ${ADELE}`, `${ADELE} `, ADELE.replaceAll('-', ''), `${ADELE}0`),
  ).filter((v) => !(typeof v === 'string' && GUID.test(v)));
  const badIds = fc.oneof(
    // Not an array.
    fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.boolean(), fc.constant(null), fc.dictionary(fc.string({ maxLength: 4 }), scalar, { maxKeys: 2 }), guid),
    // Empty.
    fc.constant([]),
    // Some GUIDs and at least one thing that is not.
    fc.tuple(fc.array(guid, { maxLength: 10 }), notGuid, fc.array(guid, { maxLength: 10 })).map(([a, x, b]) => [...a, x, ...b]),
    // More than 650.
    fc.integer({ min: 651, max: 900 }).map((n) => Array.from({ length: n }, () => randomUUID())),
  );
  const body = fc.oneof(
    badIds.map((ids) => JSON.stringify({ ids })),
    fc.record({ ids: fc.array(guid, { minLength: 1, maxLength: 5 }), key: unknownKey(['ids']), value: fc.jsonValue({ maxDepth: 1 }) })
      .map(({ ids, key, value }) => JSON.stringify(withKey({ ids }, key, value))),
    fc.jsonValue().map((v) => JSON.stringify(v)).filter((t) => {
      const v = JSON.parse(t) as unknown;
      return !(v !== null && typeof v === 'object' && !Array.isArray(v) && 'ids' in v);
    }),
    fc.constantFrom('', 'ids=1', '{"ids":[', '{"ids": "a,b"}'),
  );

  it('malformed bodies: 400', async () => {
    const readAll = await s.userToken(ADELE, ['Presence.Read.All']);
    await run(fc.record({ version, body, asApp: fc.boolean(), name: fc.constantFrom('getPresencesByUserId', 'getpresencesbyuserid', 'GETPRESENCESBYUSERID') }),
      async ({ version, body, asApp, name }) => {
        await rejected({
          method: 'POST', url: `/${version}/communications/${name}`,
          headers: { ...bearer(asApp ? appToken : readAll), 'content-type': 'application/json' }, payload: body,
        }, [400]);
      });
  });

  it('valid random ids: 200, one entry per distinct id in request order, unknown ids PresenceUnknown, the privacy rule applied', async () => {
    const owners = baseline.slice(0, DEMO.length).map((b) => JSON.parse(b) as Record<string, unknown>);
    const watcherOf = (i: number) => {
      const { ['@odata.context']: _context, ...rest } = owners[i]!;
      const sm = rest.statusMessage as { message: unknown } | null;
      return { ...rest, statusMessage: sm ? { message: sm.message } : null };
    };
    await run(fc.record({ ids: fc.array(guid, { minLength: 1, maxLength: 30 }), asApp: fc.boolean(), version }), async ({ ids, asApp, version }) => {
      const req: InjectOptions = {
        method: 'POST', url: `/${version}/communications/getPresencesByUserId`,
        headers: { ...bearer(asApp ? appToken : owner.get(ADELE)!), 'content-type': 'application/json' }, payload: JSON.stringify({ ids }),
      };
      const res = await s.inject(req);
      assert.equal(res.statusCode, 200, `${show(req)} → ${res.body.slice(0, 300)}`);
      const got = (JSON.parse(res.body) as { value: Array<Record<string, unknown>> }).value;
      const expectedIds = [...new Set(ids.map((i) => i.toLowerCase()))];
      assert.deepEqual(got.map((p) => p.id), expectedIds, show(req));
      got.forEach((p, k) => {
        const i = DEMO.indexOf(expectedIds[k] as (typeof DEMO)[number]);
        if (i < 0) {
          assert.equal(p.availability, 'PresenceUnknown');
          assert.equal(p.activity, 'PresenceUnknown');
          assert.equal(p.statusMessage, null);
        } else if (!asApp && DEMO[i] === ADELE) {
          const { ['@odata.context']: _context, ...own } = owners[i]!;
          assert.deepEqual(p, own, `${show(req)}: the caller's own entry is the owner's view`);
        } else {
          assert.deepEqual(p, watcherOf(i), `${show(req)}: ${DEMO[i]} as a watcher sees it`);
        }
      });
      await assertUnchanged(req);
    }, Math.round(RUNS / 2));
  });
});

describe('bad input: the admin API', () => {
  it('POST /_presently/tokens with malformed bodies: 400', async () => {
    const mutations = fc.oneof(
      // Not an object (null and no body mean "all defaults", which is valid).
      fc.jsonValue().filter((v) => v !== null && (typeof v !== 'object' || Array.isArray(v))),
      // An unknown property.
      fc.record({ key: unknownKey(['userId', 'appId', 'tenantId', 'scopes', 'roles', 'expiresIn']), value: fc.jsonValue({ maxDepth: 1 }) })
        .map(({ key, value }) => withKey({ userId: ADELE }, key, value)),
      fc.record({ userId: fc.oneof(wrongForString, fc.constantFrom('', '   ', 'nobody@contoso.example', 'AdeleV@contoso', ADELE.replaceAll('-', '')), fc.uuid().filter((u) => !isDemo(u))) }),
      fc.record({ appId: fc.oneof(wrongForString, fc.string({ maxLength: 40 }).filter((v) => !GUID.test(v))) }),
      fc.record({ userId: demoUser, tenantId: fc.oneof(wrongForString, fc.string({ maxLength: 40 }).filter((v) => !GUID.test(v)), fc.uuid().filter((u) => u !== TENANT)) }),
      fc.record({ userId: demoUser, scopes: fc.oneof(fc.integer(), fc.boolean(), fc.dictionary(fc.string(), scalar, { maxKeys: 2 }), fc.array(fc.oneof(fc.integer(), fc.boolean(), fc.constant(null)), { minLength: 1, maxLength: 3 })) }),
      fc.record({ userId: demoUser, scopes: fc.array(fc.oneof(fc.constantFrom('Presence"Read', 'a\\b', 'Présence.Read', 'x'.repeat(201)), fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }).filter((n) => /[^\x21\x23-\x5b\x5d-\x7e\s,]/.test(n))), { minLength: 1, maxLength: 3 }) }),
      fc.record({ roles: fc.array(fc.constantFrom('a"b', 'ü'), { minLength: 1, maxLength: 2 }) }),
      fc.record({ userId: demoUser, scopes: fc.integer({ min: 101, max: 150 }).map((n) => Array.from({ length: n }, (_, i) => `Scope.${i}`)) }),
      fc.record({ scopes: fc.constantFrom(['Presence.Read'], 'Presence.Read') }), // scopes without a user
      fc.record({ expiresIn: fc.oneof(fc.integer({ max: 59 }), fc.integer({ min: 86401 }), fc.double({ min: 60.01, max: 86399.99, noNaN: true }).filter((d) => !Number.isInteger(d)), fc.string(), fc.boolean(), fc.array(fc.integer(), { maxLength: 2 })) }),
    );
    await run(mutations.map((b) => JSON.stringify(b)), async (payload) =>
      rejected({ method: 'POST', url: '/_presently/tokens', headers: { 'content-type': 'application/json' }, payload }, [400]));
  });

  it('users API with malformed bodies, tenant ids and user ids: 4xx, nothing created, renamed or deleted', async () => {
    const badTid = fc.oneof(fc.string({ maxLength: 30 }).map(encodeURIComponent), fc.constantFrom('..', '%00', 'contoso', `{${TENANT}}`, TENANT.slice(1)))
      .filter((t) => !GUID.test(decodeURIComponent(t)) && decodeURIComponent(t).length <= 100);
    const badUser = fc.oneof(
      fc.jsonValue().filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)),
      fc.record({ key: unknownKey(['id', 'displayName', 'userPrincipalName']), value: fc.jsonValue({ maxDepth: 1 }) })
        .map(({ key, value }) => withKey({ userPrincipalName: `${randomUUID()}@contoso.example` }, key, value)),
      fc.record({ displayName: fc.string() }),
      fc.record({ userPrincipalName: wrongForString }),
      fc.record({ userPrincipalName: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('a@b@c', '@contoso.example', 'adele@', 'a b@c', 'a@b c', '')).filter((u) => !/^[^@\s]+@[^@\s]+$/.test(u)) }),
      fc.record({ userPrincipalName: fc.constant('new.user@contoso.example'), id: fc.oneof(wrongForString, fc.string({ maxLength: 40 }).filter((v) => !GUID.test(v))) }),
      fc.record({ userPrincipalName: fc.constant('new.user@contoso.example'), displayName: wrongForString }),
      // A UPN another user has (UPNs are unique, ignoring case): 409.
      fc.record({ userPrincipalName: fc.constantFrom('AdeleV@contoso.example', 'ALEXW@CONTOSO.EXAMPLE', 'roundtrip@contoso.example'), id: fc.option(fc.uuid(), { nil: undefined }) }),
    );
    const req = fc.oneof(
      fc.record({ tid: fc.constant(TENANT), body: badUser }).map(({ tid, body }): InjectOptions => ({ method: 'POST', url: `/_presently/tenants/${tid}/users`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) ?? '' })),
      fc.record({ tid: badTid, body: fc.constant({ userPrincipalName: 'x@y.example' }) }).map(({ tid, body }): InjectOptions => ({ method: 'POST', url: `/_presently/tenants/${tid}/users`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })),
      badTid.map((tid): InjectOptions => ({ method: 'GET', url: `/_presently/tenants/${tid}/users` })),
      // No '.' or '..' user id: URL rules resolve `users/..` to the tenant itself, and DELETE of a tenant is a real call.
      fc.record({ tid: fc.oneof(fc.constant(TENANT), badTid), id: fc.oneof(fc.uuid(), fc.string({ maxLength: 30 }).map(encodeURIComponent), fc.constantFrom('%00', '*', '%25')) })
        .filter(({ id }) => !isDemo(decodeURIComponent(id)) && decodeURIComponent(id).toLowerCase() !== ROUND && decodeURIComponent(id).length <= 100)
        .filter(({ id }) => id !== '.' && id !== '..')
        .map(({ tid, id }): InjectOptions => ({ method: 'DELETE', url: `/_presently/tenants/${tid}/users/${id}` })),
    );
    await run(req, async (r) => rejected(r));
  });
});

describe('found by these properties (spec violations in src/, see the report)', () => {
  /** Runs every case and fails once with all the failures, so each known bug is reported in full. */
  async function everyCase(cases: Array<() => Promise<void>>): Promise<void> {
    const failures: string[] = [];
    for (const c of cases) {
      try {
        await c();
      } catch (err) {
        failures.push((err as Error).message.split('\n').slice(0, 2).join(' | ').slice(0, 500));
      }
    }
    assert.deepEqual(failures, [], `${failures.length} of ${cases.length} cases failed`);
  }

  it('a null message does not skip the validation of expiryDateTime (wrong types and unknown properties are 400 everywhere)', async () => {
    const bodies = [
      { statusMessage: { message: null, expiryDateTime: { dateTime: 'not a date', timeZone: 'UTC' } } },
      { statusMessage: { message: null, expiryDateTime: { dateTime: '2031-01-01T00:00:00', timeZone: 'Mars/Olympus_Mons' } } },
      { statusMessage: { message: null, expiryDateTime: 42 } },
      { statusMessage: { message: null, expiryDateTime: { dateTime: '2031-01-01T00:00:00', timeZone: 'UTC', bogus: true } } },
    ];
    const me = { method: 'GET' as const, url: '/v1.0/me/presence', headers: bearer(scratchToken) };
    await everyCase(bodies.map((b) => async () => {
      const set = await s.inject(post({ path: '/v1.0/me/presence/setStatusMessage', token: scratchToken }, json({ statusMessage: { message: { content: 'keep me' } } })));
      assert.equal(set.statusCode, 200, set.body);
      const before = (await s.inject(me)).body;
      await rejected(post({ path: '/v1.0/me/presence/setStatusMessage', token: scratchToken }, json(b)), [400]);
      assert.equal((await s.inject(me)).body, before, 'the message is still there');
    }));
  });

  it('deeply nested JSON in a property that is reported back is a 400, not a 500', async () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    await everyCase([
      () => rejected({ method: 'POST', url: '/v1.0/communications/getPresencesByUserId', headers: { ...bearer(appToken), 'content-type': 'application/json' }, payload: `{"ids":[${deep(20_000)}]}` }, [400]),
      () => rejected({ method: 'POST', url: '/_presently/tokens', headers: { 'content-type': 'application/json' }, payload: `{"expiresIn":${deep(20_000)}}` }, [400]),
    ]);
  });

  it('a path with a bad percent-escape, or an id over 100 characters, still gets a Graph error', async () => {
    const urls = [
      `/v1.0/users/%E0%A4%A/presence`, '/v1.0/users/%/presence', `/v1.0/communications/presences/%ZZ`,
      `/v1.0/users/${'a'.repeat(101)}/presence`, `/v1.0/communications/presences/${ADELE.repeat(3)}`,
      `/_presently/tenants/${TENANT}/users/%E0%A4%A`,
    ];
    await everyCase(urls.map((url) => () => rejected({ method: 'GET', url, headers: bearer(appToken) })));
  });
});

describe('valid input round-trips', () => {
  const message = fc.record({
    content: fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 280 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).filter((c) => codePoints(c) <= 280),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 280 }).map((c) => `${c}${MARKER}`),
    ),
    contentType: fc.constantFrom('text', 'TEXT', undefined),
    expiry: fc.option(fc.record({ when: futureDateTime, timeZone: knownZone }), { nil: undefined }),
    address: fc.constantFrom('me', 'users', 'communications'),
    version,
  });

  it('content, contentType, expiry (normalised to 7 digits) and timeZone come back exactly as sent', async () => {
    let lastSeq = '';
    let lastMessage = '';
    await run(message, async ({ content, contentType, expiry, address, version }) => {
      const statusMessage: Record<string, unknown> = { message: contentType === undefined ? { content } : { content, contentType } };
      if (expiry) statusMessage.expiryDateTime = { dateTime: expiry.when.dateTime, timeZone: expiry.timeZone };
      const path = address === 'me' ? `/${version}/me/presence/setStatusMessage`
        : address === 'users' ? `/${version}/users/${ROUND}/presence/setStatusMessage` : `/${version}/communications/presences/${ROUND}/setStatusMessage`;
      const token = address === 'me' ? roundToken : appToken;
      const t0 = Date.now();
      const req: InjectOptions = { method: 'POST', url: path, headers: { ...bearer(token), 'content-type': 'application/json' }, payload: JSON.stringify({ statusMessage }) };
      const res = await s.inject(req);
      const t1 = Date.now();
      assert.equal(res.statusCode, 200, `${show(req)} → ${res.body.slice(0, 400)}`);

      const got = await s.inject({ method: 'GET', url: `/${version}/me/presence`, headers: bearer(roundToken) });
      const p = JSON.parse(got.body) as { statusMessage: Record<string, unknown> | null; sequenceNumber: string };
      const expected: Record<string, unknown> = { message: { content, contentType: 'text' } };
      if (expiry) expected.expiryDateTime = { dateTime: expiry.when.normalized, timeZone: expiry.timeZone };
      const published = p.statusMessage?.publishedDateTime;
      assert.match(String(published), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
      const at = Date.parse(String(published));
      assert.ok(at >= t0 - 1 && at <= t1 + 1, `publishedDateTime ${String(published)} within the request`);
      assert.deepEqual({ ...p.statusMessage, publishedDateTime: undefined }, { ...expected, publishedDateTime: undefined }, show(req));
      // A new publication changes the view (and so the sequenceNumber) unless it is identical to the last, to the ms.
      const shown = JSON.stringify(p.statusMessage);
      if (shown !== lastMessage) assert.ok(p.sequenceNumber > lastSeq, `sequenceNumber ${p.sequenceNumber} after ${lastSeq}`);
      else assert.equal(p.sequenceNumber, lastSeq);
      lastSeq = p.sequenceNumber;
      lastMessage = shown;

      // A watcher sees the text only.
      const many = await s.inject({ method: 'POST', url: `/${version}/communications/getPresencesByUserId`, headers: { ...bearer(appToken), 'content-type': 'application/json' }, payload: JSON.stringify({ ids: [ROUND] }) });
      assert.deepEqual((JSON.parse(many.body) as { value: Array<{ statusMessage: unknown }> }).value[0]!.statusMessage, { message: { content, contentType: 'text' } });
    });
    await assertUnchanged({ method: 'GET', url: '(round-trip property)' });
  });

  it('every Windows zone name and every IANA zone is accepted and returned as sent', async () => {
    for (const timeZone of [...WINDOWS_ZONES, ...IANA_ZONES]) {
      const statusMessage = { message: { content: timeZone }, expiryDateTime: { dateTime: '2040-03-10T02:30:00.1', timeZone } };
      const req: InjectOptions = { method: 'POST', url: '/v1.0/me/presence/setStatusMessage', headers: { ...bearer(roundToken), 'content-type': 'application/json' }, payload: JSON.stringify({ statusMessage }) };
      const res = await s.inject(req);
      assert.equal(res.statusCode, 200, `${timeZone}: ${res.body.slice(0, 300)}`);
      const got = JSON.parse((await s.inject({ method: 'GET', url: '/v1.0/me/presence', headers: bearer(roundToken) })).body) as { statusMessage: { expiryDateTime: unknown } };
      assert.deepEqual(got.statusMessage.expiryDateTime, { dateTime: '2040-03-10T02:30:00.1000000', timeZone });
    }
  });
});
