/**
 * `npm run bench -- --abuse [--abuse-quick] [--abuse-only fuzz,tokens,flood,dead,slowloris,kill9] [--abuse-seed N]
 * [--abuse-per-endpoint N] [--abuse-cycles N]`: the adversarial run. Real `presently serve` processes on 127.0.0.1
 * (SQLite, dev auth), one per phase, attacked as a careless client and as an attacker would:
 *
 *   fuzz       ≥ 10,000 hostile bodies per write endpoint (every presence action at /me and /users/{id},
 *              mailboxSettings, getPresencesByUserId, subscriptions POST and PATCH, $batch items)
 *   tokens     every token forgery, then a foreign tenant's, another app's and another user's valid tokens
 *   flood      subscriptions watching 650 users each
 *   dead       receivers that pass the handshake and never answer (and slow ones), under many writes
 *   slowloris  connections that announce a body and drip a byte now and then
 *   kill9      kill -9 cycles under concurrent writes: acknowledged writes and their notifications must survive
 *
 * One table, one row per phase; exit 1 when any target is missed: 0 × 5xx, 0 non-Graph errors, 0 requests without an
 * answer, 0 state changes from rejected requests, 0 lost writes, 0 lost notifications, 0 outbound fetches, peak RSS
 * under 1 GiB, and /health (and a bystander's GET /me/presence) p99 under 50 ms. `--abuse-quick` is the same run
 * scaled down to a minute or two. Every request has a deadline and every phase a time limit, so a server that
 * freezes or dies is reported in the table, never waited for.
 */
import { parseArgs } from 'node:util';
import { installCleanup, runCleanups } from '../procs.ts';
import { healthProbe, Tally, type HealthStats } from './client.ts';
import { runCrash } from './crash.ts';
import { runFuzz } from './fuzz.ts';
import { runDeadReceivers, runFlood, runSlowloris } from './pressure.ts';
import { startReceiver } from './receivers.ts';
import { runTokens } from './tokens.ts';
import { startServer } from './world.ts';

const PHASES = ['fuzz', 'tokens', 'flood', 'dead', 'slowloris', 'kill9'] as const;
type Phase = (typeof PHASES)[number];

export const TARGETS = { rssMb: 1024, healthP99Ms: 50 };

function scale(quick: boolean) {
  const min = 60_000;
  return quick
    ? { perEndpoint: 120, fuzzMs: 3 * min, subs: 50, floodMs: 2 * min, dead: { subscriptions: 10, usersPerSubscription: 100, writes: 300, observeMs: 5_000, ms: 2 * min },
      slowloris: { connections: 300, holdMs: 8_000 }, crash: { cycles: 4, writers: 16, maxRunMs: 1_000, drainMs: 45_000, ms: 3 * min } }
    : { perEndpoint: 10_000, fuzzMs: 45 * min, subs: 800, floodMs: 10 * min, dead: { subscriptions: 20, usersPerSubscription: 100, writes: 1_500, observeMs: 60_000, ms: 8 * min },
      slowloris: { connections: 2_000, holdMs: 60_000 }, crash: { cycles: 100, writers: 64, maxRunMs: 1_500, drainMs: 120_000, ms: 40 * min } };
}

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      abuse: { type: 'boolean', default: false },
      'abuse-quick': { type: 'boolean', default: false },
      'abuse-only': { type: 'string' },
      'abuse-seed': { type: 'string' },
      'abuse-per-endpoint': { type: 'string' },
      'abuse-cycles': { type: 'string' },
    },
    strict: true,
  });
  const only = values['abuse-only']?.split(',').map((s) => s.trim()) ?? [...PHASES];
  const unknown = only.filter((p) => !(PHASES as readonly string[]).includes(p));
  if (unknown.length) throw new Error(`unknown phase(s) ${unknown.join(', ')}; have ${PHASES.join(', ')}`);
  const s = scale(values['abuse-quick']);
  if (values['abuse-per-endpoint']) s.perEndpoint = Number(values['abuse-per-endpoint']);
  if (values['abuse-cycles']) s.crash.cycles = Number(values['abuse-cycles']);
  if (!(s.perEndpoint > 0) || !(s.crash.cycles > 0)) throw new Error('--abuse-per-endpoint and --abuse-cycles must be positive numbers');
  return { phases: only as Phase[], seed: Number(values['abuse-seed'] ?? Date.now() % 1_000_000), quick: values['abuse-quick'], ...s };
}

