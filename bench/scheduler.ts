/**
 * `npm run bench -- --scheduler [options]`: the scheduler benchmark (issue target: "100,000 users each with a pending
 * timer: the scheduler keeps every transition within 100 ms of its instant with idle CPU under 2 %").
 *
 * 1. Writes a seed file with N users in one tenant and starts `presently serve --store sqlite --seed FILE` on a fresh
 *    data dir with the real system clock (the start-up, seeding included, is timed).
 * 2. Gives every user a status message whose expiry lies uniformly at random in [T0 + start, T0 + start + window)
 *    (T0: when setting begins), through setStatusMessage with an application token, autocannon sending exactly one
 *    request per user: N timers are pending.
 * 3. Idle CPU: utime + stime of the server from /proc/<pid>/stat over the last `--idle` seconds before the first
 *    expiry (nothing is due, nothing is requested).
 * 4. The window: no presence request is sent (a read would make overdue transitions itself, hiding the scheduler's
 *    lateness); CPU is sampled every second, and every 5 s /metrics gives the event-loop delay of those 5 s
 *    (prom-client's histogram is reset by each scrape; a scrape reads no presence). Afterwards the bench waits until
 *    the server's CPU has settled (a scheduler that fell behind can finish).
 * 5. Lateness: all users are read with getPresencesByUserId (650 ids a request, an app token with
 *    Presence.Read.All). After the expiry the sequenceNumber is `C` + max(previous + 1, transition time in epoch µs)
 *    (src/domain/record.ts nextSequence), the previous one being from the setStatusMessage, long before: so it is the
 *    instant the transition was made, with millisecond resolution (the clock is read in ms). lateness =
 *    that instant − the message's expiry instant. A transition stamped after the read began was made by the read,
 *    not by the scheduler (counted separately; it is late anyway).
 *
 * Exit code 0 when the measurement is valid (also when a target is missed), 1 when it is not (failed requests, the
 * window opened before every message was set, users without the transition, messages still showing).
 */
import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { call, send } from './http.ts';
import { machine, numberOption } from './load.ts';
import {
  installCleanup, readCpuSeconds, readMemory, readRunQueueWaitMs, readThreadCpu, startPresently, tempDataDir, type PresentlyProcess,
} from './procs.ts';
import { MAX_IDS } from './scenarios.ts';

const TARGET_LATENESS_MS = 100;
const TARGET_IDLE_CPU_PCT = 2;
/** A tenant of the bench's own, so the demo tenant's users are not in it. */
const TENANT = '5c4ed01e-bec1-4a7e-9d3b-5c4ed01e0001';

const USAGE = `usage: npm run bench -- --scheduler [options]
  --users N          users, each with one pending status-message expiry (default 100000)
  --window-start S   seconds from the start of setting the messages to the first expiry (default 60)
  --window S         the expiries are spread uniformly over this many seconds after that (default 60)
  --idle S           seconds of idle CPU measured just before the window opens (default 10)
  --connections N    concurrent connections setting the messages (default 50)
  --store S          sqlite | memory (default sqlite, in a fresh temp data dir)
  --cpu-prof DIR     run the server with node --cpu-prof, writing its profile into DIR (adds profiler overhead)
  --json FILE        also write the results as JSON`;

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string', default: '100000' },
      'window-start': { type: 'string', default: '60' },
      window: { type: 'string', default: '60' },
      idle: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      store: { type: 'string', default: 'sqlite' },
      'cpu-prof': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const num = numberOption;
  const store = values.store;
  if (store !== 'sqlite' && store !== 'memory') throw new Error('--store must be sqlite or memory');
  const users = Math.round(num('users', values.users, 1));
  const connections = Math.min(users, Math.round(num('connections', values.connections, 1)));
  return {
    users,
    startS: num('window-start', values['window-start'], 1),
    windowS: num('window', values.window, 0.001),
    idleS: num('idle', values.idle, 1),
    connections,
    store,
    cpuProf: values['cpu-prof'],
    json: values.json,
    help: values.help,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function log(line = ''): void {
  process.stdout.write(`${line}\n`);
}

const sleepUntil = (t: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, t - Date.now())));
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number | null) => (n === null ? '?' : `${n.toFixed(n < 10 ? 2 : 0)}%`);
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Context switches of a process so far (voluntary: it went to sleep; each wake-up from idle is one). */
function readSwitches(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const v = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
    const n = Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
    return Number.isFinite(v + n) ? v + n : null;
  } catch {
    return null;
  }
}

