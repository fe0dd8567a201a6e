/**
 * Phases that press on the server as a whole, each on a fresh server while /health and a bystander (a user of another
 * tenant reading their own presence) are probed all along:
 * - "flood": subscriptions watching 650 users each, created one after another (time per 100), then 100 concurrent
 *   writes of watched users;
 * - "dead receivers": subscriptions to receivers that pass the handshake and then never answer (and a few slow ones),
 *   then many writes of the watched users;
 * - "slowloris": many connections that send headers announcing a body, then a byte now and then.
 * Every request has a deadline and every loop a count and a time limit: a server that freezes is reported, not
 * waited for.
 */
import net from 'node:net';
import { Probe, healthProbe, mapLimit, sleep, type Answer, type Client, type HealthStats, type Tally } from './client.ts';
import { startReceiver } from './receivers.ts';
import { ALL_SCOPES, makeUsers, mint, serverNow, startServer, subscriptionBody, watcherToken, type Server } from './world.ts';

export interface Probes {
  health: HealthStats;
  bystander: HealthStats;
}

/** Probes /health and a bystander's GET /me/presence while `fn` runs, and stops the server at the end. */
/**
 * Runs `fn` (the abuse) while /health and a bystander are probed. `setup` runs before the probes start: the users and
 * tokens an attack needs are scaffolding, not the attack.
 */
async function probed<S = void>(
  t: Tally, server: Server, fn: (c: Client, setup: S) => Promise<void>, setup?: (c: Client) => Promise<S>,
): Promise<Probes & { rssMb: number }> {
  const c = server.client;
  const prepared = (setup ? await setup(c) : undefined) as S;
  const [other] = await makeUsers(c, 1, '7a1c9e52-3d4b-4f6a-9b8c-0d1e2f3a4b5c');
  const bystanderToken = await mint(c, { userId: other!, scopes: ALL_SCOPES });
  const health = healthProbe(server.proc.url);
  // An unrelated user of another tenant reading their own presence: nobody else's load may slow them down.
  const bystander = new Probe(server.proc.url, '/v1.0/me/presence', { token: bystanderToken, intervalMs: 200 });
  try {
    await fn(c, prepared);
  } catch (err) {
    t.problems.push(`stopped early: ${(err as Error).message.slice(0, 300)}`);
  }
  const probes = { health: await health.stop(), bystander: await bystander.stop() };
  t.requests += probes.health.samples + probes.bystander.samples;
  t.noAnswer += probes.bystander.failures;
  const rssMb = server.peakRssMb();
  const t0 = performance.now();
  await server.stop();
  const stopMs = performance.now() - t0;
  if (stopMs > 5_000) t.notes.push(`the server took ${(stopMs / 1000).toFixed(1)} s to stop on SIGTERM (SIGKILL after 10 s)`);
  return { ...probes, rssMb };
}

// ---------------------------------------------------------------------------------------------------------------
// Subscription flood

export interface FloodOptions {
  subscriptions: number;
  deadline: number;
}

