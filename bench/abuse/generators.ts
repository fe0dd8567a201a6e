/**
 * Adversarial request bodies, as fast-check arbitraries, for every write endpoint of the Graph API Presently serves.
 * Shared by the abuse bench (bench/abuse/fuzz.ts, over HTTP, thousands per endpoint) and the fast test
 * (test/hardening/abuse-fast.test.ts, in process, a few hundred).
 *
 * A case is either a valid body with one mutation (a value swapped for a hostile one, a key removed, a hostile key
 * added) so that validation is reached deep inside, or a hostile body outright (wrong JSON type, garbage bytes,
 * deep nesting, huge), sent with a JSON or a wrong content type.
 */
import fc from 'fast-check';

/** What a case needs to know about the server it is aimed at. */
export interface FuzzTarget {
  /** The user whose state the endpoint changes (a fuzz user of its own). */
  userId: string;
  /** The application id of the caller's token (setPresence's sessionId). */
  appId: string;
  /** A local receiver's URL, for subscriptions. */
  receiverUrl: string;
  /** An existing subscription of the caller, for PATCH. */
  subscriptionId: string;
  /** The server's current time, ms (the manual clock's). */
  now: number;
}

export interface Endpoint {
  name: string;
  method: 'POST' | 'PATCH';
  path(t: FuzzTarget): string;
  /** The valid body every mutation starts from. */
  valid(t: FuzzTarget): unknown;
  /** Which stored state a rejected request must leave alone. */
  state: 'presence' | 'subscription' | 'subscriptions';
  /** `$batch`: an answer's items are judged one by one. */
  batch?: boolean;
}

export interface FuzzCase {
  body: string | Buffer;
  contentType: string | null;
  /** A short description for the report. */
  what: string;
}

const local = (ms: number) => new Date(ms).toISOString().slice(0, 19);
const dtz = (ms: number, timeZone = 'Pacific Standard Time') => ({ dateTime: local(ms), timeZone });
const DAY = 86_400_000;

const ACTIONS: Array<[string, (t: FuzzTarget) => unknown]> = [
  ['setPresence', (t) => ({ sessionId: t.appId, availability: 'Available', activity: 'Available', expirationDuration: 'PT1H' })],
  ['clearPresence', (t) => ({ sessionId: t.appId })],
  ['setUserPreferredPresence', () => ({ availability: 'Busy', activity: 'Busy', expirationDuration: 'PT8H' })],
  ['clearUserPreferredPresence', () => ({})],
  ['setStatusMessage', (t) => ({
    statusMessage: { message: { content: 'Hi <b>there</b>', contentType: 'text' }, expiryDateTime: dtz(t.now + 7 * DAY) },
  })],
  ['setManualLocation', () => ({ workLocationType: 'office', placeId: 'b1b1b1b1-0000-4000-8000-000000000001' })],
  ['setAutomaticLocation', () => ({ workLocationType: 'remote' })],
  ['clearAutomaticLocation', () => ({})],
  ['clearLocation', () => ({})],
];

const replies = (t: FuzzTarget) => ({
  status: 'scheduled', externalAudience: 'contactsOnly',
  scheduledStartDateTime: dtz(t.now + DAY, 'UTC'), scheduledEndDateTime: dtz(t.now + 3 * DAY, 'W. Europe Standard Time'),
  internalReplyMessage: 'Away', externalReplyMessage: '<p>Away</p>',
});

const subscription = (t: FuzzTarget) => ({
  changeType: 'updated', notificationUrl: t.receiverUrl, lifecycleNotificationUrl: t.receiverUrl,
  resource: `/communications/presences/${t.userId}`, expirationDateTime: new Date(t.now + 50 * 60_000).toISOString(),
  clientState: 'abuse', includeResourceData: false,
});

