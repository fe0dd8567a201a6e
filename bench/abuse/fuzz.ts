/**
 * Phase "fuzz": N adversarial bodies per endpoint (bench/abuse/generators.ts) against a real server, each endpoint
 * aimed at a fuzz user of its own. Every answer must be < 500 and, when an error, Graph-shaped; every rejected
 * request must leave the user's presence, mailbox settings and subscriptions exactly as they were (compared by a GET
 * snapshot after each chunk of rejected requests; a chunk that mixes accepted and rejected ones is replayed one
 * request at a time between snapshots).
 */
import fc from 'fast-check';
import { mapLimit, type Answer, type Client, type Tally } from './client.ts';
import { ENDPOINTS, fuzzCases, onlyLoopbackUrls, type Endpoint, type FuzzCase, type FuzzTarget } from './generators.ts';
import { ALL_SCOPES, DEV_APP, makeUsers, mint, serverNow, subscriptionBody } from './world.ts';

export interface FuzzOptions {
  perEndpoint: number;
  /** Requests in flight per endpoint. */
  chunk: number;
  /** Endpoints fuzzed at once. */
  parallel: number;
  seed: number;
  /** The phase stops here, done or not (reported). */
  deadline: number;
  receiverUrl: string;
  /** Only these endpoints (by index in ENDPOINTS); all by default. */
  only?: Endpoint[];
}

interface Lane {
  ep: Endpoint;
  target: FuzzTarget;
  token: string;
}

async function lanes(c: Client, o: FuzzOptions): Promise<Lane[]> {
  const eps = o.only ?? ENDPOINTS;
  const users = await makeUsers(c, eps.length);
  const now = await serverNow(c);
  return mapLimit(eps, 4, async (ep, i) => {
    const userId = users[i]!;
    const token = await mint(c, { userId, scopes: ALL_SCOPES });
    const sub = await c.must({ method: 'POST', path: '/v1.0/subscriptions', token, body: subscriptionBody(o.receiverUrl, [userId], now) }, 201);
    const subscriptionId = (sub.json as { id: string }).id;
    return { ep, token, target: { userId, appId: DEV_APP, receiverUrl: o.receiverUrl, subscriptionId, now } };
  });
}

/** What a rejected request must not change, as text. */
async function snapshot(c: Client, lane: Lane): Promise<string> {
  const get = (path: string) => c.request({ method: 'GET', path, token: lane.token, timeoutMs: 15_000 });
  const parts = await Promise.all([
    get(`/v1.0/users/${lane.target.userId}/presence`),
    get(`/v1.0/users/${lane.target.userId}/mailboxSettings`),
    get('/v1.0/subscriptions'),
  ]);
  return parts.map((a) => `${a.status} ${a.text}`).join('\n');
}

function send(c: Client, lane: Lane, k: FuzzCase): Promise<Answer> {
  return c.request({ method: lane.ep.method, path: lane.ep.path(lane.target), token: lane.token, body: k.body, contentType: k.contentType, timeoutMs: 15_000 });
}

type Verdict = 'rejected' | 'accepted' | 'unknown';

/** Counts an answer; for $batch, judges each item's answer too. */
function judge(t: Tally, lane: Lane, k: FuzzCase, a: Answer): Verdict {
  const what = `${lane.ep.name} (${k.what}, ${k.contentType})`;
  const rejected = t.answer(a, what);
  if (a.status === 0) return 'unknown';
  if (!lane.ep.batch || rejected) return rejected ? 'rejected' : 'accepted';
  const items = (a.json as { responses?: Array<{ status?: number; body?: unknown }> } | undefined)?.responses;
  if (!Array.isArray(items)) {
    t.example(`${a.status} $batch without responses: ${what}: ${a.text.slice(0, 200)}`);
    t.nonGraph++;
    return 'unknown';
  }
  let accepted = false;
  for (const item of items) {
    const status = Number(item.status);
    if (status >= 500) {
      t.fiveXx++;
      t.example(`${status} in a $batch item: ${what}: ${JSON.stringify(item.body).slice(0, 200)}`);
    } else if (status >= 400 && !isGraphBody(item.body)) {
      t.nonGraph++;
      t.example(`${status} $batch item not Graph-shaped: ${what}: ${JSON.stringify(item.body).slice(0, 200)}`);
    } else if (status < 400) {
      accepted = true;
    }
  }
  return accepted ? 'accepted' : 'rejected';
}

function isGraphBody(body: unknown): boolean {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return typeof e?.code === 'string' && typeof e.message === 'string';
}

async function fuzzLane(c: Client, t: Tally, lane: Lane, o: FuzzOptions, index: number): Promise<number> {
  const arb = fuzzCases(lane.ep, lane.target);
  let baseline = await snapshot(c, lane);
  // A snapshot of errors would compare equal whatever happened: the comparison is worth something only on 200s.
  if (!baseline.split('\n').every((line) => line.startsWith('200 '))) throw new Error(`${lane.ep.name}: the state snapshot is not readable: ${baseline.slice(0, 300)}`);
  let sent = 0;
  for (let n = 0; sent < o.perEndpoint && Date.now() < o.deadline; n++) {
    const cases = fc.sample(arb, { numRuns: Math.min(o.chunk, o.perEndpoint - sent), seed: o.seed + index * 1_000_003 + n })
      .filter((k) => lane.ep.state !== 'subscriptions' || onlyLoopbackUrls(k.body));
    const answers = await Promise.all(cases.map((k) => send(c, lane, k)));
    sent += cases.length;
    const verdicts = answers.map((a, i) => judge(t, lane, cases[i]!, a));
    if (verdicts.every((v) => v === 'rejected')) {
      const after = await snapshot(c, lane);
      if (after !== baseline) {
        // Which ones? Replay them one at a time; the chunk counts once even if the replay does not reproduce it.
        const found = await replay(c, t, lane, cases, true);
        t.stateChanges += Math.max(1, found);
        if (found === 0) t.example(`state changed after rejected requests to ${lane.ep.name} (not reproduced one by one): ${cases.map((k) => k.what).join('; ').slice(0, 300)}`);
      }
      baseline = after;
    } else {
      const rejected = cases.filter((_, i) => verdicts[i] === 'rejected');
      t.stateChanges += await replay(c, t, lane, rejected, false);
      baseline = await snapshot(c, lane);
    }
  }
  return sent;
}

/** Sends `cases` one at a time with a snapshot before and after each; returns how many rejected ones changed state. */
async function replay(c: Client, t: Tally, lane: Lane, cases: FuzzCase[], count: boolean): Promise<number> {
  let changed = 0;
  for (const k of cases) {
    const before = await snapshot(c, lane);
    const a = await send(c, lane, k);
    if (count) t.requests++;
    if (a.status < 400) continue;
    if ((await snapshot(c, lane)) !== before) {
      changed++;
      t.example(`state changed by a rejected request (${a.status}) to ${lane.ep.name}: ${k.what}`);
    }
  }
  return changed;
}

/** Runs the phase; returns bodies sent per endpoint name. */
export async function runFuzz(c: Client, t: Tally, o: FuzzOptions): Promise<Map<string, number>> {
  const all = await lanes(c, o);
  const sent = await mapLimit(all, o.parallel, (lane, i) => fuzzLane(c, t, lane, o, i));
  const out = new Map(all.map((lane, i) => [lane.ep.name, sent[i]!]));
  const short = [...out].filter(([, n]) => n < o.perEndpoint);
  if (short.length) t.problems.push(`fuzz stopped at its deadline: ${short.map(([name, n]) => `${name} ${n}/${o.perEndpoint}`).join(', ')}`);
  return out;
}
