/**
 * `npm run bench -- --notifications`: change-notification delivery (issue 4's targets, and issue 13's latency).
 *
 * 1. Fan-out: one status change of a user watched by 1,000 subscriptions, all pointing at one local receiver (a
 *    node:http server in this process): time from the write's 200 to the last of the 1,000 items received.
 *    Target: all within 2 s.
 * 2. Sustained: `--changes` status changes (default 20) of that user, sent back to back, 1,000 items each:
 *    notifications received per second, from the first write to the last item. Target: at least 2,000/s.
 * 3. Latency per item (issue 13: "change → webhook POST, 1,000 subscriptions: p99 < 100 ms per item, measured over
 *    ≥ 10,000 items"): the back-to-back changes of 2, and `--changes` more spaced out (one every `--latency-spacing`
 *    ms, default 250, each sent at its time whatever the others do). An item's latency is its arrival at the receiver
 *    minus the moment its write was answered. A basic item names the user only: the k-th item of a subscription in a
 *    phase is taken as the phase's k-th change, which holds while a subscription's items arrive in the order of its
 *    changes — they are queued in that order, and the 2 POSTs of up to 100 items in flight to the one endpoint never
 *    hold two items of one subscription when there are at least 200 subscriptions.
 * Every item must arrive (duplicates are counted and reported; delivery is at least once).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { call } from './http.ts';
import { choiceOption } from './load.ts';
import { installCleanup, removeTempDir, runCleanups, startPresently, tempDataDir } from './procs.ts';
import { ADELE } from './scenarios.ts';

const ALEX = '66825e03-7ef5-42da-9069-724602c31f6b';
const TARGET_P99_MS = 100;
const MIN_ITEMS = 10_000;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** One item as it arrived: when, for which subscription, naming which user. */
interface Arrival {
  at: number;
  sub: string;
  user: string;
}

/** The receiver: answers the handshake, and notes every item with the phase it arrived in. */
async function startReceiver() {
  const arrivals = new Map<string, Arrival[]>();
  const state = { phase: 'fan-out', items: 0 };
  const server = http.createServer((req, res) => {
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('validationToken');
    if (token !== null) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      const at = performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { value: Array<{ subscriptionId: string; resourceData: { id: string } }> };
      const list = arrivals.get(state.phase) ?? [];
      for (const item of body.value) {
        list.push({ at, sub: item.subscriptionId, user: item.resourceData.id });
        state.items++;
      }
      arrivals.set(state.phase, list);
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const close = () => {
    server.closeAllConnections();
    server.close();
  };
  return { url, arrivals, state, close };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

/** A change the bench made: whose, when its request was sent and when it was answered. */
interface Change {
  user: string;
  sentAt: number;
  ackedAt: number;
}

/**
 * Each item's latency from its change's answer (and from its send): the k-th item of a subscription naming a user is
 * that user's k-th change of the phase (further ones are duplicates).
 */
function latencies(changes: Change[], arrivals: Arrival[]) {
  const byUser = new Map<string, Change[]>();
  for (const c of changes) byUser.set(c.user, [...(byUser.get(c.user) ?? []), c]);
  const seen = new Map<string, number>();
  const fromAnswer: number[] = [];
  const fromSend: number[] = [];
  let duplicates = 0;
  for (const a of arrivals) {
    const key = `${a.sub} ${a.user}`;
    const k = seen.get(key) ?? 0;
    seen.set(key, k + 1);
    const change = byUser.get(a.user)?.[k];
    if (!change) {
      duplicates++;
      continue;
    }
    fromAnswer.push(a.at - change.ackedAt);
    fromSend.push(a.at - change.sentAt);
  }
  return { fromAnswer: fromAnswer.sort((x, y) => x - y), fromSend: fromSend.sort((x, y) => x - y), duplicates };
}

function printLatency(label: string, changes: Change[], expected: number, receiver: Receiver, spanMs: number, phase = label): boolean {
  const { fromAnswer, fromSend, duplicates } = latencies(changes, receiver.arrivals.get(phase) ?? []);
  const n = fromAnswer.length;
  const ms = (x: number) => (n ? `${x.toFixed(1)}` : '?');
  const enough = n >= MIN_ITEMS;
  const verdict = !enough ? `too few items to judge (< ${MIN_ITEMS.toLocaleString('en-US')})` : percentile(fromAnswer, 99) < TARGET_P99_MS ? 'PASS' : 'MISS';
  console.log(
    `latency, ${label}: ${changes.length} changes in ${Math.round(spanMs)} ms → ${n}/${expected} items; from the write's 200 to the item at the receiver: ` +
      `p50 ${ms(percentile(fromAnswer, 50))} ms, p90 ${ms(percentile(fromAnswer, 90))} ms, p99 ${ms(percentile(fromAnswer, 99))} ms, max ${ms(fromAnswer[n - 1] ?? NaN)} ms   ` +
      `target p99 < ${TARGET_P99_MS} ms over ≥ ${MIN_ITEMS.toLocaleString('en-US')} items   ${verdict}`,
  );
  console.log(`  from the write's send instead: p50 ${ms(percentile(fromSend, 50))} ms, p99 ${ms(percentile(fromSend, 99))} ms, max ${ms(fromSend[n - 1] ?? NaN)} ms; ${duplicates} duplicate items`);
  return n >= expected;
}

async function subscribe(url: string, token: string, hook: string, subscriptions: number): Promise<void> {
  const t0 = performance.now();
  const expirationDateTime = new Date(Date.now() + 55 * 60_000).toISOString();
  const resource = `/communications/presences/${ADELE}`;
  for (let i = 0; i < subscriptions; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, subscriptions - i) }, async () => {
      await call(url, 'POST', '/v1.0/subscriptions', {
        token, expect: 201, body: { changeType: 'updated', notificationUrl: hook, resource, expirationDateTime },
      });
    }));
  }
  console.log(`created ${subscriptions} subscriptions (each with its validation handshake) in ${Math.round(performance.now() - t0)} ms`);
}