/** Every endpoint the run fuzzes: each presence action at /me and /users/{id}, mailboxSettings, subscriptions, $batch. */
export const ENDPOINTS: Endpoint[] = [
  ...ACTIONS.flatMap(([action, valid]): Endpoint[] => [
    { name: `users/{id}/presence/${action}`, method: 'POST', path: (t) => `/v1.0/users/${t.userId}/presence/${action}`, valid, state: 'presence' },
    { name: `me/presence/${action}`, method: 'POST', path: () => `/v1.0/me/presence/${action}`, valid, state: 'presence' },
  ]),
  { name: 'me/mailboxSettings PATCH', method: 'PATCH', path: () => '/v1.0/me/mailboxSettings', state: 'presence',
    valid: (t) => ({ automaticRepliesSetting: replies(t), timeZone: 'Tokyo Standard Time' }) },
  { name: 'users/{id}/mailboxSettings/automaticRepliesSetting PATCH', method: 'PATCH', state: 'presence',
    path: (t) => `/v1.0/users/${t.userId}/mailboxSettings/automaticRepliesSetting`, valid: replies },
  { name: 'communications/getPresencesByUserId', method: 'POST', path: () => '/v1.0/communications/getPresencesByUserId',
    state: 'presence', valid: (t) => ({ ids: [t.userId] }) },
  { name: 'subscriptions POST', method: 'POST', path: () => '/v1.0/subscriptions', state: 'subscriptions', valid: subscription },
  { name: 'subscriptions/{id} PATCH', method: 'PATCH', path: (t) => `/v1.0/subscriptions/${t.subscriptionId}`, state: 'subscription',
    valid: (t) => ({ expirationDateTime: new Date(t.now + 40 * 60_000).toISOString() }) },
  { name: '$batch items', method: 'POST', path: () => '/v1.0/$batch', state: 'presence', batch: true,
    valid: (t) => ({
      requests: [
        { id: '1', method: 'POST', url: `/users/${t.userId}/presence/setStatusMessage`, headers: { 'content-type': 'application/json' },
          body: ACTIONS[4]![1](t) },
        { id: '2', method: 'PATCH', url: '/me/mailboxSettings', headers: { 'content-type': 'application/json' }, body: { timeZone: 'UTC' } },
        { id: '3', method: 'POST', url: '/me/presence/setUserPreferredPresence', dependsOn: ['1'], headers: { 'content-type': 'application/json' },
          body: ACTIONS[2]![1](t) },
      ],
    }) },
];

// ---------------------------------------------------------------------------------------------------------------
// Hostile values

/**
 * Raw JSON spliced into a body where this marker string stands (JSON.stringify cannot write what these are: nesting
 * deeper than its stack, numbers beyond double, duplicate keys).
 */
const RAW = '\u0001raw\u0001';
class Raw {
  constructor(readonly json: string) {}
}

const deep = fc.record({ n: fc.oneof(fc.integer({ min: 50, max: 600 }), fc.integer({ min: 1_000, max: 60_000 })), kind: fc.constantFrom('[', '{', 'mixed') })
  .map(({ n, kind }) => new Raw(kind === '[' ? '['.repeat(n) + ']'.repeat(n)
    : kind === '{' ? '{"a":'.repeat(n) + '1' + '}'.repeat(n)
      : '[{"a":'.repeat(n) + 'null' + '}]'.repeat(n)));

const HUGE_CHARS = ['a', 'é', '😀', '\u202e', '\u0000', '\ud800', '<', '"', '\\', ' '];
/** Strings from 1,000 to 200,000 characters (the default body limit is 64 KiB: most are refused by size, some just fit). */
const huge = fc.record({ ch: fc.constantFrom(...HUGE_CHARS), n: fc.oneof(fc.integer({ min: 1_000, max: 70_000 }), fc.integer({ min: 100_000, max: 200_000 })) })
  .map(({ ch, n }) => ch.repeat(n));

const UNICODE = [
  '\ud800', '\udfff', 'a\ud83dz', '\udc00\ud800', '\u202eevil\u202c', '\u200f\u05e9\u05dc\u05d5\u05dd', '\u0000', 'a\u0000b', '\ufeff',
  '\u200b', 'e\u0301\u0301\u0301\u0301', '\uffff', '\ufffe', '👩‍👩‍👧‍👦', '\u2028\u2029', '%00', '\\u0000', '${7*7}', '{{7*7}}',
  '<script>alert(1)</script>', "'; DROP TABLE presence; --", '../../etc/passwd', 'Ａｖａｉｌａｂｌｅ', 'AVAILABLE', 'available ', ' Available',
];

