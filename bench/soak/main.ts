/**
 * `npm run bench -- --soak 10m [options]`: the soak run (issue 13: "mixed reads, writes, timed expiries and
 * notifications for ten minutes; RSS and p99 must be flat (no leak, no growing queue)").
 *
 * One `presently serve` (SQLite, a fresh data dir). The bench creates the users, subscriptions to a receiver of its
 * own (bench/soak/notify.ts) and then, for the whole duration, runs at once: the mixed load of bench/soak/load.ts
 * (reads, writes with short expiries, sessions), probe writes that time the notifications, and expiry probes that
 * time the scheduler. Every `--interval` seconds it samples the server (RSS, CPU, /metrics: heap, event-loop delay,
 * the notification queue and delivered count), the interval's requests (req/s, p50/p99) and the notification backlog
 * (read every 250 ms from the database: bench/soak/backlog.ts) and prints one line. At
 * the end: verdicts comparing the last third with the middle third (bench/soak/report.ts), a PNG plot
 * (bench/soak/chart.ts) and, with --json, every sample.
 *
 * Exit code 0 when the run was valid, also when something is not flat (it is a measurement); 1 when requests failed,
 * probe notifications went missing or the server did not stop cleanly.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { call, send } from '../http.ts';
import { choiceOption, fmt, log, machine, numberOption } from '../load.ts';
import { installCleanup, readCpuSeconds, readMemory, readRunQueueWaitMs, removeTempDir, runCleanups, startPresently, tempDataDir, type PresentlyProcess } from '../procs.ts';
import { setUp } from '../scenarios.ts';
import { BacklogWatch } from './backlog.ts';
import { chartPage, writeHtml, writePng } from './chart.ts';
import { KINDS, MixedLoad } from './load.ts';
import { ExpiryProbes, Notifications } from './notify.ts';
import { noiseWarning, percentile, sampleLine, summaryLines, verdicts, type Sample } from './report.ts';

const ALEX = '66825e03-7ef5-42da-9069-724602c31f6b';
const PROBE_USERS = 5;
const EXPIRY_USERS = 10;
const DRAIN_MS = 60_000;
const RENEW_EVERY_MS = 30 * 60_000;

const USAGE = `usage: npm run bench -- --soak DURATION [options]     DURATION: 30s, 2m, 10m, 1h (a plain number: seconds)
  --soak-png FILE     where the plot goes (default docs/images/soak.png)
  --presence-store W  table | journal: where the server keeps presence records (default table)
  --json FILE         also write every sample as JSON
  --rate N            requests a second of the mixed load, open loop (default 1000; 0: closed loop, --connections in flight)
  --connections N     most connections to the server (default 32)
  --users N           users the load reads and writes (default 650)
  --subscriptions N   subscriptions, each watching 2 × users ÷ N of them and the probe users (default 20)
  --probe-rate N      probe writes a second, whose notifications are timed (default 5)
  --interval S        seconds between samples (default 5)
  --node-args=ARGS    node's own options for the server, e.g. --node-args="--trace-gc --cpu-prof --cpu-prof-dir=/tmp/prof"
                      (what a stall is made of: BENCHMARKS.md, the soak; the = is needed, as the value starts with a dash)
  --server-log FILE   append the server's stdout to FILE (where --trace-gc writes)`;

/** `30s`, `2m`, `1.5h`, `90` → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`--soak: not a duration: '${text}' (like 30s, 2m, 10m, 1h)`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h' ?? 's'];
}

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      soak: { type: 'string' }, 'soak-png': { type: 'string', default: 'docs/images/soak.png' }, json: { type: 'string' },
      rate: { type: 'string', default: '1000' }, connections: { type: 'string', default: '32' }, users: { type: 'string', default: '650' },
      subscriptions: { type: 'string', default: '20' }, 'probe-rate': { type: 'string', default: '5' }, interval: { type: 'string', default: '5' },
      'node-args': { type: 'string', default: '' }, 'server-log': { type: 'string' },
      'presence-store': { type: 'string', default: 'table' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const num = numberOption;
  const seconds = values.help ? 0 : parseDuration(values.soak ?? '');
  if (!values.help && (seconds < 10 || seconds > 23 * 3600)) throw new Error('--soak must be from 10 s to 23 h');
  return {
    seconds, png: values['soak-png'], json: values.json, help: values.help,
    rate: num('rate', values.rate, 0), connections: Math.round(num('connections', values.connections, 1)),
    users: Math.round(num('users', values.users, 20)), subscriptions: Math.round(num('subscriptions', values.subscriptions, 1)),
    probeRate: num('probe-rate', values['probe-rate'], 0.1), interval: num('interval', values.interval, 1),
    nodeArgs: values['node-args'].split(' ').filter(Boolean), serverLog: values['server-log'],
    presenceStore: choiceOption('presence-store', values['presence-store'], ['table', 'journal'] as const),
  };
}
type Options = ReturnType<typeof options>;

/** What /metrics says: heap, event-loop delay since the last scrape, the notification queue and items delivered. */
async function scrape(url: string) {
  const text = (await send(url, { method: 'GET', path: '/metrics', headers: {} })).text;
  const one = (re: RegExp) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : null;
  };
  const sec = (v: number | null) => (v === null ? null : v * 1000);
  return {
    heapMb: (one(/^presently_nodejs_heap_size_used_bytes (\S+)$/m) ?? NaN) / 2 ** 20,
    heapTotalMb: (one(/^presently_nodejs_heap_size_total_bytes (\S+)$/m) ?? NaN) / 2 ** 20,
    liveMb: (one(/^presently_heap_live_bytes (\S+)$/m) ?? 0) / 2 ** 20,
    // The presence journal's segments (absent with the presence table).
    storeMb: (one(/^presently_store_memory_bytes\{part="segments"\} (\S+)$/m) ?? NaN) / 2 ** 20,
    loopP99Ms: sec(one(/^presently_nodejs_eventloop_lag_p99_seconds (\S+)$/m)),
    loopMaxMs: sec(one(/^presently_nodejs_eventloop_lag_max_seconds (\S+)$/m)),
    queue: one(/^presently_notification_queue (\S+)$/m),
    delivered: one(/^presently_notification_items_total\{outcome="delivered",reason=""\} (\S+)$/m),
  };
}