interface Row {
  phase: string;
  tally: Tally;
  rssMb: number;
  health?: HealthStats;
  bystander?: HealthStats;
  seconds: number;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function fuzzAndTokens(o: ReturnType<typeof options>, rows: Row[]): Promise<void> {
  const receiver = await startReceiver('good');
  const trap = await startReceiver('trap');
  const server = await startServer(['--clock', 'manual']);
  try {
    // The baseline: /health of an idle server on this machine now. If it misses the target, so will every phase,
    // and the machine (not the server) is what the run measured.
    const t0 = performance.now();
    const idle = healthProbe(server.proc.url);
    await new Promise((r) => setTimeout(r, o.quick ? 3_000 : 10_000));
    rows.push({ phase: 'idle (baseline)', tally: new Tally(), rssMb: server.peakRssMb(), health: await idle.stop(), seconds: (performance.now() - t0) / 1000 });
    rows.at(-1)!.tally.requests = rows.at(-1)!.health!.samples;
    if (o.phases.includes('fuzz')) {
      const t = new Tally();
      const t0 = performance.now();
      const probe = healthProbe(server.proc.url);
      log(`abuse: fuzz — ${o.perEndpoint} bodies per endpoint (seed ${o.seed})`);
      try {
        const sent = await runFuzz(server.client, t, { perEndpoint: o.perEndpoint, chunk: 8, parallel: 4, seed: o.seed, deadline: Date.now() + o.fuzzMs, receiverUrl: receiver.url });
        t.notes.push(`${sent.size} endpoints, ${Math.min(...sent.values())}–${Math.max(...sent.values())} bodies each (seed ${o.seed})`);
      } catch (err) {
        t.problems.push(`fuzz stopped: ${(err as Error).message.slice(0, 300)}`);
      }
      rows.push({ phase: 'fuzz', tally: t, rssMb: server.peakRssMb(), health: await probe.stop(), seconds: (performance.now() - t0) / 1000 });
    }
    if (o.phases.includes('tokens')) {
      const t = new Tally();
      const t0 = performance.now();
      const probe = healthProbe(server.proc.url);
      log('abuse: tokens — forgeries, foreign tenant, other app and user');
      try {
        const n = await runTokens(server.client, t, server.dataDir, receiver, trap);
        t.notes.push(`${n} forged or malformed tokens, each on up to 12 requests; ${trap.hits} hits on the jku/x5u trap`);
      } catch (err) {
        t.problems.push(`tokens stopped: ${(err as Error).message.slice(0, 300)}`);
      }
      rows.push({ phase: 'tokens', tally: t, rssMb: server.peakRssMb(), health: await probe.stop(), seconds: (performance.now() - t0) / 1000 });
    }
  } finally {
    await server.stop();
    await receiver.close();
    await trap.close();
  }
}

async function pressure(o: ReturnType<typeof options>, rows: Row[]): Promise<void> {
  const run = async (phase: Phase, title: string, fn: (t: Tally) => Promise<{ rssMb: number; health?: HealthStats; bystander?: HealthStats }>) => {
    if (!o.phases.includes(phase)) return;
    log(`abuse: ${title}`);
    const t = new Tally();
    const t0 = performance.now();
    try {
      rows.push({ phase, tally: t, ...(await fn(t)), seconds: (performance.now() - t0) / 1000 });
    } catch (err) {
      t.problems.push(`${phase} stopped: ${(err as Error).message.slice(0, 300)}`);
      rows.push({ phase, tally: t, rssMb: NaN, seconds: (performance.now() - t0) / 1000 });
    }
  };
  await run('flood', `flood — ${o.subs} subscriptions of 650 users`, (t) => runFlood(t, { subscriptions: o.subs, deadline: Date.now() + o.floodMs }));
  await run('dead', `dead receivers — ${o.dead.subscriptions} subscriptions × ${o.dead.usersPerSubscription} users, ${o.dead.writes} writes`,
    (t) => runDeadReceivers(t, { ...o.dead, deadline: Date.now() + o.dead.ms }));
  await run('slowloris', `slowloris — ${o.slowloris.connections} connections for ${o.slowloris.holdMs / 1000} s`, (t) => runSlowloris(t, o.slowloris));
  await run('kill9', `kill -9 — ${o.crash.cycles} cycles, ${o.crash.writers} writers`, (t) => runCrash(t, { ...o.crash, deadline: Date.now() + o.crash.ms }));
}

function missed(r: Row): string[] {
  const t = r.tally;
  const out: string[] = [];
  for (const [k, v] of Object.entries({ '5xx': t.fiveXx, 'non-Graph': t.nonGraph, 'no answer': t.noAnswer, 'state Δ': t.stateChanges, 'lost writes': t.lostWrites, 'lost notif.': t.lostNotifications, outbound: t.outboundFetches, breaches: t.breaches })) {
    if (v > 0) out.push(k);
  }
  if (!(r.rssMb < TARGETS.rssMb)) out.push('RSS');
  if (r.health && !(r.health.p99 < TARGETS.healthP99Ms)) out.push('/health p99');
  if (r.health?.failures) out.push(`${r.health.failures} /health failed`);
  if (r.bystander && !(r.bystander.p99 < TARGETS.healthP99Ms)) out.push('bystander p99');
  if (t.problems.length) out.push('other');
  return out;
}

function printTable(rows: Row[]): void {
  const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '—' : v >= 5_000 ? '≥5000' : v.toFixed(v < 10 ? 1 : 0));
  const head = ['phase', 'requests', '5xx', 'non-Graph', 'no answer', 'state Δ', 'lost writes', 'lost notif.', 'outbound', 'breaches', 'peak RSS MiB', '/health p99 ms', '/health worst ms', 'bystander p99 ms', 'seconds', 'verdict'];
  const body = rows.map((r) => {
    const t = r.tally;
    const miss = missed(r);
    return [r.phase, t.requests, t.fiveXx, t.nonGraph, t.noAnswer, t.stateChanges, t.lostWrites, t.lostNotifications, t.outboundFetches, t.breaches,
      Number.isNaN(r.rssMb) ? '—' : Math.round(r.rssMb), ms(r.health?.p99), ms(r.health?.worst), ms(r.bystander?.p99), Math.round(r.seconds),
      miss.length ? `MISS (${miss.join(', ')})` : 'PASS'].map(String);
  });
  const maxOf = (values: Array<number | undefined>) => {
    const finite = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
    return finite.length ? Math.max(...finite) : NaN;
  };
  const sum = (f: (t: Tally) => number) => String(rows.reduce((n, r) => n + f(r.tally), 0));
  body.push(['total', sum((t) => t.requests), sum((t) => t.fiveXx), sum((t) => t.nonGraph), sum((t) => t.noAnswer), sum((t) => t.stateChanges),
    sum((t) => t.lostWrites), sum((t) => t.lostNotifications), sum((t) => t.outboundFetches), sum((t) => t.breaches), String(Math.round(maxOf(rows.map((r) => r.rssMb)))),
    ms(maxOf(rows.map((r) => r.health?.p99))), ms(maxOf(rows.map((r) => r.health?.worst))),
    ms(maxOf(rows.map((r) => r.bystander?.p99))), String(Math.round(rows.reduce((n, r) => n + r.seconds, 0))),
    rows.some((r) => missed(r).length) ? 'MISS' : 'PASS']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i === 0 || i === widths.length - 1 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of body) console.log(line(row));
  console.log(`\nTargets: every count 0, peak RSS < ${TARGETS.rssMb} MiB, /health and bystander GET /me/presence p99 < ${TARGETS.healthP99Ms} ms (a probe without an answer in 5 s counts as 5000 ms).`);
  for (const r of rows) {
    for (const n of r.tally.notes) console.log(`  ${r.phase}: ${n}`);
    for (const p of [...r.tally.problems, ...r.tally.examples]) console.log(`  ${r.phase}: ✗ ${p}`);
  }
}