const BAD_ZONES = [
  '', ' ', 'Mars/Olympus_Mons', 'UTC+25', '+05:00', 'Etc/GMT+99', 'America/New_York\u0000', 'Pacific Standard Time ', 'pacific standard time',
  '../../../etc/localtime', 'Europe/London/Extra', 'Z', 'GMT-0', 'x'.repeat(65_536), 'Europe/Berlin'.repeat(500), '\ud800',
];
const BAD_DATES = [
  '', '2026-02-30T00:00:00', '2026-13-01T00:00:00', '2026-01-01', '2026-01-01T24:00:00', '2026-01-01T23:59:60', '0000-00-00T00:00:00',
  '+275760-09-13T00:00:00.000Z', '-000001-01-01T00:00:00', '9999-12-31T23:59:59.99999999', '1970-01-01T00:00:00Z', '2026-01-01T00:00:00+99:00',
  'P1D', 'PT-1H', 'P', 'PT0S', 'P999999999999D', 'PT1H\u0000', 'now', 'tomorrow', '1e99', '2026-06-15T10:00:00.1234567890123',
  '1900-01-01T00:00:00', '2026-01-01T00:00:00.000-00:00',
];

/** Unknown zone names, each different and up to 60 KB (just under the default body limit): nothing may keep them. */
const uniqueZone = fc.tuple(fc.nat(), fc.integer({ min: 100, max: 60_000 })).map(([n, len]) => `Bad/Zone_${n}_${'x'.repeat(len)}`);

const protoKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__');

/** An object with an own (enumerable) key such as `__proto__`, which JSON.stringify writes like any other key. */
function withKey(base: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

const protoObject = fc.tuple(protoKey, fc.jsonValue({ maxDepth: 2 })).map(([k, v]) => withKey({}, k, k === 'constructor' ? { prototype: { polluted: v } } : { polluted: v }));

const rawNumber = fc.constantFrom('1e999', '-1e999', '-0', '1E400', '0.0000000000000000000000000000001e-400', '123456789012345678901234567890');

/** A hostile value for one property. */
export const evilValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53 + 1, -(2 ** 63), [], {}, [null], [[]], '', 'x') },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...UNICODE) },
  { weight: 2, arbitrary: fc.constantFrom(...BAD_ZONES) },
  { weight: 1, arbitrary: uniqueZone },
  { weight: 2, arbitrary: fc.constantFrom(...BAD_DATES) },
  { weight: 1, arbitrary: fc.record({ dateTime: fc.constantFrom(...BAD_DATES), timeZone: fc.constantFrom(...BAD_ZONES, 'UTC') }) },
  { weight: 1, arbitrary: protoObject },
  { weight: 1, arbitrary: huge },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: rawNumber.map((n) => new Raw(n)) },
);

// ---------------------------------------------------------------------------------------------------------------
// Mutations of a valid body

type Path = Array<string | number>;

function paths(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...at, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  return out;
}

/** A copy of `root` with `fn` applied to the value at `path` (the container's key, for removals and additions). */
function edit(root: unknown, path: Path, fn: (container: Record<string | number, unknown>, key: string | number) => void): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  if (path.length === 0) return copy;
  let c = copy;
  for (const k of path.slice(0, -1)) c = c[k] as Record<string | number, unknown>;
  fn(c, path.at(-1)!);
  return copy;
}

type Mutation = { kind: 'replace' | 'remove' | 'add' | 'whole' | 'duplicate'; pick: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('replace', 'replace', 'replace', 'remove', 'add', 'whole', 'duplicate'),
  pick: fc.nat(),
  key: fc.oneof(protoKey, fc.string({ maxLength: 12 }), fc.constantFrom(...UNICODE)),
  value: evilValue,
});

function mutate(valid: unknown, m: Mutation): unknown {
  if (m.kind === 'whole') return m.value;
  const all = paths(valid);
  const candidates = m.kind === 'add' ? all.filter((p) => isObject(at(valid, p))) : all.slice(1);
  if (candidates.length === 0) return m.value;
  const path = candidates[m.pick % candidates.length]!;
  if (m.kind === 'add') {
    if (path.length === 0) return withKey(valid as Record<string, unknown>, m.key, m.value);
    return edit(valid, path, (c, k) => { c[k] = withKey(c[k] as Record<string, unknown>, m.key, m.value); });
  }
  if (m.kind === 'duplicate') {
    // A key written twice, the second time hostile: which one a parser keeps must not matter.
    const key = path.at(-1);
    if (typeof key !== 'string') return edit(valid, path, (c, k) => { c[k] = m.value; });
    return edit(valid, path, (c, k) => { c[k] = new Raw(`${JSON.stringify(c[k])},${JSON.stringify(key)}:${serialize(m.value)}`); });
  }
  return edit(valid, path, (c, k) => {
    if (m.kind === 'remove') {
      if (Array.isArray(c)) c.splice(Number(k), 1);
      else delete c[k];
    } else {
      c[k] = m.value;
    }
  });
}