/** Everything measured by the run, sampled by `sample()`. */
interface Run {
  opts: Options;
  proc: PresentlyProcess;
  load: MixedLoad;
  notif: Notifications;
  expiry: ExpiryProbes;
  backlog: BacklogWatch;
  began: number;
  last: { at: number; serverCpu: number | null; serverWait: number | null; bench: NodeJS.CpuUsage; received: number; delivered: number | null };
}

async function sample(run: Run): Promise<Sample> {
  const now = performance.now();
  const wall = (now - run.last.at) / 1000;
  const iv = run.load.take();
  const probe = run.notif.take();
  const expiry = run.expiry.take();
  const between = run.backlog.take();
  const m = await scrape(run.proc.url);
  const serverCpu = readCpuSeconds(run.proc.pid);
  const serverWait = readRunQueueWaitMs(run.proc.pid);
  const bench = process.cpuUsage();
  const received = run.notif.received;
  const all = KINDS.flatMap((k) => iv.latencies[k]);
  const s: Sample = {
    t: (now - run.began) / 1000,
    rssMb: readMemory(run.proc.pid)?.rssMb ?? null,
    heapMb: Number.isFinite(m.heapMb) ? m.heapMb : null,
    heapTotalMb: Number.isFinite(m.heapTotalMb) ? m.heapTotalMb : null,
    // 0 until the first major collection.
    liveMb: m.liveMb > 0 ? m.liveMb : null,
    storeMb: Number.isFinite(m.storeMb) ? m.storeMb : null,
    rps: iv.answered / wall,
    p50: percentile(all, 50), p99: percentile(all, 99), max: percentile(all, 100),
    p99ByKind: Object.fromEntries(KINDS.map((k) => [k, percentile(iv.latencies[k], 99)])),
    non2xx: iv.non2xx, errors: iv.errors, skipped: iv.skipped,
    loopP99Ms: m.loopP99Ms, loopMaxMs: m.loopMaxMs,
    serverCpuPct: serverCpu === null || run.last.serverCpu === null ? null : ((serverCpu - run.last.serverCpu) / wall) * 100,
    serverWaitPct: serverWait === null || run.last.serverWait === null ? null : ((serverWait - run.last.serverWait) / 1000 / wall) * 100,
    benchCpuPct: ((bench.user - run.last.bench.user + bench.system - run.last.bench.system) / 1e6 / wall) * 100,
    receivedPerS: (received - run.last.received) / wall,
    deliveredPerS: m.delivered === null || run.last.delivered === null ? null : (m.delivered - run.last.delivered) / wall,
    queue: m.queue,
    outbox: run.backlog.read()?.outbox ?? null,
    backlogLow: between.low, backlogHigh: between.high,
    probe: { n: probe.length, p50: percentile(probe, 50), p99: percentile(probe, 99), max: percentile(probe, 100) },
    expiry: { n: expiry.lateness.length, p50: percentile(expiry.lateness, 50), max: percentile(expiry.lateness, 100), byRead: expiry.byRead },
  };
  run.last = { at: now, serverCpu, serverWait, bench, received, delivered: m.delivered };
  return s;
}