export async function runAbuse(argv: string[]): Promise<number> {
  let o: ReturnType<typeof options>;
  try {
    o = options(argv);
  } catch (err) {
    process.stderr.write(`bench --abuse: ${(err as Error).message}\n`);
    return 2;
  }
  installCleanup();
  // The last resort: whatever hangs, the run ends (each phase has its own, shorter, limit).
  const budget = o.fuzzMs + o.floodMs + o.dead.ms + o.slowloris.holdMs + o.crash.ms + 10 * 60_000;
  const watchdog = setTimeout(() => {
    log(`abuse: the whole run exceeded ${Math.round(budget / 60_000)} minutes; stopping`);
    void runCleanups().finally(() => process.exit(1));
  }, budget);
  watchdog.unref();
  const rows: Row[] = [];
  const t0 = performance.now();
  try {
    if (o.phases.includes('fuzz') || o.phases.includes('tokens')) await fuzzAndTokens(o, rows);
    await pressure(o, rows);
  } finally {
    await runCleanups();
  }
  console.log(`\nabuse run${o.quick ? ' (quick)' : ''}: ${Math.round((performance.now() - t0) / 1000)} s\n`);
  printTable(rows);
  clearTimeout(watchdog);
  return rows.some((r) => missed(r).length) ? 1 : 0;
}