export async function runFlood(t: Tally, o: FloodOptions) {
  const receiver = await startReceiver('good');
  const server = await startServer();
  const perStep: number[] = [];
  // Creation time is reported per 100 subscriptions (per 10 in a small run), to show whether each makes the next dearer.
  const step = o.subscriptions >= 400 ? 100 : 10;
  try {
    return await probed<{ users: string[]; token: string; watchers: string[] }>(t, server, async (c, { users, token, watchers }) => {
      const watcher = watchers[0]!;
      const now = await serverNow(c);
      let created = 0;
      let refused = 0;
      let t0 = performance.now();
      for (let i = 0; i < o.subscriptions && Date.now() < o.deadline; i += 2) {
        const answers = await Promise.all(Array.from({ length: Math.min(2, o.subscriptions - i) }, (_, k) =>
          c.request({ method: 'POST', path: '/v1.0/subscriptions', token: watchers[i + k]!, body: subscriptionBody(receiver.url, users, now), timeoutMs: 60_000 })));
        for (const a of answers) {
          if (t.answer(a, 'subscription watching 650 users')) refused++;
          else created++;
          if ((created + refused) % step === 0) {
            perStep.push(performance.now() - t0);
            t0 = performance.now();
          }
        }
      }
      if (created + refused < o.subscriptions) t.problems.push(`flood: only ${created + refused} of ${o.subscriptions} subscriptions answered before the deadline`);
      t.notes.push(`${created} subscriptions of 650 users created, ${refused} refused; seconds per ${step}: ${perStep.map((ms) => (ms / 1000).toFixed(1)).join(', ')}`);
      const list = await c.request({ method: 'GET', path: '/v1.0/subscriptions', token: watcher, timeoutMs: 60_000 });
      t.answer(list, 'GET /subscriptions after the flood');
      t.notes.push(`GET /subscriptions took ${Math.round(list.ms)} ms, a body of ${(list.bytes / 1024 / 1024).toFixed(1)} MiB`);
      const writes = await Promise.all(users.slice(0, 100).map((u, n) => c.request({
        method: 'POST', path: `/v1.0/users/${u}/presence/setStatusMessage`, token, timeoutMs: 60_000,
        body: { statusMessage: { message: { content: `flood ${n}`, contentType: 'text' } } },
      })));
      writes.forEach((a) => t.answer(a, 'watched write after the flood'));
      t.notes.push(`100 concurrent watched writes: slowest ${Math.round(Math.max(...writes.map((a) => a.ms)))} ms`);
    }, async (c) => {
      const users = await makeUsers(c, 650);
      const token = await mint(c, { roles: ['Presence.ReadWrite.All'] });
      // Graph allows one presence subscription per user and application, so the flood is what that allows: as many
      // users, each subscribing once to the same 650 colleagues (the Teams-like case), all through one application.
      const creators = await makeUsers(c, o.subscriptions);
      const watchers = await mapLimit(creators, 8, (userId) => mint(c, { userId, scopes: ALL_SCOPES }));
      return { users, token, watchers };
    });
  } finally {
    await receiver.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Dead and slow receivers

export interface DeadOptions {
  subscriptions: number;
  usersPerSubscription: number;
  writes: number;
  /** How long to keep watching after the writes. */
  observeMs: number;
  deadline: number;
}

export async function runDeadReceivers(t: Tally, o: DeadOptions) {
  const dead = await startReceiver('dead');
  const slow = await startReceiver('slow', 3_000);
  const server = await startServer();
  try {
    return await probed(t, server, async (c) => {
      const users = await makeUsers(c, o.usersPerSubscription);
      const token = await mint(c, { roles: ['Presence.ReadWrite.All'] });
      const watcher = await watcherToken(c);
      const now = await serverNow(c);
      const subs = Array.from({ length: o.subscriptions }, (_, i) => (i % 5 === 4 ? slow : dead).url);
      await mapLimit(subs, 4, async (url) => t.answer(await c.request({ method: 'POST', path: '/v1.0/subscriptions', token: watcher, body: subscriptionBody(url, users, now), timeoutMs: 30_000 }), 'subscription to a dead receiver'));
      const slowest: Answer[] = [];
      await mapLimit(Array.from({ length: o.writes }, (_, i) => i), 10, async (n) => {
        if (Date.now() > o.deadline) return;
        const a = await c.request({
          method: 'POST', path: `/v1.0/users/${users[n % users.length]}/presence/setStatusMessage`, token, timeoutMs: 10_000,
          body: { statusMessage: { message: { content: `dead ${n}`, contentType: 'text' } } },
        });
        t.answer(a, 'write watched by dead receivers');
        if (a.ms > 1_000) slowest.push(a);
      });
      const until = Math.min(o.deadline, Date.now() + o.observeMs);
      while (Date.now() < until) await sleep(250);
      t.notes.push(`${dead.held} notification POSTs held unanswered, ${slow.hits} reached the slow receiver; ${slowest.length} writes took over 1 s`);
    });
  } finally {
    await dead.close();
    await slow.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Slowloris

export interface SlowlorisOptions {
  connections: number;
  holdMs: number;
}

export async function runSlowloris(t: Tally, o: SlowlorisOptions) {
  const server = await startServer();
  const sockets: net.Socket[] = [];
  let closedByServer = 0;
  let failedToOpen = 0;
  try {
    return await probed(t, server, async () => {
      const { port } = new URL(server.proc.url);
      const head = (i: number) => i % 2 === 0
        // Headers complete, announcing a body that never comes.
        ? `POST /v1.0/me/presence/setStatusMessage HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{`
        // Headers that never end.
        : `GET /v1.0/me/presence HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: `;
      for (let i = 0; i < o.connections; i++) {
        const s = net.connect({ host: '127.0.0.1', port: Number(port) });
        s.setTimeout(o.holdMs + 30_000, () => s.destroy());
        s.on('error', () => {});
        s.once('connect', () => s.write(head(i)));
        s.once('close', (hadError) => {
          if (s.bytesWritten === 0 && hadError) failedToOpen++;
          else closedByServer++;
        });
        sockets.push(s);
        if (i % 100 === 99) await sleep(20);
      }
      const until = Date.now() + o.holdMs;
      while (Date.now() < until) {
        await sleep(Math.min(5_000, Math.max(0, until - Date.now())));
        for (const s of sockets) if (!s.destroyed) s.write('a'); // the drip that keeps a naive timeout from firing
      }
      const open = sockets.filter((s) => !s.destroyed).length;
      t.notes.push(`${o.connections} connections held ${Math.round(o.holdMs / 1000)} s; the server closed ${closedByServer}, ${open} still open at the end, ${failedToOpen} could not open`);
    });
  } finally {
    for (const s of sockets) s.destroy();
  }
}
