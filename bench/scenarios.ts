/**
 * The scenarios of `npm run bench`, as a table. Each one says which requests make up its load, what a correct
 * answer looks like (checked once before the load, on a sample request), the target it is judged against and,
 * optionally, a check after the load (e.g. that writes really landed).
 *
 * To add a scenario append an entry to SCENARIOS; `--store redis` needs no change here.
 * The bare baseline server replays Presently's answer to the scenario's sample request (the first request of its
 * load), so both servers send the same bytes.
 */
import { randomInt } from 'node:crypto';
import { call, mapLimit, type BenchRequest, type HttpResult } from './http.ts';
import { benchUsers, createUsers, spread, type BenchUsers } from './users.ts';

export const TENANT = '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01';
export const ADELE = 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3';
/** The dev app: an application token's `appid`, hence the `sessionId` setPresence must be given. */
export const DEV_APP = '22553876-f5ab-4529-bffb-cfe50aa89f87';
/** Graph's documented maximum for getPresencesByUserId. */
export const MAX_IDS = 650;
/**
 * With at most this many users, the read loads send fixed requests covering every user (as the bench always did);
 * with more, each request is made for the users next in the load's rotation (bench/users.ts), all over the range.
 */
const FIXED_MAX = MAX_IDS;
/** Lists the get-presences-650-new load sends in turn at least: more than the server's answer cache holds (32). */
const NEW_LISTS = 256;
/** The most users a check after a write load reads back; with more written, an even spread of them. */
export const VERIFY_MAX = 10_000;

/** What the scenarios get from the bench: tokens and users made on the Presently under test. */
export interface BenchContext {
  /** Presently's base URL — for set-up and checks only; the load goes to whichever server is being measured. */
  url: string;
  /** Delegated token of Adele (default scopes: Presence.Read.All Presence.ReadWrite). */
  adeleToken: string;
  /** Application token with the role Presence.ReadWrite.All. */
  appToken: string;
  /** The users the bench created (650 by default), besides the demo tenant's own: ids computed, never listed. */
  users: BenchUsers;
  /** Users the checks after the write loads read back (so written ones), for the kill -9 check's sample. */
  written: Set<string>;
}

/** The requests of one load. */
export type Load =
  /** The same request again and again (built once). */
  | { kind: 'fixed'; request: BenchRequest }
  /** A fixed list, each connection cycling through it (all built once, so no per-request cost in the client). */
  | { kind: 'cycle'; requests: BenchRequest[] }
  /** A new request for each send: `n` counts from 0 over one load, `tag` is unique to that load. */
  | { kind: 'generate'; request: (n: number, tag: string) => BenchRequest };

export type Target =
  /** Presently's req/s must be at least `min` × the bare server's. */
  | { metric: 'ratio'; min: number }
  /** Presently's p99 latency must be below `maxMs`. */
  | { metric: 'p99'; maxMs: number };

/** What a check after the load reports: problems fail the bench, notes are printed. */
export interface Verdict {
  problems: string[];
  notes: string[];
}