/** Creates the users and subscriptions; the load, the probes and the expiry probes, not started. */
async function prepare(opts: Options, proc: PresentlyProcess) {
  const t0 = performance.now();
  const ctx = await setUp(proc.url, opts.users + PROBE_USERS + EXPIRY_USERS, Math.min(86_400, Math.ceil(opts.seconds + 3600)));
  const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ctx.users.id(from + i));
  const users = ids(0, opts.users);
  const probeUsers = ids(opts.users, opts.users + PROBE_USERS);
  const expiryUsers = ids(opts.users + PROBE_USERS, ctx.users.count);
  const alex = ((await call(proc.url, 'POST', '/_presently/tokens', { body: { userId: ALEX, expiresIn: 86_400 } })).json as { access_token: string }).access_token;
  const notif = new Notifications(probeUsers);
  await notif.start();
  const subscriptionIds = await notif.subscribe(proc.url, alex, users, opts.subscriptions);
  log(`created ${fmt.int(ctx.users.count)} users (${opts.users} for the load, ${PROBE_USERS} probe, ${EXPIRY_USERS} expiry) and ` +
    `${opts.subscriptions} subscriptions in ${Math.round(performance.now() - t0)} ms`);
  const load = new MixedLoad({ url: proc.url, adeleToken: ctx.adeleToken, appToken: ctx.appToken, users }, opts.rate, opts.connections);
  const expiry = new ExpiryProbes(proc.url, ctx.adeleToken, ctx.appToken, expiryUsers);
  // Subscriptions live at most an hour: a long run renews them.
  const renew = setInterval(() => {
    const expirationDateTime = new Date(Date.now() + 55 * 60_000).toISOString();
    for (const id of subscriptionIds) void call(proc.url, 'PATCH', `/v1.0/subscriptions/${id}`, { token: alex, body: { expirationDateTime } }).catch(() => {});
  }, RENEW_EVERY_MS);
  return { ctx, load, notif, expiry, renew };
}

/** Runs the load for the duration, sampling; returns the samples. */
async function soak(run: Run): Promise<Sample[]> {
  const { opts } = run;
  const samples: Sample[] = [];
  const count = Math.floor(opts.seconds / opts.interval);
  for (let k = 1; k <= count; k++) {
    const wait = run.began + k * opts.interval * 1000 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const s = await sample(run);
    samples.push(s);
    log(sampleLine(s));
  }
  return samples;
}

