/**
 * `npm run bench -- --notifications`: change-notification delivery (issue 4's targets).
 *
 * 1. Fan-out: one status change of a user watched by 1,000 subscriptions, all pointing at one local receiver (a
 *    node:http server in this process): time from the write's 200 to the last of the 1,000 items received.
 *    Target: all within 2 s.
 * 2. Sustained: `--changes` status changes (default 20) of that user, sent back to back, 1,000 items each:
 *    notifications received per second, from the first write to the last item. Target: at least 2,000/s.
 * Every item must arrive (duplicates are counted and reported; delivery is at least once).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { call } from './http.ts';
import { installCleanup, removeTempDir, runCleanups, startPresently, tempDataDir } from './procs.ts';

const ADELE = 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3';
const ALEX = '66825e03-7ef5-42da-9069-724602c31f6b';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

export async function runNotificationsBench(): Promise<number> {
  installCleanup();
  const subscriptions = arg('--subscriptions', 1000);
  const changes = arg('--changes', 20);
  const dataDir = tempDataDir();
  // One user's many subscriptions: more than Graph's one per user and app, which this load test does not exercise.
  const server = await startPresently(['--data', dataDir, '--store', 'sqlite', '--max-subscriptions-per-user', String(subscriptions)]);

  // The receiver: answers the handshake, and remembers when each item arrived, per phase (a basic item names the
  // presence only, so the phases — one change, then a run of changes — tell the changes apart).
  const arrivals = new Map<string, number[]>();
  let phase = 'fan-out';
  let items = 0;
  const receiver = http.createServer((req, res) => {
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('validationToken');
    if (token !== null) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      const at = performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { value: unknown[] };
      const list = arrivals.get(phase) ?? [];
      for (const _ of body.value) {
        list.push(at);
        items++;
      }
      arrivals.set(phase, list);
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  try {
    const mint = async (body: object) => ((await call(server.url, 'POST', '/_presently/tokens', { body })).json as { access_token: string }).access_token;
    const alex = await mint({ userId: ALEX });
    const adele = await mint({ userId: ADELE });

    const t0 = performance.now();
    const expirationDateTime = new Date(Date.now() + 55 * 60_000).toISOString();
    for (let i = 0; i < subscriptions; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, subscriptions - i) }, async () => {
        await call(server.url, 'POST', '/v1.0/subscriptions', {
          token: alex, expect: 201,
          body: { changeType: 'updated', notificationUrl: hook, resource: `/communications/presences/${ADELE}`, expirationDateTime },
        });
      }));
    }
    console.log(`created ${subscriptions} subscriptions (each with its validation handshake) in ${Math.round(performance.now() - t0)} ms`);

    const write = async (n: number) => {
      await call(server.url, 'POST', `/v1.0/users/${ADELE}/presence/setStatusMessage`, {
        token: adele, body: { statusMessage: { message: { content: `bench ${n}`, contentType: 'text' } } },
      });
      return { ackedAt: performance.now() };
    };
    const waitFor = async (expected: number, limitMs: number) => {
      const until = performance.now() + limitMs;
      while (items < expected && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
    };

    // 1. Fan-out of one change.
    const w0 = performance.now();
    const { ackedAt: acked } = await write(0);
    await waitFor(subscriptions, 10_000);
    const got = arrivals.get('fan-out') ?? [];
    const fanoutMs = got.length ? Math.max(...got) - acked : Infinity;
    const fanoutOk = got.length >= subscriptions && fanoutMs <= 2000;
    console.log(`fan-out: 1 change → ${got.length}/${subscriptions} items, the last ${Math.round(fanoutMs)} ms after the write's 200 (the write itself took ${Math.round(acked - w0)} ms)   target ≤ 2000 ms   ${fanoutOk ? 'PASS' : 'MISS'}`);

    // 2. Sustained.
    const before = items;
    phase = 'sustained';
    const s0 = performance.now();
    for (let n = 1; n <= changes; n++) await write(n);
    await waitFor(before + changes * subscriptions, 60_000);
    const received = items - before;
    const lastAt = Math.max(...[...arrivals.values()].flat());
    const rate = received / ((lastAt - s0) / 1000);
    const unique = Math.min(got.length, subscriptions) + Math.min(received, changes * subscriptions);
    const rateOk = received >= changes * subscriptions && rate >= 2000;
    console.log(`sustained: ${changes} changes × ${subscriptions} subscriptions → ${received} items in ${Math.round(lastAt - s0)} ms = ${Math.round(rate)} notifications/s   target ≥ 2000/s   ${rateOk ? 'PASS' : 'MISS'}`);
    console.log(`items received in all: ${items} (${items - unique} beyond one per subscription per change)`);
    return got.length >= subscriptions && received >= changes * subscriptions ? 0 : 1;
  } finally {
    receiver.closeAllConnections();
    receiver.close();
    await server.stop();
    removeTempDir(dataDir);
    await runCleanups();
  }
}