export interface Scenario {
  /** Short id, used by `--only` and in the JSON. */
  name: string;
  /** What the table shows. */
  title: string;
  /** One paragraph for BENCHMARKS.md and `--list`. */
  description: string;
  target?: Target;
  /**
   * `--store redis`: the node on Redis must reach at least this share of the same scenario's req/s on a node on
   * SQLite, measured in the same run (issue 5).
   */
  redisTarget?: number;
  /**
   * Runs once on each Presently before its sample request and warm-up (the state the load needs, beyond the users);
   * resolves to a note for the results.
   */
  prepare?(ctx: BenchContext): Promise<string>;
  load(ctx: BenchContext): Load;
  /**
   * Checks Presently's answer to the sample request `req` (already known to be 2xx); returns a problem or nothing.
   */
  checkSample?(res: HttpResult, ctx: BenchContext, req: BenchRequest): string | undefined;
  /**
   * Runs after the measured Presently load; `tag` and `built` are those the load's generator was called with,
   * `connections` the load's concurrency (at most that many of the last generated requests were never sent).
   */
  verify?(ctx: BenchContext, load: { tag: string; built: number; connections: number }): Promise<Verdict>;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function bearer(token: string, json = false): Record<string, string> {
  return json ? { authorization: `Bearer ${token}`, 'content-type': 'application/json' } : { authorization: `Bearer ${token}` };
}

interface PresenceJson {
  id?: string;
  availability?: string;
  activity?: string;
  statusMessage?: { message?: { content?: string } } | null;
}

/** The pairs an application may set for its session (docs/api/sessions.md). */
const SESSION_PAIRS = [
  ['Available', 'Available'], ['Busy', 'InACall'], ['Busy', 'InAConferenceCall'], ['Away', 'Away'], ['DoNotDisturb', 'Presenting'],
] as const;

/**
 * The pair the set-presence load sends with its request `n` over `users` users: it moves on by one every round over
 * the users (so a user's consecutive requests differ) and is staggered across users (so every pair is in every round).
 */
function sessionPair(n: number, users: number): (typeof SESSION_PAIRS)[number] {
  return SESSION_PAIRS[(Math.floor(n / users) + (n % users)) % SESSION_PAIRS.length]!;
}

/** Users per $batch of the batch-20-gets scenario: Graph's maximum. */
const BATCH_SIZE = 20;

/**
 * The id of the user a load tagged `tag` addresses with its request `n` (its rotation: bench/users.ts), going round
 * the first `within` positions of the rotation (all users by default; fewer are still spread over the whole range).
 */
function userAt(ctx: BenchContext, tag: string, n: number, within = ctx.users.count): string {
  const { users } = ctx;
  return users.id(users.at((users.start(tag) + n) % within));
}

/** The ids of every user, in rotation order: for the fixed loads of small runs. */
function allUsers(ctx: BenchContext): string[] {
  return Array.from({ length: ctx.users.count }, (_, p) => ctx.users.id(ctx.users.at(p)));
}

/**
 * The offsets k (request n addresses offset n mod count of the rotation) a check after a write load reads back: all
 * those written, or VERIFY_MAX of them spread evenly; `ids` are their users, remembered for the kill -9 check.
 */
function writtenSample(ctx: BenchContext, tag: string, built: number, within = ctx.users.count): { offsets: number[]; ids: string[]; written: number } {
  const written = Math.min(built, within);
  const offsets = spread(written, VERIFY_MAX);
  const ids = offsets.map((k) => userAt(ctx, tag, k, within));
  for (const id of ids) if (ctx.written.size < VERIFY_MAX) ctx.written.add(id);
  return { offsets, ids, written };
}

function sampleNote(checked: number, written: number): string {
  return checked < written ? ` (a sample: ${checked} of the ${written} users written, spread over them)` : '';
}

function isPresence(v: unknown, id: string): boolean {
  const p = v as PresenceJson | undefined;
  return typeof p === 'object' && p !== null && p.id === id && 'availability' in p && 'activity' in p;
}

/** Reads the presences of `ids` through getPresencesByUserId (chunks of 650), in the order of `ids`. */
export async function readPresences(ctx: BenchContext, ids: string[]): Promise<PresenceJson[]> {
  const out: PresenceJson[] = [];
  for (let i = 0; i < ids.length; i += MAX_IDS) {
    const chunk = ids.slice(i, i + MAX_IDS);
    const res = await call(ctx.url, 'POST', '/v1.0/communications/getPresencesByUserId', { token: ctx.adeleToken, body: { ids: chunk } });
    const value = (res.json as { value?: PresenceJson[] }).value ?? [];
    const byId = new Map(value.map((p) => [p.id, p]));
    for (const id of chunk) {
      const p = byId.get(id);
      if (!p) throw new Error(`getPresencesByUserId did not return ${id}`);
      out.push(p);
    }
  }
  return out;
}

/**
 * Tokens for Adele and the dev app (valid `expiresIn` seconds), and `count` new users in the demo tenant, made through
 * `url` with the admin API's bulk route (a million in minutes); `setupMs` is how long the users took.
 */
export async function setUp(url: string, count: number, expiresIn = 3600): Promise<BenchContext & { setupMs: number }> {
  const token = async (body: object) =>
    ((await call(url, 'POST', '/_presently/tokens', { body: { ...body, expiresIn } })).json as { access_token: string }).access_token;
  const adeleToken = await token({ userId: ADELE });
  const appToken = await token({ roles: ['Presence.ReadWrite.All'] });
  const users = benchUsers(count, randomInt(2 ** 31));
  const t0 = performance.now();
  await createUsers(url, TENANT, users, Date.now().toString(36));
  return { url, adeleToken, appToken, users, written: new Set(), setupMs: performance.now() - t0 };
}

// ---------------------------------------------------------------------------------------------------------------
// The table

const getPresence = (ctx: BenchContext, id: string): BenchRequest => ({ method: 'GET', path: `/v1.0/users/${id}/presence`, headers: bearer(ctx.adeleToken) });

const batchOf = (ctx: BenchContext, ids: string[]): BenchRequest => ({
  method: 'POST',
  path: '/v1.0/$batch',
  headers: bearer(ctx.adeleToken, true),
  body: JSON.stringify({ requests: ids.map((id, k) => ({ id: String(k + 1), method: 'GET', url: `/users/${id}/presence` })) }),
});

const presencesOf = (ctx: BenchContext, ids: string[]): BenchRequest => ({
  method: 'POST',
  path: '/v1.0/communications/getPresencesByUserId',
  headers: bearer(ctx.adeleToken, true),
  body: JSON.stringify({ ids }),
});

/** The users a request made by batchOf or presencesOf names, in order. */
function idsIn(req: BenchRequest): string[] {
  const body = JSON.parse(req.body ?? '{}') as { ids?: string[]; requests?: Array<{ url: string }> };
  return body.ids ?? (body.requests ?? []).map((r) => r.url.split('/')[2]!);
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'get-own',
    title: 'GET /me/presence',
    description:
      "`GET /v1.0/me/presence` with Adele's delegated token: token validation, one store read, the presence view and " +
      'its JSON — the cheapest authenticated call (on SQLite answered by the express lane once the token and the ' +
      'snapshot are in memory: docs/contributing/express-lanes.md).',
    target: { metric: 'ratio', min: 0.7 },
    redisTarget: 0.7,
    load: (ctx) => ({ kind: 'fixed', request: { method: 'GET', path: '/v1.0/me/presence', headers: bearer(ctx.adeleToken) } }),
    checkSample: (res) => (isPresence(res.json, ADELE) ? undefined : `not Adele's presence: ${res.text.slice(0, 300)}`),
  },
  {
    name: 'get-other',
    title: 'GET /users/{id}/presence',
    description:
      "`GET /v1.0/users/{id}/presence` with Adele's delegated token (Presence.Read.All). Up to 650 users, each " +
      'connection cycles through all of them; with more, every request reads the next user of the load\'s rotation, ' +
      'all over the range (each user once per round), so reads hit different rows (in the read cache on SQLite, which ' +
      'holds up to --read-cache users, a million by default; in Redis on Redis).',
    target: { metric: 'ratio', min: 0.7 },
    redisTarget: 0.7,
    load: (ctx) => (ctx.users.count <= FIXED_MAX
      ? { kind: 'cycle', requests: allUsers(ctx).map((id) => getPresence(ctx, id)) }
      : { kind: 'generate', request: (n, tag) => getPresence(ctx, userAt(ctx, tag, n)) }),
    checkSample: (res, _ctx, req) => {
      const id = req.path.split('/')[3]!;
      return isPresence(res.json, id) ? undefined : `not the presence of ${id}: ${res.text.slice(0, 300)}`;
    },
  },
  {
    name: 'set-status-message',
    title: 'POST setStatusMessage',
    description:
      '`POST /v1.0/users/{id}/presence/setStatusMessage` with an application token (Presence.ReadWrite.All), going ' +
      "round the bench users (in the load's rotation: all over the range) with a different message on every request " +
      '(`<tag>-<n>`), so every request is a real write (committed to SQLite before the answer with `--store sqlite`). ' +
      'After the load the users written are read back (up to 10,000 of them, spread evenly, when more were written): ' +
      'each must hold a message this load sent to it.',
    target: { metric: 'ratio', min: 0.5 },
    redisTarget: 0.5,
    load: (ctx) => messageLoad(ctx, ctx.users.count),
    verify: (ctx, { tag, built }) => verifyMessages(ctx, tag, built, ctx.users.count),
  },
  {
    name: 'set-status-message-again',
    title: 'POST setStatusMessage, rows grown',
    description:
      'set-status-message over the first 100,000 users of the rotation (all of them when there are fewer; spread over ' +
      'the whole range either way), each of whom was given a status message before the warm-up (`$batch`es of 20), so ' +
      "every write replaces a message: the steady state of an organisation whose users have set one before. A user's " +
      'first message makes their row longer and splits b-tree pages, which set-status-message pays for at every write ' +
      'at a million users (its 8 seconds reach 3 % of them) and not at a thousand. Checked as set-status-message.',
    target: { metric: 'ratio', min: 0.5 },
    prepare: async (ctx) => {
      const within = grownUsers(ctx);
      const t0 = performance.now();
      await giveMessages(ctx, within);
      return `${within.toLocaleString('en-US')} users given a status message first, in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
    },
    load: (ctx) => messageLoad(ctx, grownUsers(ctx)),
    verify: (ctx, { tag, built }) => verifyMessages(ctx, tag, built, grownUsers(ctx)),
  },
  {
    name: 'set-presence',
    title: 'POST setPresence',
    description:
      '`POST /v1.0/users/{id}/presence/setPresence` with an application token (Presence.ReadWrite.All, the dev app, ' +
      "whose id is the `sessionId`), going round the bench users (in the load's rotation) and over the five allowed " +
      'pairs (Available/Available, Busy/InACall, Busy/InAConferenceCall, Away/Away, DoNotDisturb/Presenting; the pair ' +
      "moves on every round, so each request changes the user's presence), `expirationDuration` PT1H. Every request " +
      'is a real write (the session replaced, the view recomputed, a new due instant). After the load the users ' +
      'written are read back (up to 10,000, spread evenly): each must show the pair last sent to it.',
    target: { metric: 'ratio', min: 0.5 },
    load: (ctx) => ({
      kind: 'generate',
      request: (n, tag) => {
        const [availability, activity] = sessionPair(n, ctx.users.count);
        return {
          method: 'POST',
          path: `/v1.0/users/${userAt(ctx, tag, n)}/presence/setPresence`,
          headers: bearer(ctx.appToken, true),
          body: JSON.stringify({ sessionId: DEV_APP, availability, activity, expirationDuration: 'PT1H' }),
        };
      },
    }),
    checkSample: (res) => (res.status === 200 && res.body.length === 0 ? undefined : `expected 200 with no body, got ${res.status}: ${res.text.slice(0, 300)}`),
    async verify(ctx, { tag, built, connections }) {
      const L = ctx.users.count;
      const { offsets, ids, written } = writtenSample(ctx, tag, built);
      const presences = await readPresences(ctx, ids);
      let exact = 0;
      let previous = 0;
      const wrong: string[] = [];
      presences.forEach((p, j) => {
        const k = offsets[j]!;
        const last = k + Math.floor((built - 1 - k) / L) * L; // the last request generated for this user
        const got = `${p.availability}/${p.activity}`;
        const want = sessionPair(last, L).join('/');
        if (got === want) exact++;
        // The last ≤ `connections` generated requests may never have been sent: then the round before is the last.
        else if (last >= built - connections && last - L >= 0 && got === sessionPair(last - L, L).join('/')) previous++;
        else wrong.push(`${ids[j]}: ${got} (expected ${want})`);
      });
      const problems = wrong.length ? [`${wrong.length}/${ids.length} users do not show the pair last sent to them, e.g. ${wrong.slice(0, 3).join('; ')}`] : [];
      const notes = [
        `writes read back: ${exact + previous}/${ids.length} users show the pair last sent to them (${previous} of them the ` +
          `round before, whose next request was among the last ≤ ${connections} generated and never sent); ${built} requests generated` +
          sampleNote(ids.length, written),
      ];
      return { problems, notes };
    },
  },
  {
    name: 'batch-20-gets',
    title: 'POST $batch ×20 GET presence',
    description:
      "`POST /v1.0/$batch` with 20 `GET /users/{id}/presence` items (Graph's maximum) for 20 different bench users, " +
      "Adele's delegated token (Presence.Read.All) on the envelope, handed to every item. Up to 650 users, each " +
      'connection cycles through batches covering all of them; with more, every batch takes the next 20 users of the ' +
      "load's rotation. Each item runs through the whole app (inject), so this is 20 authenticated reads plus the " +
      'envelope: recorded, no target.',
    load: (ctx) => {
      if (ctx.users.count > FIXED_MAX) {
        return { kind: 'generate', request: (n, tag) => batchOf(ctx, Array.from({ length: BATCH_SIZE }, (_, k) => userAt(ctx, tag, n * BATCH_SIZE + k))) };
      }
      const all = allUsers(ctx);
      return {
        kind: 'cycle',
        requests: Array.from({ length: Math.ceil(all.length / BATCH_SIZE) }, (_, b) =>
          batchOf(ctx, Array.from({ length: BATCH_SIZE }, (_, k) => all[(b * BATCH_SIZE + k) % all.length]!))),
      };
    },
    checkSample(res, _ctx, req) {
      const responses = (res.json as { responses?: Array<{ id?: string; status?: number; body?: unknown }> } | undefined)?.responses;
      if (!Array.isArray(responses)) return `no responses array: ${res.text.slice(0, 300)}`;
      if (responses.length !== BATCH_SIZE) return `${responses.length} responses for ${BATCH_SIZE} requests`;
      const ids = idsIn(req);
      for (let k = 0; k < BATCH_SIZE; k++) {
        const item = responses.find((r) => r.id === String(k + 1));
        if (!item) return `no response for request ${k + 1}`;
        if (item.status !== 200) return `request ${k + 1} answered ${item.status}: ${JSON.stringify(item.body).slice(0, 300)}`;
        if (!isPresence(item.body, ids[k]!)) return `request ${k + 1} is not the presence of ${ids[k]}: ${JSON.stringify(item.body).slice(0, 300)}`;
      }
      return undefined;
    },
  },
  {
    name: 'get-presences-650',
    title: 'POST getPresencesByUserId ×650',
    description:
      "`POST /v1.0/communications/getPresencesByUserId` with 650 bench users' ids (Graph's maximum) and Adele's " +
      'delegated token: one batched store read and a ~650-item JSON answer. Up to 650 users, the same request (all of ' +
      "them) every time; with more, the load's rotation cut into runs of 650, one request each, sent in turn.",
    target: { metric: 'p99', maxMs: 25 },
    load: (ctx) => {
      if (ctx.users.count <= FIXED_MAX) return { kind: 'fixed', request: presencesOf(ctx, allUsers(ctx)) };
      // The rotation cut into runs of 650 positions, a request each, sent in turn.
      return listsLoad(ctx, MAX_IDS, MAX_IDS, Math.ceil(ctx.users.count / MAX_IDS));
    },
    checkSample: checkPresences,
  },
  {
    name: 'get-presences-650-new',
    title: 'POST getPresencesByUserId ×650 new lists',
    description:
      'The same request as get-presences-650, but a list the server has not answered lately every time, at any number ' +
      'of users: at least 256 lists (runs of the rotation, or windows of it at as many offsets) sent in turn, so ' +
      "the answer cache (32 lists) never serves one. get-presences-650 at 1,000 users polls two lists, whose answers are " +
      'reused; this one measures the answer being made, the same work at 1,000 users as at a million.',
    target: { metric: 'p99', maxMs: 25 },
    load: (ctx) => {
      const count = ctx.users.count;
      const runs = Math.ceil(count / MAX_IDS);
      const stride = runs >= NEW_LISTS ? MAX_IDS : Math.max(1, Math.floor(count / NEW_LISTS));
      return listsLoad(ctx, Math.min(MAX_IDS, count), stride, Math.max(runs, NEW_LISTS));
    },
    checkSample: checkPresences,
  },
];

/**
 * getPresencesByUserId over `lists` lists of `size` users each: list r is the rotation's positions from r × `stride`
 * on. Each request is made once, when first sent (a 25 KB body of 650 ids costs the load generator more than sending
 * it); a load sends them in turn from the list its start falls in.
 */
function listsLoad(ctx: BenchContext, size: number, stride: number, lists: number): Load {
  const { users } = ctx;
  const made = new Map<number, BenchRequest>();
  const list = (r: number) => {
    let req = made.get(r);
    if (!req) made.set(r, (req = presencesOf(ctx, Array.from({ length: size }, (_, k) => users.id(users.at((r * stride + k) % users.count))))));
    return req;
  };
  return { kind: 'generate', request: (n, tag) => list((Math.floor(users.start(tag) / stride) + n) % lists) };
}

/** A getPresencesByUserId answer holds one presence for each id asked. */
function checkPresences(res: HttpResult, _ctx: BenchContext, req: BenchRequest): string | undefined {
  const value = (res.json as { value?: unknown[] } | undefined)?.value;
  if (!Array.isArray(value)) return `no value array: ${res.text.slice(0, 300)}`;
  const want = idsIn(req);
  if (value.length !== want.length) return `${value.length} presences for ${want.length} ids`;
  const got = new Set(value.map((p) => (p as PresenceJson).id));
  const missing = want.filter((id) => !got.has(id));
  return missing.length ? `${missing.length} ids missing from the answer, e.g. ${missing[0]}` : undefined;
}

/**
 * After a setStatusMessage load over the first `within` positions of the rotation: each user written (up to 10,000,
 * spread) holds a message this load sent to it.
 */
async function verifyMessages(ctx: BenchContext, tag: string, built: number, within: number): Promise<Verdict> {
  const L = within;
  const { offsets, ids, written } = writtenSample(ctx, tag, built, within);
  const presences = await readPresences(ctx, ids);
  const pattern = new RegExp(`^${tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`);
  let landed = 0;
  let latest = 0;
  const wrong: string[] = [];
  presences.forEach((p, j) => {
    const k = offsets[j]!;
    const content = p.statusMessage?.message?.content;
    const m = content === undefined ? null : pattern.exec(content);
    const n = m ? Number(m[1]) : NaN;
    if (!m || n % L !== k || n >= built) {
      wrong.push(`${ids[j]}: ${JSON.stringify(content ?? null)}`);
      return;
    }
    landed++;
    if (n + L >= built) latest++;
  });
  const problems = wrong.length ? [`${wrong.length}/${ids.length} users do not hold a message of this load, e.g. ${wrong.slice(0, 3).join('; ')}`] : [];
  const notes = [
    `writes read back: ${landed}/${ids.length} users hold a message of this load (${latest} the last one generated for them; ` +
      `${built} requests generated, the last ≤ connections of them never sent)${sampleNote(ids.length, written)}`,
  ];
  return { problems, notes };
}

/** The most users set-status-message-again writes: its prepare gives each a status message first. */
const GROWN_USERS = 100_000;

/** How many users set-status-message-again writes: the first GROWN_USERS of the rotation, or all of them. */
const grownUsers = (ctx: BenchContext) => Math.min(ctx.users.count, GROWN_USERS);

/** setStatusMessage going round the first `within` positions of the rotation, a new message each request. */
function messageLoad(ctx: BenchContext, within: number): Load {
  return {
    kind: 'generate',
    request: (n, tag) => ({
      method: 'POST',
      path: `/v1.0/users/${userAt(ctx, tag, n, within)}/presence/setStatusMessage`,
      headers: bearer(ctx.appToken, true),
      body: JSON.stringify({ statusMessage: { message: { content: `${tag}-${n}`, contentType: 'text' } } }),
    }),
  };
}

/** Gives the users at the first `within` positions of the rotation a status message: `$batch`es of 20, 16 in flight. */
async function giveMessages(ctx: BenchContext, within: number): Promise<void> {
  const batches = Array.from({ length: Math.ceil(within / BATCH_SIZE) }, (_, b) => b);
  await mapLimit(batches, 16, async (b) => {
    const requests = Array.from({ length: Math.min(BATCH_SIZE, within - b * BATCH_SIZE) }, (_, i) => ({
      id: String(i), method: 'POST', url: `/users/${ctx.users.id(ctx.users.at(b * BATCH_SIZE + i))}/presence/setStatusMessage`,
      headers: { 'content-type': 'application/json' },
      body: { statusMessage: { message: { content: `grown ${b * BATCH_SIZE + i}`, contentType: 'text' } } },
    }));
    const res = await call(ctx.url, 'POST', '/v1.0/$batch', { token: ctx.appToken, body: { requests } });
    const failed = (res.json as { responses: { status: number }[] }).responses.find((r) => r.status !== 200);
    if (failed) throw new Error(`giving users a status message: a $batch item answered ${failed.status}`);
  });
}

/** The most users the kill -9 check reads back before and after the restart. */
export const DURABILITY_MAX = 20_000;

/**
 * The users the kill -9 check reads: all of them, up to DURABILITY_MAX; beyond, those the write checks read back
 * (written by the loads) and an even spread of the rest.
 */
export function durabilitySample(ctx: BenchContext): { ids: string[]; note: string } {
  const { count } = ctx.users;
  if (count <= DURABILITY_MAX) return { ids: allUsers(ctx), note: `all ${count}` };
  const ids = new Set(ctx.written);
  const written = ids.size;
  for (const i of spread(count, DURABILITY_MAX - written)) ids.add(ctx.users.id(i));
  return { ids: [...ids], note: `a sample of ${ids.size} of the ${count} (the ${written} the write checks read back, and an even spread of the rest)` };
}

/** The scenarios `--store redis` and `--nodes` run unless `--only` says otherwise. */
export const REDIS_SCENARIOS = ['get-own', 'get-other', 'set-status-message', 'set-presence'];

export function describeTarget(t: Target | undefined): string {
  if (!t) return '—';
  return t.metric === 'ratio' ? `≥ ${Math.round(t.min * 100)}% of bare` : `p99 < ${t.maxMs} ms`;
}