/** After the load: waits for the server's queue to empty and every probe item to come; prints what was left. */
async function drain(run: Run): Promise<string[]> {
  const problems: string[] = [];
  const t0 = performance.now();
  let queue: number | null = null;
  let outbox: number | null = null;
  let items = run.notif.probeItems(run.opts.subscriptions);
  while (performance.now() - t0 < DRAIN_MS) {
    run.notif.take();
    items = run.notif.probeItems(run.opts.subscriptions);
    queue = (await scrape(run.proc.url)).queue;
    outbox = run.backlog.read()?.outbox ?? null;
    if (queue === 0 && (outbox ?? 0) === 0 && items.paired >= items.expected) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const delivered = (await scrape(run.proc.url)).delivered;
  const left = queue === 0 && (outbox ?? 0) === 0 ? `emptied in ${((performance.now() - t0) / 1000).toFixed(1)} s` : `still held ${outbox ?? '?'} + ${queue ?? '?'} after ${DRAIN_MS / 1000} s`;
  log(`after the load: the outbox and the delivery queue ${left}; ` +
    `probe items ${fmt.int(items.paired)} of ${fmt.int(items.expected)} expected (${items.extra} unpaired); ` +
    `${fmt.int(run.notif.received)} items received in all, ${delivered === null ? '?' : fmt.int(delivered)} delivered by the server's count`);
  if (items.paired < items.expected) problems.push(`${items.expected - items.paired} probe notifications never arrived`);
  if (run.notif.probeWrites.failed) problems.push(`${run.notif.probeWrites.failed} probe writes failed`);
  if (run.expiry.errors) {
    problems.push(`${run.expiry.errors} expiry probes read wrong or failed: ${run.expiry.reasons.join('; ')}`);
  }
  return problems;
}

/** The options, or the exit code when there is nothing to run (--help: 0, a wrong option: 2, with the usage). */
function optionsOrExit(argv: string[]): Options | number {
  try {
    const opts = options(argv);
    if (opts.help) log(USAGE);
    return opts.help ? 0 : opts;
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
}

export async function runSoak(argv: string[]): Promise<number> {
  const opts = optionsOrExit(argv);
  if (typeof opts === 'number') return opts;
  installCleanup();
  const mach = machine();
  log(`soak — ${mach.cpus} × ${mach.cpuModel}, Node ${mach.node}, load average ${mach.loadavg.join(' ')}`);
  log(`${opts.seconds} s, ${opts.rate > 0 ? `${fmt.int(opts.rate)} requests/s open loop` : `closed loop`} over ${opts.connections} connections, ` +
    `${opts.users} users, ${opts.subscriptions} subscriptions, ${opts.probeRate} probe writes/s, a sample every ${opts.interval} s`);
  const dataDir = tempDataDir();
  const proc = await startPresently(
    ['--data', dataDir, '--store', 'sqlite', '--presence-store', opts.presenceStore,
      '--max-subscriptions-per-user', String(Math.max(1, opts.subscriptions))],
    undefined, opts.nodeArgs, opts.serverLog,
  );
  if (opts.nodeArgs.length > 0) log(`server started with node ${opts.nodeArgs.join(' ')}${opts.serverLog ? `, its stdout appended to ${opts.serverLog}` : ''}`);
  const { ctx, load, notif, expiry, renew } = await prepare(opts, proc);
  const problems: string[] = [];
  try {
    const m0 = await scrape(proc.url); // also starts the event-loop histogram afresh
    const run: Run = {
      opts, proc, load, notif, expiry, backlog: new BacklogWatch(dataDir), began: performance.now(),
      last: { at: performance.now(), serverCpu: readCpuSeconds(proc.pid), serverWait: readRunQueueWaitMs(proc.pid), bench: process.cpuUsage(), received: notif.received, delivered: m0.delivered },
    };
    load.start();
    run.backlog.start();
    notif.startProbes(proc.url, ctx.appToken, opts.probeRate);
    await expiry.start();
    const samples = await soak(run);
    await load.stop();
    notif.stopProbes();
    expiry.stop();
    problems.push(...(await drain(run)));
    run.backlog.close();
    const failed = samples.reduce((a, s) => a + s.non2xx + s.errors, 0);
    if (failed) problems.push(`${failed} requests of the load failed (non-2xx or no answer)`);
    await report(opts, samples, problems);
  } finally {
    clearInterval(renew);
    notif.close();
    const code = await proc.stop();
    if (code !== 0) problems.push(`Presently did not stop cleanly on SIGTERM: exit ${String(code)}`);
    removeTempDir(dataDir);
    await runCleanups();
  }
  for (const p of problems) log(`✗ ERROR: ${p}`);
  return problems.length ? 1 : 0;
}

async function report(opts: Options, samples: Sample[], problems: string[]): Promise<void> {
  log();
  for (const line of summaryLines(samples)) log(line);
  const vs = verdicts(samples);
  for (const v of vs) log(v.line);
  const noise = noiseWarning(samples);
  if (noise) log(noise);
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const heading = `Presently soak, ${when} UTC: ${Math.round(opts.seconds / 60 * 10) / 10} min, ` +
    `${opts.rate > 0 ? `${fmt.int(opts.rate)} req/s` : 'closed loop'} mixed, ${opts.users} users, ${opts.subscriptions} subscriptions (load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')})`;
  const html = chartPage(samples, heading, vs, noise);
  try {
    await writePng(opts.png, html);
    log(`plot written to ${opts.png}`);
  } catch (err) {
    const file = opts.png.replace(/\.png$/, '') + '.html';
    writeHtml(file, html);
    log(`! no PNG (${(err as Error).message.split('\n')[0]}); the page is in ${file}`);
  }
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), options: opts, verdicts: vs, problems, samples }, null, 2)}\n`);
    log(`samples written to ${opts.json}`);
  }
}