/** CPU of `pid` between two readings, % of one core. */
function cpuPct(c0: number | null, c1: number | null, wallMs: number): number | null {
  return c0 === null || c1 === null || wallMs <= 0 ? null : ((c1 - c0) / (wallMs / 1000)) * 100;
}

/** The event-loop delay gauges of /metrics (prom-client; since the previous scrape), in ms. */
async function eventLoopDelay(url: string): Promise<Record<string, number>> {
  const res = await send(url, { method: 'GET', path: '/metrics', headers: {} });
  const out: Record<string, number> = {};
  for (const m of res.text.matchAll(/^presently_nodejs_eventloop_lag_(min|max|mean|p50|p90|p99)_seconds (\S+)$/gm)) {
    out[m[1]!] = Number(m[2]) * 1000;
  }
  return out;
}

/** `YYYY-MM-DDThh:mm:ss.fff` in UTC (setStatusMessage's dateTime with timeZone UTC). */
const utcDateTime = (ms: number) => new Date(ms).toISOString().slice(0, 23);

// ---------------------------------------------------------------------------------------------------------------
// The run

export async function runSchedulerBench(argv: string[]): Promise<number> {
  let opts: ReturnType<typeof options>;
  try {
    opts = options(argv);
  } catch (err) {
    process.stderr.write(`bench --scheduler: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    log(USAGE);
    return 0;
  }
  installCleanup();
  const began = performance.now();
  const problems: string[] = [];
  const warnings: string[] = [];
  const mach = machine();
  const N = opts.users;
  log(`Presently scheduler bench — ${mach.cpus} × ${mach.cpuModel}, ${mach.memoryGb} GB, Node ${mach.node}, load average ${mach.loadavg.join(' ')}`);
  log(
    `${int(N)} users, expiries uniform over ${opts.windowS} s starting ${opts.startS} s after setting begins, store ${opts.store}, ` +
      `idle CPU over ${opts.idleS} s${opts.cpuProf ? `, server under --cpu-prof (${opts.cpuProf})` : ''}`,
  );
  log();

  // 1. Seed file → start (seeding included).
  const ids = Array.from({ length: N }, () => randomUUID());
  const seedDir = tempDataDir();
  const seedFile = join(seedDir, 'seed.json');
  const stamp = Date.now().toString(36);
  writeFileSync(
    seedFile,
    JSON.stringify({
      tenants: [{
        id: TENANT,
        displayName: 'Scheduler bench',
        users: ids.map((id, i) => ({ id, displayName: `Sched ${i}`, userPrincipalName: `sched${i}-${stamp}@scheduler.example` })),
      }],
    }),
  );
  const dataDir = tempDataDir();
  const nodeArgs = opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProf] : [];
  const presently: PresentlyProcess = await startPresently(['--data', dataDir, '--store', opts.store, '--seed', seedFile], 600_000, nodeArgs);
  const seedMs = presently.startupMs;
  const startedLine = /started in (\d+) ms/.exec(presently.stderr())?.[1];
  log(`start-up with --seed of ${int(N)} users: ${secs(seedMs)} to the ready line${startedLine ? ` (server's own count: ${int(Number(startedLine))} ms)` : ''}`);
  const afterSeed = readMemory(presently.pid);

  const token = async (roles: string[]) =>
    ((await call(presently.url, 'POST', '/_presently/tokens', { body: { roles, tenantId: TENANT, expiresIn: 3600 } })).json as {
      access_token: string;
    }).access_token;
  const writeToken = await token(['Presence.ReadWrite.All']);
  const readToken = await token(['Presence.Read.All']);

  // 2. One status message per user, expiring in the window.
  const t0 = Date.now();
  const windowOpen = t0 + opts.startS * 1000;
  const windowMs = opts.windowS * 1000;
  const windowClose = windowOpen + windowMs;
  const expiries = ids.map(() => windowOpen + Math.floor(Math.random() * windowMs));
  let built = 0;
  const setCpu0 = readCpuSeconds(presently.pid);
  const setResult = await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(
      {
        url: presently.url,
        connections: opts.connections,
        amount: N,
        timeout: 30,
        requests: [
          {
            setupRequest: (req: autocannon.Request) => {
              const i = built++;
              return {
                ...req,
                method: 'POST',
                path: `/v1.0/users/${ids[i % N]}/presence/setStatusMessage`,
                headers: { authorization: `Bearer ${writeToken}`, 'content-type': 'application/json' },
                body: JSON.stringify({
                  statusMessage: {
                    message: { content: `scheduler bench ${i}`, contentType: 'text' },
                    expiryDateTime: { dateTime: utcDateTime(expiries[i % N]!), timeZone: 'UTC' },
                  },
                }),
              };
            },
          } as autocannon.Request,
        ],
      },
      (err: unknown, res: autocannon.Result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res)),
    );
  });
  const setEnd = Date.now();
  const setMs = setEnd - t0;
  const setCpu = cpuPct(setCpu0, readCpuSeconds(presently.pid), setMs);
  log(
    `setStatusMessage × ${int(setResult.requests.total)}: ${secs(setMs)} (${int(setResult.requests.total / (setMs / 1000))} req/s, ` +
      `${opts.connections} connections, server CPU ${pct(setCpu)}); non-2xx ${setResult.non2xx}, errors ${setResult.errors}`,
  );
  if (setResult.non2xx || setResult.errors) problems.push(`setting the messages: ${setResult.non2xx} non-2xx answers, ${setResult.errors} errors`);
  if (setResult.requests.total !== N || built !== N) {
    problems.push(`setting the messages: ${setResult.requests.total} requests completed, ${built} built, for ${N} users`);
  }
  if (setEnd >= windowOpen) {
    problems.push(`setting the messages took ${secs(setMs)}, past the first expiry (${opts.startS} s): use a larger --window-start`);
  }
  const afterSet = readMemory(presently.pid);

  // 3. Idle CPU, just before the window opens.
  const idleEnd = windowOpen - 1000;
  let idleStart = idleEnd - opts.idleS * 1000;
  if (idleStart < setEnd + 2000) {
    idleStart = setEnd + 2000;
    warnings.push(`idle CPU measured over ${secs(idleEnd - idleStart)} only, not ${opts.idleS} s: setting took ${secs(setMs)}; use a larger --window-start`);
  }
  /**
   * CLOCK_MONOTONIC µs (system-wide on Linux, the clock of V8's CPU profiles) of the idle measurement and the window,
   * in the JSON: to cut a --cpu-prof profile to those periods.
   */
  const monotonic: { idle?: number[]; window?: number[] } = {};
  let idle: {
    cpu: number | null;
    switchesPerS: number | null;
    seconds: number;
    byThreadPct: Record<string, number>;
    rssMb: Array<number | null>;
  } | null = null;
  if (idleEnd - idleStart >= 1000) {
    await sleepUntil(idleStart);
    const c0 = readCpuSeconds(presently.pid);
    const s0 = readSwitches(presently.pid);
    const threads0 = readThreadCpu(presently.pid);
    const rss0 = readMemory(presently.pid);
    const w0 = performance.now();
    monotonic.idle = [monotonicUs()];
    await sleepUntil(idleEnd);
    monotonic.idle.push(monotonicUs());
    const wall = performance.now() - w0;
    const s1 = readSwitches(presently.pid);
    const threads1 = readThreadCpu(presently.pid);
    const rss1 = readMemory(presently.pid);
    // Which threads used the idle CPU: the event loop, or helper threads (a concurrent GC).
    const byThread = new Map<string, number>();
    for (const [tid, t1] of threads1 ?? []) {
      const used = t1.seconds - (threads0?.get(tid)?.seconds ?? 0);
      // Node names all its threads "node": besides the main one they are V8's platform workers (concurrent GC
      // marking and sweeping, compiler jobs) and libuv's pool.
      const name = tid === String(presently.pid) ? 'main thread (event loop)' : t1.name === 'node' ? 'helper threads (V8 GC/compiler, libuv)' : t1.name;
      if (used > 0) byThread.set(name, (byThread.get(name) ?? 0) + (used / (wall / 1000)) * 100);
    }
    idle = {
      cpu: cpuPct(c0, readCpuSeconds(presently.pid), wall),
      switchesPerS: s0 === null || s1 === null ? null : (s1 - s0) / (wall / 1000),
      seconds: wall / 1000,
      byThreadPct: Object.fromEntries([...byThread].sort((a, b) => b[1] - a[1])),
      rssMb: [rss0?.rssMb ?? null, rss1?.rssMb ?? null],
    };
    log(
      `idle CPU with ${int(N)} pending timers (${idle.seconds.toFixed(1)} s before the window): ${pct(idle.cpu)} of a core, ` +
        `${idle.switchesPerS === null ? '?' : int(idle.switchesPerS)} context switches/s`,
    );
    const threads = Object.entries(idle.byThreadPct);
    log(
      `  by thread: ${threads.length ? threads.map(([name, p]) => `${name} ${p.toFixed(2)}%`).join(', ') : 'none used a tick'}; ` +
        `RSS ${idle.rssMb.map((m) => (m === null ? '?' : `${m.toFixed(0)} MB`)).join(' → ')}` +
        `${idle.rssMb[0] && idle.rssMb[1] && idle.rssMb[1] < idle.rssMb[0] - 20 ? ' (a major GC ran: V8 shrinks the heap once allocation stops)' : ''}`,
    );
  } else {
    problems.push('no time left to measure idle CPU before the window opened');
  }
  const idleMem = readMemory(presently.pid);
  await eventLoopDelay(presently.url); // resets prom-client's event-loop histogram: the next scrape covers the window

  // 4. The window: no presence request, CPU every second.
  log(`window: ${secs(windowMs)} of expiries (${int(N / opts.windowS)}/s on average); nothing is sent to the server until it is over …`);
  await sleepUntil(windowOpen);
  const perSecond: number[] = [];
  const wc0 = readCpuSeconds(presently.pid);
  const ww0 = performance.now();
  monotonic.window = [monotonicUs()];
  let prevCpu = wc0;
  let prevWall = ww0;
  // Every 5 s also the event-loop delay of those 5 s (a /metrics scrape: a few ms, and it reads no presence) and how
  // long the event loop waited for a CPU (other processes on the machine).
  const loopSlices: number[] = [];
  const waitSlices: number[] = [];
  const rq0 = readRunQueueWaitMs(presently.pid);
  let prevRq = rq0;
  for (let t = windowOpen + 1000, k = 1; t <= windowClose; t += 1000, k++) {
    await sleepUntil(t);
    const c = readCpuSeconds(presently.pid);
    const w = performance.now();
    const p = cpuPct(prevCpu, c, w - prevWall);
    if (p !== null) perSecond.push(p);
    prevCpu = c;
    prevWall = w;
    if (k % 5 === 0) {
      loopSlices.push((await eventLoopDelay(presently.url)).max ?? NaN);
      const rq = readRunQueueWaitMs(presently.pid);
      waitSlices.push(rq === null || prevRq === null ? NaN : rq - prevRq);
      prevRq = rq;
    }
  }
  await sleepUntil(windowClose);
  const windowCpu = cpuPct(wc0, readCpuSeconds(presently.pid), performance.now() - ww0);
  const rq1 = readRunQueueWaitMs(presently.pid);
  const windowWaitMs = rq0 === null || rq1 === null ? null : rq1 - rq0;
  monotonic.window.push(monotonicUs());
  const windowMem = readMemory(presently.pid);

  // Settle: wait until the server has been (nearly) idle for a second, so a scheduler that fell behind can finish.
  let settled = false;
  const settleStart = Date.now();
  while (Date.now() - settleStart < 60_000) {
    const c0 = readCpuSeconds(presently.pid);
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, 1000));
    const p = cpuPct(c0, readCpuSeconds(presently.pid), performance.now() - w0);
    if (p === null || p < 10) {
      settled = true;
      break;
    }
  }
  const settleMs = Date.now() - settleStart;
  if (!settled) warnings.push('the server was still busy 60 s after the window closed');
  const loopDelay = await eventLoopDelay(presently.url);
  const sortedSeconds = [...perSecond].sort((a, b) => a - b);
  log(
    `CPU during the window: ${pct(windowCpu)} of a core on average, per second median ${pct(percentile(sortedSeconds, 50))}, ` +
      `max ${pct(sortedSeconds.at(-1) ?? null)}; settled ${secs(settleMs)} after it closed`,
  );
  log(
    `event-loop delay (/metrics: Node's monitorEventLoopDelay sampled every 10 ms, so 10 ms means no delay): ` +
      `max per 5 s of the window ${loopSlices.map((m) => m.toFixed(0)).join(' / ')} ms; from the window's end until settled: ` +
      `p50 ${loopDelay.p50?.toFixed(1)} ms, max ${loopDelay.max?.toFixed(1)} ms`,
  );
  log(
    `run-queue wait of the server's event-loop thread during the window (ready to run, no free core: other load on the machine): ` +
      `${windowWaitMs === null ? '?' : int(windowWaitMs)} ms in all; per 5 s ${waitSlices.map((w) => int(w)).join(' / ')} ms`,
  );

  // 5. Read everything back, after the window.
  const readStart = Date.now();
  const lateness: number[] = [];
  const byRead: number[] = [];
  const timeline: Array<{ expiry: number; late: number }> = [];
  let missing = 0;
  let stillShowing = 0;
  let badSeq = 0;
  const examples: string[] = [];
  for (let i = 0; i < N; i += MAX_IDS) {
    const chunk = ids.slice(i, i + MAX_IDS);
    const res = await call(presently.url, 'POST', '/v1.0/communications/getPresencesByUserId', { token: readToken, body: { ids: chunk } });
    const value = (res.json as { value?: Array<{ id: string; sequenceNumber: string | null; statusMessage: unknown }> }).value ?? [];
    const byId = new Map(value.map((p) => [p.id, p]));
    chunk.forEach((id, k) => {
      const p = byId.get(id);
      const expiry = expiries[i + k]!;
      if (!p) {
        missing++;
        if (examples.length < 3) examples.push(`${id}: not in the answer`);
        return;
      }
      if (p.statusMessage !== null) {
        stillShowing++;
        if (examples.length < 3) examples.push(`${id}: still shows ${JSON.stringify(p.statusMessage)}`);
      }
      const micros = p.sequenceNumber ? Number(p.sequenceNumber.slice(1)) : NaN;
      if (!Number.isFinite(micros)) {
        badSeq++;
        return;
      }
      const at = Math.floor(micros / 1000);
      if (at < expiry) {
        missing++; // the last change is older than the expiry: no transition happened
        if (examples.length < 3) examples.push(`${id}: sequenceNumber ${p.sequenceNumber} is before its expiry ${new Date(expiry).toISOString()}`);
        return;
      }
      if (at >= readStart) byRead.push(at - expiry);
      lateness.push(at - expiry);
      timeline.push({ expiry, late: at - expiry });
    });
  }
  const readMs = Date.now() - readStart;
  log(`read ${int(N)} presences back in ${secs(readMs)} (${Math.ceil(N / MAX_IDS)} getPresencesByUserId requests)`);
  if (missing) problems.push(`${missing} users show no transition after their expiry, e.g. ${examples.join('; ')}`);
  if (stillShowing) problems.push(`${stillShowing} users still show their expired status message`);
  if (badSeq) problems.push(`${badSeq} users have no numeric sequenceNumber`);

  // Lateness.
  const sorted = [...lateness].sort((a, b) => a - b);
  const over = sorted.filter((l) => l > TARGET_LATENESS_MS).length;
  const stats = {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.at(-1) ?? NaN,
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
    overTarget: over,
    madeByRead: byRead.length,
  };
  const buckets: Array<[string, number, number]> = [
    ['0 ms', 0, 0], ['1 ms', 1, 1], ['2–4 ms', 2, 4], ['5–9 ms', 5, 9], ['10–49 ms', 10, 49], ['50–100 ms', 50, 100],
    ['101–999 ms', 101, 999], ['≥ 1 s', 1000, Infinity],
  ];
  const histogram = buckets.map(([label, lo, hi]) => ({ label, count: sorted.filter((l) => l >= lo && l <= hi).length }));
  // Lateness along the window, in tenths by expiry instant: flat, or growing (the scheduler falling behind)?
  const slices = Array.from({ length: 10 }, (_, k) => {
    const ls = timeline.filter((t) => Math.min(9, Math.floor(((t.expiry - windowOpen) * 10) / windowMs)) === k).map((t) => t.late);
    ls.sort((x, y) => x - y);
    return { fromS: (k * opts.windowS) / 10, count: ls.length, p99: percentile(ls, 99), max: ls.at(-1) ?? NaN };
  });
  log();
  log(
    `lateness of ${int(stats.count)} transitions (sequenceNumber time − expiry instant, ms resolution): ` +
      `p50 ${stats.p50} ms, p90 ${stats.p90} ms, p99 ${stats.p99} ms, p99.9 ${stats.p999} ms, max ${int(stats.max)} ms, mean ${stats.mean.toFixed(1)} ms`,
  );
  log(`  histogram: ${histogram.map((h) => `${h.label}: ${int(h.count)}`).join(', ')}`);
  log(
    `  along the window (tenths, by expiry): max ${slices.map((x) => int(x.max)).join(' / ')} ms; ` +
      `p99 ${slices.map((x) => int(x.p99)).join(' / ')} ms`,
  );
  if (stats.madeByRead) log(`  ${int(stats.madeByRead)} transitions were made by the read-back, not by the scheduler`);

  const latenessOk = stats.count === N && over === 0;
  const idleOk = idle?.cpu !== null && idle?.cpu !== undefined ? idle.cpu < TARGET_IDLE_CPU_PCT : undefined;
  log();
  log(`every transition within ${TARGET_LATENESS_MS} ms: ${int(over)} over   ${latenessOk ? 'PASS' : 'MISS'}`);
  log(`idle CPU < ${TARGET_IDLE_CPU_PCT}%: ${pct(idle?.cpu ?? null)}   ${idleOk === undefined ? '?' : idleOk ? 'PASS' : 'MISS'}`);
  const mem = (label: string, m: ReturnType<typeof readMemory>) => `${label} ${m ? `${m.rssMb.toFixed(0)} MB` : '?'}`;
  log(`RSS: ${mem('after seeding', afterSeed)}, ${mem('after setting', afterSet)}, ${mem('idle', idleMem)}, ${mem('after the window', windowMem)}`);

  const stopCode = await presently.stop();
  if (stopCode !== 0) warnings.push(`Presently did not stop cleanly on SIGTERM: exit ${String(stopCode)}`);
  if (opts.cpuProf) log(`CPU profile of the server written to ${opts.cpuProf}`);
  const stderrErrors = presently.stderr().split('\n').filter((l) => /"level":(50|60)|\bError\b|Unhandled/.test(l));
  if (stderrErrors.length) log(`Presently's stderr has ${stderrErrors.length} error line(s), e.g.: ${stderrErrors[0]!.slice(0, 300)}`);
  for (const w of warnings) log(`! warning: ${w}`);
  for (const p of problems) log(`✗ ERROR: ${p}`);
  const totalS = (performance.now() - began) / 1000;
  log(`scheduler bench took ${totalS.toFixed(0)} s; load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  if (opts.json) {
    writeFileSync(
      opts.json,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: { ...mach, loadavgAfter: loadavg().map((l) => Math.round(l * 100) / 100) },
          options: opts,
          seedStartupMs: Math.round(seedMs),
          set: { requests: setResult.requests.total, ms: setMs, serverCpuPct: setCpu, non2xx: setResult.non2xx, errors: setResult.errors },
          idle,
          window: { cpuPct: windowCpu, perSecondCpuPct: perSecond.map((p) => Math.round(p * 10) / 10), settleMs, eventLoopMaxMsPer5s: loopSlices, runQueueWaitMs: windowWaitMs, runQueueWaitMsPer5s: waitSlices, eventLoopDelayAfterMs: loopDelay },
          readBackMs: readMs,
          monotonicUs: monotonic,
          lateness: { ...stats, histogram, slices, targetMs: TARGET_LATENESS_MS, result: latenessOk ? 'PASS' : 'MISS' },
          idleCpu: { targetPct: TARGET_IDLE_CPU_PCT, result: idleOk === undefined ? null : idleOk ? 'PASS' : 'MISS' },
          rssMb: { afterSeed: afterSeed?.rssMb, afterSet: afterSet?.rssMb, idle: idleMem?.rssMb, afterWindow: windowMem?.rssMb },
          problems,
          warnings,
          seconds: Math.round(totalS),
        },
        null,
        2,
      )}\n`,
    );
    log(`results written to ${opts.json}`);
  }
  return problems.length ? 1 : 0;
}

// Also runnable on its own: node --import tsx bench/scheduler.ts [options]
if (import.meta.url === `file://${process.argv[1]}`) {
  runSchedulerBench(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench --scheduler: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
