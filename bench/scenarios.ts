/**
 * The scenarios of `npm run bench`, as a table. Each one says which requests make up its load, what a correct
 * answer looks like (checked once before the load, on a sample request), the target it is judged against and,
 * optionally, a check after the load (e.g. that writes really landed).
 *
 * To add a scenario append an entry to SCENARIOS; `--store redis` needs no change here.
 * The bare baseline server replays Presently's answer to the scenario's sample request (the first request of its
 * load), so both servers send the same bytes.
 */
import { call, mapLimit, type BenchRequest, type HttpResult } from './http.ts';

export const TENANT = '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01';
export const ADELE = 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3';
/** The dev app: an application token's `appid`, hence the `sessionId` setPresence must be given. */
export const DEV_APP = '22553876-f5ab-4529-bffb-cfe50aa89f87';
/** Graph's documented maximum for getPresencesByUserId. */
export const MAX_IDS = 650;

/** What the scenarios get from the bench: tokens and users made on the Presently under test. */
export interface BenchContext {
  /** Presently's base URL — for set-up and checks only; the load goes to whichever server is being measured. */
  url: string;
  /** Delegated token of Adele (default scopes: Presence.Read.All Presence.ReadWrite). */
  adeleToken: string;
  /** Application token with the role Presence.ReadWrite.All. */
  appToken: string;
  /** Ids of the users the bench created (650 by default), besides the demo tenant's own. */
  users: string[];
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
  load(ctx: BenchContext): Load;
  /** Checks Presently's answer to the sample request (already known to be 2xx); returns a problem or nothing. */
  checkSample?(res: HttpResult, ctx: BenchContext): string | undefined;
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

/** Tokens for Adele and the dev app (valid `expiresIn` seconds), and `count` new users in the demo tenant, made through `url`. */
export async function setUp(url: string, count: number, expiresIn = 3600): Promise<BenchContext & { setupMs: number }> {
  const token = async (body: object) =>
    ((await call(url, 'POST', '/_presently/tokens', { body: { ...body, expiresIn } })).json as { access_token: string }).access_token;
  const adeleToken = await token({ userId: ADELE });
  const appToken = await token({ roles: ['Presence.ReadWrite.All'] });
  const t0 = performance.now();
  const stamp = Date.now().toString(36);
  const users = await mapLimit(Array.from({ length: count }, (_, i) => i), 8, async (i) => {
    const res = await call(url, 'POST', `/_presently/tenants/${TENANT}/users`, {
      body: { userPrincipalName: `bench${i}-${stamp}@contoso.example`, displayName: `Bench ${i}` },
      expect: 201,
    });
    return (res.json as { id: string }).id;
  });
  return { url, adeleToken, appToken, users, setupMs: performance.now() - t0 };
}

// ---------------------------------------------------------------------------------------------------------------
// The table

export const SCENARIOS: Scenario[] = [
  {
    name: 'get-own',
    title: 'GET /me/presence',
    description:
      "`GET /v1.0/me/presence` with Adele's delegated token: token validation, one store read, the presence view and " +
      'its JSON — the cheapest authenticated call.',
    target: { metric: 'ratio', min: 0.5 },
    redisTarget: 0.6,
    load: (ctx) => ({ kind: 'fixed', request: { method: 'GET', path: '/v1.0/me/presence', headers: bearer(ctx.adeleToken) } }),
    checkSample: (res) => (isPresence(res.json, ADELE) ? undefined : `not Adele's presence: ${res.text.slice(0, 300)}`),
  },
  {
    name: 'get-other',
    title: 'GET /users/{id}/presence',
    description:
      "`GET /v1.0/users/{id}/presence` with Adele's delegated token (Presence.Read.All), each connection cycling through " +
      'the 650 bench users, so reads hit different rows.',
    redisTarget: 0.6,
    load: (ctx) => ({
      kind: 'cycle',
      requests: ctx.users.map((id) => ({ method: 'GET', path: `/v1.0/users/${id}/presence`, headers: bearer(ctx.adeleToken) })),
    }),
    checkSample: (res, ctx) => (isPresence(res.json, ctx.users[0]!) ? undefined : `not the user's presence: ${res.text.slice(0, 300)}`),
  },
  {
    name: 'set-status-message',
    title: 'POST setStatusMessage',
    description:
      '`POST /v1.0/users/{id}/presence/setStatusMessage` with an application token (Presence.ReadWrite.All), rotating ' +
      'over the 650 bench users with a different message on every request (`<tag>-<n>`), so every request is a real ' +
      'write (committed to SQLite before the answer with `--store sqlite`). After the load every user is read back: ' +
      'each must hold a message this load sent to it.',
    target: { metric: 'ratio', min: 0.3 },
    redisTarget: 0.5,
    load: (ctx) => ({
      kind: 'generate',
      request: (n, tag) => ({
        method: 'POST',
        path: `/v1.0/users/${ctx.users[n % ctx.users.length]}/presence/setStatusMessage`,
        headers: bearer(ctx.appToken, true),
        body: JSON.stringify({ statusMessage: { message: { content: `${tag}-${n}`, contentType: 'text' } } }),
      }),
    }),
    async verify(ctx, { tag, built }) {
      const problems: string[] = [];
      const notes: string[] = [];
      const users = ctx.users;
      const presences = await readPresences(ctx, users);
      const pattern = new RegExp(`^${tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`);
      let landed = 0;
      let latest = 0;
      const wrong: string[] = [];
      presences.forEach((p, idx) => {
        if (idx >= built) return; // never written by this load
        const content = p.statusMessage?.message?.content;
        const m = content === undefined ? null : pattern.exec(content);
        const n = m ? Number(m[1]) : NaN;
        if (!m || n % users.length !== idx || n >= built) {
          wrong.push(`${users[idx]}: ${JSON.stringify(content ?? null)}`);
          return;
        }
        landed++;
        if (n + users.length >= built) latest++;
      });
      const expected = Math.min(built, users.length);
      if (wrong.length) problems.push(`${wrong.length}/${expected} users do not hold a message of this load, e.g. ${wrong.slice(0, 3).join('; ')}`);
      notes.push(
        `writes read back: ${landed}/${expected} users hold a message of this load (${latest} the last one generated for them; ` +
          `${built} requests generated, the last ≤ connections of them never sent)`,
      );
      return { problems, notes };
    },
  },
  {
    name: 'set-presence',
    title: 'POST setPresence',
    description:
      '`POST /v1.0/users/{id}/presence/setPresence` with an application token (Presence.ReadWrite.All, the dev app, ' +
      "whose id is the `sessionId`), rotating over the 650 bench users and over the five allowed pairs (Available/" +
      'Available, Busy/InACall, Busy/InAConferenceCall, Away/Away, DoNotDisturb/Presenting; the pair moves on every ' +
      'round, so each request changes the user\'s presence), `expirationDuration` PT1H. Every request is a real write ' +
      '(the session replaced, the view recomputed, a new due instant). After the load every user is read back: each ' +
      'must show the pair last sent to it.',
    target: { metric: 'ratio', min: 0.3 },
    load: (ctx) => ({
      kind: 'generate',
      request: (n) => {
        const [availability, activity] = sessionPair(n, ctx.users.length);
        return {
          method: 'POST',
          path: `/v1.0/users/${ctx.users[n % ctx.users.length]}/presence/setPresence`,
          headers: bearer(ctx.appToken, true),
          body: JSON.stringify({ sessionId: DEV_APP, availability, activity, expirationDuration: 'PT1H' }),
        };
      },
    }),
    checkSample: (res) => (res.status === 200 && res.body.length === 0 ? undefined : `expected 200 with no body, got ${res.status}: ${res.text.slice(0, 300)}`),
    async verify(ctx, { built, connections }) {
      const users = ctx.users;
      const L = users.length;
      const presences = await readPresences(ctx, users);
      let exact = 0;
      let previous = 0;
      const wrong: string[] = [];
      presences.forEach((p, idx) => {
        if (idx >= built) return; // never written by this load
        const last = idx + Math.floor((built - 1 - idx) / L) * L; // the last request generated for this user
        const got = `${p.availability}/${p.activity}`;
        const want = sessionPair(last, L).join('/');
        if (got === want) exact++;
        // The last ≤ `connections` generated requests may never have been sent: then the round before is the last.
        else if (last >= built - connections && last - L >= 0 && got === sessionPair(last - L, L).join('/')) previous++;
        else wrong.push(`${users[idx]}: ${got} (expected ${want})`);
      });
      const expected = Math.min(built, L);
      const problems = wrong.length ? [`${wrong.length}/${expected} users do not show the pair last sent to them, e.g. ${wrong.slice(0, 3).join('; ')}`] : [];
      const notes = [
        `writes read back: ${exact + previous}/${expected} users show the pair last sent to them (${previous} of them the ` +
          `round before, whose next request was among the last ≤ ${connections} generated and never sent); ${built} requests generated`,
      ];
      return { problems, notes };
    },
  },
  {
    name: 'batch-20-gets',
    title: 'POST $batch ×20 GET presence',
    description:
      "`POST /v1.0/$batch` with 20 `GET /users/{id}/presence` items (Graph's maximum) for 20 different bench users, " +
      "Adele's delegated token (Presence.Read.All) on the envelope, handed to every item. Each connection cycles " +
      'through batches covering the 650 users. Each item runs through the whole app (inject), so this is 20 ' +
      'authenticated reads plus the envelope: recorded, no target.',
    load: (ctx) => ({
      kind: 'cycle',
      requests: Array.from({ length: Math.ceil(ctx.users.length / BATCH_SIZE) }, (_, b) => ({
        method: 'POST',
        path: '/v1.0/$batch',
        headers: bearer(ctx.adeleToken, true),
        body: JSON.stringify({
          requests: Array.from({ length: BATCH_SIZE }, (_, k) => ({
            id: String(k + 1),
            method: 'GET',
            url: `/users/${ctx.users[(b * BATCH_SIZE + k) % ctx.users.length]}/presence`,
          })),
        }),
      })),
    }),
    checkSample(res, ctx) {
      const responses = (res.json as { responses?: Array<{ id?: string; status?: number; body?: unknown }> } | undefined)?.responses;
      if (!Array.isArray(responses)) return `no responses array: ${res.text.slice(0, 300)}`;
      if (responses.length !== BATCH_SIZE) return `${responses.length} responses for ${BATCH_SIZE} requests`;
      for (let k = 0; k < BATCH_SIZE; k++) {
        const item = responses.find((r) => r.id === String(k + 1));
        if (!item) return `no response for request ${k + 1}`;
        if (item.status !== 200) return `request ${k + 1} answered ${item.status}: ${JSON.stringify(item.body).slice(0, 300)}`;
        const id = ctx.users[k % ctx.users.length]!;
        if (!isPresence(item.body, id)) return `request ${k + 1} is not the presence of ${id}: ${JSON.stringify(item.body).slice(0, 300)}`;
      }
      return undefined;
    },
  },
  {
    name: 'get-presences-650',
    title: 'POST getPresencesByUserId ×650',
    description:
      "`POST /v1.0/communications/getPresencesByUserId` with the 650 bench users' ids (Graph's maximum) and Adele's " +
      'delegated token: one batched store read and a ~650-item JSON answer.',
    target: { metric: 'p99', maxMs: 50 },
    load: (ctx) => ({
      kind: 'fixed',
      request: {
        method: 'POST',
        path: '/v1.0/communications/getPresencesByUserId',
        headers: bearer(ctx.adeleToken, true),
        body: JSON.stringify({ ids: ctx.users.slice(0, MAX_IDS) }),
      },
    }),
    checkSample(res, ctx) {
      const value = (res.json as { value?: unknown[] } | undefined)?.value;
      if (!Array.isArray(value)) return `no value array: ${res.text.slice(0, 300)}`;
      const want = ctx.users.slice(0, MAX_IDS);
      if (value.length !== want.length) return `${value.length} presences for ${want.length} ids`;
      const got = new Set(value.map((p) => (p as PresenceJson).id));
      const missing = want.filter((id) => !got.has(id));
      return missing.length ? `${missing.length} ids missing from the answer, e.g. ${missing[0]}` : undefined;
    },
  },
];

/** The scenarios `--store redis` and `--nodes` run unless `--only` says otherwise. */
export const REDIS_SCENARIOS = ['get-own', 'get-other', 'set-status-message', 'set-presence'];

export function describeTarget(t: Target | undefined): string {
  if (!t) return '—';
  return t.metric === 'ratio' ? `≥ ${Math.round(t.min * 100)}% of bare` : `p99 < ${t.maxMs} ms`;
}