export async function runNotificationsBench(): Promise<number> {
  installCleanup();
  const subscriptions = arg('--subscriptions', 1000);
  const changes = arg('--changes', 20);
  const spacingMs = arg('--latency-spacing', 250);
  const at = process.argv.indexOf('--presence-store');
  const presenceStore = choiceOption('presence-store', at >= 0 ? process.argv[at + 1] ?? '' : 'table', ['table', 'journal'] as const);
  const dataDir = tempDataDir();
  // One user's many subscriptions: more than Graph's one per user and app, which this load test does not exercise.
  const server = await startPresently([
    '--data', dataDir, '--store', 'sqlite', '--presence-store', presenceStore, '--max-subscriptions-per-user', String(subscriptions),
  ]);
  console.log(`store sqlite${presenceStore === 'journal' ? ' (presence in the journal)' : ''}`);
  const receiver = await startReceiver();
  try {
    const mint = async (body: object) => ((await call(server.url, 'POST', '/_presently/tokens', { body })).json as { access_token: string }).access_token;
    const alex = await mint({ userId: ALEX });
    const adele = await mint({ userId: ADELE });
    await subscribe(server.url, alex, receiver.url, subscriptions);

    const write = async (n: number): Promise<Change> => {
      const sentAt = performance.now();
      await call(server.url, 'POST', `/v1.0/users/${ADELE}/presence/setStatusMessage`, {
        token: adele, body: { statusMessage: { message: { content: `bench ${n}`, contentType: 'text' } } },
      });
      return { user: ADELE, sentAt, ackedAt: performance.now() };
    };
    const waitFor = async (expected: number, limitMs: number) => {
      const until = performance.now() + limitMs;
      while (receiver.state.items < expected && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
    };
    const ok = [
      await fanOutAndSustained(receiver, subscriptions, changes, write, waitFor),
      await spaced(receiver, subscriptions, changes, spacingMs, write, waitFor),
    ];
    return ok.every(Boolean) ? 0 : 1;
  } finally {
    receiver.close();
    await server.stop();
    removeTempDir(dataDir);
    await runCleanups();
  }
}

type WaitFor = (expected: number, limitMs: number) => Promise<void>;

/** Phases 1 and 2: one change fanned out, then `changes` changes back to back; true when every item came. */
async function fanOutAndSustained(receiver: Receiver, subscriptions: number, changes: number, write: (n: number) => Promise<Change>, waitFor: WaitFor): Promise<boolean> {
  const { ackedAt: acked, sentAt: w0 } = await write(0);
  await waitFor(subscriptions, 10_000);
  const got = (receiver.arrivals.get('fan-out') ?? []).map((a) => a.at);
  const fanoutMs = got.length ? Math.max(...got) - acked : Infinity;
  const fanoutOk = got.length >= subscriptions && fanoutMs <= 2000;
  console.log(`fan-out: 1 change → ${got.length}/${subscriptions} items, the last ${Math.round(fanoutMs)} ms after the write's 200 (the write itself took ${Math.round(acked - w0)} ms)   target ≤ 2000 ms   ${fanoutOk ? 'PASS' : 'MISS'}`);

  const before = receiver.state.items;
  receiver.state.phase = 'back to back';
  const s0 = performance.now();
  const sent: Change[] = [];
  for (let n = 1; n <= changes; n++) sent.push(await write(n));
  await waitFor(before + changes * subscriptions, 60_000);
  const received = receiver.state.items - before;
  const lastAt = Math.max(...(receiver.arrivals.get('back to back') ?? []).map((a) => a.at));
  const rate = received / ((lastAt - s0) / 1000);
  const rateOk = received >= changes * subscriptions && rate >= 2000;
  console.log(`sustained: ${changes} changes × ${subscriptions} subscriptions → ${received} items in ${Math.round(lastAt - s0)} ms = ${Math.round(rate)} notifications/s   target ≥ 2000/s   ${rateOk ? 'PASS' : 'MISS'}`);
  const unique = Math.min(got.length, subscriptions) + Math.min(received, changes * subscriptions);
  console.log(`items received in these two: ${receiver.state.items} (${receiver.state.items - unique} beyond one per subscription per change)`);
  printLatency('back to back', sent, changes * subscriptions, receiver, sent.at(-1)!.ackedAt - s0);
  return got.length >= subscriptions && received >= changes * subscriptions;
}

/** Phase 3: `changes` changes spaced out, for the latency per item; true when every item came. */
async function spaced(
  receiver: Receiver, subscriptions: number, changes: number, spacingMs: number, write: (n: number) => Promise<Change>, waitFor: WaitFor,
): Promise<boolean> {
  const expected = changes * subscriptions;
  await new Promise((r) => setTimeout(r, 500)); // anything late of phase 2 (a duplicate) comes now, not in phase 3
  const before = receiver.state.items;
  receiver.state.phase = 'spaced';
  const t0 = performance.now();
  const writes: Promise<Change>[] = [];
  for (let i = 0; i < changes; i++) {
    const wait = t0 + i * spacingMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    writes.push(write(1000 + i));
  }
  const sent = await Promise.all(writes);
  await waitFor(before + expected, 60_000);
  return printLatency(`spaced (one every ${spacingMs} ms)`, sent, expected, receiver, sent.at(-1)!.ackedAt - t0, 'spaced');
}