const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Raw);
const at = (v: unknown, p: Path) => p.reduce<unknown>((c, k) => (c as Record<string | number, unknown>)[k], v);

/** JSON text, with Raw fragments spliced in. */
export function serialize(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Raw) {
      raws.push(v.json);
      return RAW;
    }
    return v;
  }) ?? 'null';
  if (raws.length === 0) return text;
  let i = 0;
  const marker = JSON.stringify(RAW);
  return text.split(marker).reduce((acc, part, n) => (n === 0 ? part : acc + raws[i++] + part), '');
}

// ---------------------------------------------------------------------------------------------------------------
// Whole bodies and content types

const GARBAGE: Array<string | Buffer> = [
  '', ' ', '{', '}', '{"', '[', 'null', 'undefined', 'NaN', '{a:1}', "{'a':1}", '{"a":1,}', '{"a":1}{"b":2}', '\ufeff{}', '\u0000{}',
  '{"a":"\\ud800"}', '{"a":"\\u0000"}', '{"a":"\\uZZZZ"}', '{"a":01}', '{"a":.5}', '{"a":+1}', '{"a":1e}', '/* */{}', '{}\n//',
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), Buffer.from([0xfe, 0xff, 0x00, 0x7b, 0x00, 0x7d]),
  Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]),
];

const CONTENT_TYPES = [
  'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=utf-16',
  'application/json; charset=latin1', 'APPLICATION/JSON', 'application/json;odata.metadata=full', 'application/jsonx', 'json', '*/*', '',
  'application/json, text/plain', 'application/merge-patch+json', `application/json; ${'x'.repeat(10_000)}=1`,
];

const contentType = fc.oneof(
  { weight: 17, arbitrary: fc.constant<string | null>('application/json') },
  { weight: 2, arbitrary: fc.constantFrom<string | null>(...CONTENT_TYPES) },
  { weight: 1, arbitrary: fc.constant<string | null>(null) },
);

/** Adversarial cases for one endpoint. */
export function fuzzCases(ep: Endpoint, t: FuzzTarget): fc.Arbitrary<FuzzCase> {
  const valid = ep.valid(t);
  const mutated = fc.tuple(mutation, contentType).map(([m, ct]): FuzzCase => {
    const value = mutate(valid, m);
    return { body: serialize(value), contentType: ct, what: `${m.kind} ${describe(m.value)}` };
  });
  const garbage = fc.tuple(fc.constantFrom(...GARBAGE), contentType).map(([b, ct]): FuzzCase => ({ body: b, contentType: ct, what: 'garbage bytes' }));
  return fc.oneof({ weight: 9, arbitrary: mutated }, { weight: 1, arbitrary: garbage });
}

function describe(v: unknown): string {
  if (v instanceof Raw) return `raw(${v.json.length} chars: ${v.json.slice(0, 12)}…)`;
  if (typeof v === 'string') return v.length > 40 ? `string(${v.length} × ${JSON.stringify(v.slice(0, 2))})` : JSON.stringify(v);
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/**
 * Only loopback URLs in a body: a fuzzed subscription must never make the server call out. Any `http:`/`https:` (or
 * other scheme) not followed by `//127.0.0.1:` or `//localhost:` disqualifies the case.
 */
export function onlyLoopbackUrls(body: string | Buffer): boolean {
  const text = typeof body === 'string' ? body : body.toString('latin1');
  for (const m of text.matchAll(/(?:https?|wss?|ftp|file|gopher):/gi)) {
    const rest = text.slice(m.index + m[0].length, m.index + m[0].length + 14).toLowerCase();
    if (!rest.startsWith('//127.0.0.1:') && !rest.startsWith('//localhost:')) return false;
  }
  return true;
}
