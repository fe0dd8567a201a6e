/**
 * Phase "kill -9": cycles of concurrent writes on SQLite ended by SIGKILL at a random moment, then a restart on the
 * same data. Each writer owns one user and writes it one request at a time (status message `w<n>`, n rising), so
 * after a restart the stored message must be the last acknowledged one or a later attempt: anything older is a lost
 * acknowledged write. After each acknowledged write the writer reads the user's sequenceNumber; two subscriptions
 * watch every writer's user, and after the last restart every (subscription, user, sequenceNumber) of an
 * acknowledged write must reach the local receiver: anything missing is a lost notification.
 */
import { sleep, type Tally } from './client.ts';
import { startReceiver } from './receivers.ts';
import { richKeys } from '../../test/kit/rich.ts';
import { makeUsers, mint, serverNow, startServer, subscriptionBody, watcherToken, type Server } from './world.ts';

export interface CrashOptions {
  cycles: number;
  writers: number;
  /** Longest run of writes before the kill, ms (each cycle picks a random moment up to this). */
  maxRunMs: number;
  /** How long to wait for the last notifications after the last restart. */
  drainMs: number;
  deadline: number;
}

interface Writer {
  user: string;
  /** Last number attempted, and last acknowledged. */
  attempted: number;
  acked: number;
  /** How many writes were acknowledged in all. */
  acks: number;
}

export async function runCrash(t: Tally, o: CrashOptions): Promise<{ rssMb: number; cycles: number; acked: number }> {
  const receiver = await startReceiver('good');
  // Every acknowledged write's notification is accounted for by its sequenceNumber: rich subscriptions carry it.
  const rich = await richKeys();
  receiver.key = rich.key;
  const server = await startServer();
  let ackedTotal = 0;
  let cycle = 0;
  try {
    const c0 = server.client;
    const users = await makeUsers(c0, o.writers);
    const token = await mint(c0, { roles: ['Presence.ReadWrite.All'] });
    const watcher = await watcherToken(c0);
    const subs: string[] = [];
    for (let i = 0; i < 2; i++) {
      const a = await c0.must({ method: 'POST', path: '/v1.0/subscriptions', token: watcher, body: subscriptionBody(receiver.url, users, await serverNow(c0), 55, rich) }, 201);
      subs.push((a.json as { id: string }).id);
    }
    const writers: Writer[] = users.map((user) => ({ user, attempted: 0, acked: 0, acks: 0 }));
    const expected = new Set<string>();
    for (; cycle < o.cycles && Date.now() < o.deadline; cycle++) {
      if (cycle % 10 === 9) await renew(server, watcher, subs);
      let running = true;
      const loops = writers.map((w) => writeLoop(server, token, w, () => running, expected, subs, t));
      await sleep(200 + Math.random() * o.maxRunMs);
      server.peakRssMb();
      await server.proc.kill9();
      running = false;
      await Promise.all(loops);
      await server.restart();
      await readBack(server, token, writers, t);
    }
    ackedTotal = writers.reduce((n, w) => n + w.acks, 0);
    await waitForNotifications(receiver.items, expected, o.drainMs);
    const missing = [...expected].filter((k) => !receiver.items.has(k));
    t.lostNotifications += missing.length;
    if (missing.length) t.example(`${missing.length} notifications of acknowledged writes never arrived, e.g. ${missing[0]}`);
    t.notes.push(`${cycle} cycles, ${ackedTotal} acknowledged writes, ${expected.size} notifications expected, ${receiver.items.size} distinct received`);
    if (cycle < o.cycles) t.problems.push(`kill -9: only ${cycle} of ${o.cycles} cycles before the deadline`);
  } catch (err) {
    t.problems.push(`kill -9 stopped at cycle ${cycle}: ${(err as Error).message.slice(0, 300)}`);
  }
  const rssMb = server.peakRssMb();
  await server.stop().catch(() => {});
  await receiver.close();
  return { rssMb, cycles: cycle, acked: ackedTotal };
}

async function writeLoop(server: Server, token: string, w: Writer, running: () => boolean, expected: Set<string>, subs: string[], t: Tally): Promise<void> {
  // A client of a killed process rejects once it has seen enough requests go unanswered: that ends this writer too.
  await writes(server, token, w, running, expected, subs, t).catch(() => {});
}

async function writes(server: Server, token: string, w: Writer, running: () => boolean, expected: Set<string>, subs: string[], t: Tally): Promise<void> {
  while (running()) {
    const n = ++w.attempted;
    const c = server.client;
    const a = await c.request({
      method: 'POST', path: `/v1.0/users/${w.user}/presence/setStatusMessage`, token, timeoutMs: 10_000,
      body: { statusMessage: { message: { content: `w${n}`, contentType: 'text' } } },
    });
    if (a.status === 0) return; // killed in flight: neither acknowledged nor refused
    t.answer(a, 'write before kill -9');
    if (a.status !== 200) return;
    w.acked = n;
    w.acks++;
    const r = await c.request({ method: 'GET', path: `/v1.0/users/${w.user}/presence`, token, timeoutMs: 10_000 });
    if (r.status === 0) return;
    t.answer(r, 'read after a write');
    if (r.status !== 200) return;
    const p = r.json as { sequenceNumber?: string; statusMessage?: { message?: { content?: string } } };
    // Only this writer writes this user, so what it reads is its own write (unless the process died in between).
    if (p.statusMessage?.message?.content === `w${n}` && p.sequenceNumber) {
      for (const s of subs) expected.add(`${s}|${w.user}|${p.sequenceNumber}`);
    }
  }
}

/** After a restart: every writer's user shows its last acknowledged message or a later attempt. */
async function readBack(server: Server, token: string, writers: Writer[], t: Tally): Promise<void> {
  for (let i = 0; i < writers.length; i += 650) {
    const chunk = writers.slice(i, i + 650);
    const a = await server.client.must({ method: 'POST', path: '/v1.0/communications/getPresencesByUserId', token, body: { ids: chunk.map((w) => w.user) } });
    t.requests++;
    const byId = new Map(((a.json as { value: Array<{ id: string; statusMessage?: { message?: { content?: string } } | null }> }).value).map((p) => [p.id, p]));
    for (const w of chunk) {
      const content = byId.get(w.user)?.statusMessage?.message?.content ?? '';
      const stored = /^w(\d+)$/.test(content) ? Number(content.slice(1)) : 0;
      if (stored < w.acked) {
        t.lostWrites++;
        t.example(`lost acknowledged write: user ${w.user} acknowledged w${w.acked}, stored '${content}'`);
      }
    }
  }
}

/** Keeps the two subscriptions alive through a long run (they last at most an hour). */
async function renew(server: Server, token: string, subs: string[]): Promise<void> {
  const now = await serverNow(server.client);
  for (const id of subs) {
    await server.client.request({ method: 'PATCH', path: `/v1.0/subscriptions/${id}`, token, body: { expirationDateTime: new Date(now + 55 * 60_000).toISOString() } });
  }
}

async function waitForNotifications(items: Map<string, number>, expected: Set<string>, limitMs: number): Promise<void> {
  const until = Date.now() + limitMs;
  const done = () => [...expected].every((k) => items.has(k));
  while (Date.now() < until && !done()) await sleep(500);
}
