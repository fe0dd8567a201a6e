/**
 * `npm run bench [-- options]`: load-tests a real Presently process with autocannon and, in the same run, a bare
 * `node:http` server answering the same bytes (bench/bare-server.ts), scenario by scenario (bench/scenarios.ts).
 * Prints req/s, p50/p99, non-2xx/errors and the ratio to the bare server against each target, then start-up time
 * and RSS. Exit code 0 also when a target is missed (it is a measurement); 1 when anything went wrong (non-2xx
 * answers, connection errors, wrong answers, writes that did not land or did not survive a restart).
 *
 * `--store redis` measures two Presently nodes in the same run, one on SQLite and one on Redis (a key prefix of the
 * run's own, deleted at the end), each scenario on the bare server, then the SQLite node, then the Redis node, and
 * judges the Redis node against the SQLite node's figure (issue 5's targets); redis-benchmark's GET/SET on the same
 * Redis is printed as the ceiling, and redis-server's CPU is measured during every load.
 * `--store redis --nodes N` is the scale-out measurement instead (bench/nodes.ts).
 * `--users A,B --side-by-side` measures a server of each size in the same run, the same way, and judges the largest
 * against the smallest (bench/sideBySide.ts); `--users A,B` alone is the scale run, one run per size (bench/scale.ts).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { send } from './http.ts';
import {
  commandsPerRequest,
  fmt,
  loadProblems,
  loadTag,
  log,
  machine,
  median,
  choiceOption,
  numberOption,
  runLoad,
  table,
  usPerRequest,
  type Measurement,
  type Watched,
} from './load.ts';
import {
  installCleanup,
  readCpuSeconds,
  readMemory,
  removeTempDir,
  runCleanups,
  startBare,
  startPresently,
  tempDataDir,
  type BareServer,
  type Memory,
  type PresentlyProcess,
} from './procs.ts';
import {
  connectRedis,
  DEFAULT_REDIS_URL,
  printCeiling,
  REDIS_BENCHMARK,
  redisBackground,
  registerPrefix,
  OUTBOX_WAIT_MS,
  runRedisBenchmark,
  startOwnRedis,
  type BenchRedis,
  type RedisBenchmarkResult,
} from './redis.ts';
import { runScaleBench, storeSizeLabel, storeSizer, userSizes } from './scale.ts';
import { sideBySideTable, sideBySideVerdicts, sizeLabel } from './sideBySide.ts';
import {
  REDIS_SCENARIOS,
  SCENARIOS,
  describeTarget,
  durabilitySample,
  readPresences,
  setUp,
  type BenchContext,
  type Scenario,
} from './scenarios.ts';

const TARGET_STARTUP_MS = 500;
const TARGET_IDLE_RSS_MB = 90;
/** A restart on a large store checks the whole file first (PRAGMA quick_check): more than the usual 20 s may be needed. */
const RESTART_TIMEOUT_MS = 120_000;

const fmtSeconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/** A server is quiet when it used less than this share of a core over a second (all its threads). */
const SETTLE_CPU = 0.05;
const SETTLE_MAX_MS = 180_000;

/**
 * Waits until the process `pid` is quiet: after a bulk creation the server still checkpoints the WAL it wrote (a
 * million users: ~900 MB, on its checkpoint thread) and collects garbage, and a scenario measured meanwhile shares
 * the two cores with that work (in one run GET /me/presence lost a third of its rate, and so did the bare server
 * beside it). Returns how long that took in ms, or null when it was still busy after SETTLE_MAX_MS (or /proc is
 * missing: 0).
 */
async function settle(pid: number, maxMs = SETTLE_MAX_MS): Promise<number | null> {
  const started = performance.now();
  let last = readCpuSeconds(pid);
  if (last === null) return 0;
  while (performance.now() - started < maxMs) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = readCpuSeconds(pid);
    if (now === null) return 0;
    if (now - last < SETTLE_CPU) return performance.now() - started - 1000;
    last = now;
  }
  return null;
}

/** How long a side-by-side measurement waits for the other servers to finish their own work. */
const QUIET_OTHERS_MAX_MS = 20_000;

/**
 * --side-by-side: before a load on the server `pid`, waits until the others are quiet, so that the work a load left
 * behind on one size (a WAL checkpoint, a journal snapshot, a collection) is not measured as the other's. A wait of a
 * second or more is noted.
 */
async function quietOthers(subjects: Subject[], pid: number, notes: string[]): Promise<void> {
  for (const s of subjects) {
    if (s.proc.pid === pid) continue;
    const ms = await settle(s.proc.pid, QUIET_OTHERS_MAX_MS);
    if (ms === null) notes.push(`${s.label} was still busy after ${fmtSeconds(QUIET_OTHERS_MAX_MS)} when the next load began`);
    else if (ms >= 1000) notes.push(`${s.label} had ${fmtSeconds(ms)} of its own work left before the next load`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Options

const USAGE = `usage: npm run bench -- [options]
  --duration S      seconds of measured load per scenario and server (default 10)
  --warmup S        seconds of warm-up load before each measurement (default 2)
  --connections N   concurrent connections (default 50; with --nodes, split over the nodes)
  --store S         sqlite | memory | redis (default sqlite, in a fresh temp data dir). redis: a node on SQLite and a
                    node on Redis in the same run, the Redis figures judged against the SQLite ones, redis-benchmark
                    GET/SET printed as the ceiling
  --presence-store W  table | journal (default table): where the SQLite server keeps presence records (presently serve
                    --presence-store; docs/operations/storage.md#presence-journal)
  --redis-url URL   the Redis for --store redis (default ${DEFAULT_REDIS_URL}; PRESENTLY_REDIS_URL); the run's keys
                    live under a prefix of its own, deleted at the end
  --own-redis       with --store redis: start a redis-server of the bench's own on a free port (no persistence)
                    instead of using --redis-url, so its CPU and commands are the bench's alone
  --redis-aof       with --own-redis: appendonly yes, appendfsync everysec (the cost of persistence)
  --nodes N         with --store redis: the scale-out run instead — one node alone, then N nodes on the same Redis
                    data at once (bench/nodes.ts)
  --users N         users created for the scenarios (default 650), through the admin API's bulk route; with more
                    than 650 the read scenarios address them all over the range, and the checks after the writes and
                    the kill -9 check read back a sample (said in the output)
  --users A,B,C     the scale run: the whole bench once per size, then one table of all sizes (bench/scale.ts), e.g.
                    --users 1000,100000,1000000
  --side-by-side    with --users A,B: a server of each size in ONE run, each scenario measured on them back to back
                    (the order turned at every other load), and the largest judged against the smallest: req/s within
                    10 %, p99 within 2× (bench/sideBySide.ts); the scale run above runs the sizes minutes apart.
                    With --store redis: a Redis node of each size (no SQLite node)
  --rounds N        with --side-by-side: every scenario N times (default 1); judged on the median of the rounds
  --startups N      start-up samples, the measured server included (default 3)
  --only A,B        run only these scenarios (--store redis and --nodes default to ${REDIS_SCENARIOS.join(',')})
  --json FILE       also write the results as JSON
  --cpu-prof DIR    run the server under test with node --cpu-prof, its profile written to DIR when it stops (the
                    profiler costs a few % of throughput; the kill -9 check is skipped, a killed process writes none)
  --node-args=ARGS  node's own options for the server under test, e.g. --node-args=--no-turbo-inlining with --cpu-prof,
                    so that each function's time is its own, not that of the function it was inlined into
  --list            list the scenarios and exit
  --scheduler       run only the scheduler benchmark instead (bench/scheduler.ts; --scheduler --help for its options)
  --notifications   run only the change-notification benchmark (1,000-subscription fan-out, sustained rate, latency
                    per item; --subscriptions N, --changes N, --latency-changes N, --latency-spacing MS,
                    --presence-store table|journal)
  --soak DURATION   run only the soak: a mixed load with notifications and timed expiries for DURATION (30s, 10m, …),
                    sampled every 5 s, with verdicts and a PNG plot (bench/soak/main.ts; --soak 1m --help for its options)
  --auth-oidc       run only the token-validation benchmark: GET /me/presence with --auth oidc against dev auth
                    (bench/authOidc.ts; --rounds N, --duration S, --warmup S, --connections N)
  --abuse           run only the adversarial run (bench/abuse/main.ts; --abuse-quick, --abuse-only, --abuse-seed)
  --ui              run only the dashboard benchmark in Chromium (bench/ui.ts: time to render --users users, the lag
                    of --rate changes a second for --seconds; --samples N)`;

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      store: { type: 'string', default: 'sqlite' },
      'presence-store': { type: 'string', default: 'table' },
      'redis-url': { type: 'string', default: DEFAULT_REDIS_URL },
      'own-redis': { type: 'boolean', default: false },
      'redis-aof': { type: 'boolean', default: false },
      nodes: { type: 'string', default: '1' },
      users: { type: 'string', default: '650' },
      'side-by-side': { type: 'boolean', default: false },
      rounds: { type: 'string', default: '1' },
      startups: { type: 'string', default: '3' },
      only: { type: 'string' },
      json: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'node-args': { type: 'string', default: '' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const num = numberOption;
  const store = values.store;
  if (store !== 'sqlite' && store !== 'memory' && store !== 'redis') throw new Error('--store must be sqlite, memory or redis');
  const nodes = Math.round(num('nodes', values.nodes, 1));
  if (nodes > 1 && store !== 'redis') throw new Error('--nodes needs --store redis (nodes share their data through Redis)');
  if ((values['own-redis'] || values['redis-aof']) && store !== 'redis') throw new Error('--own-redis and --redis-aof need --store redis');
  if (values['redis-aof'] && !values['own-redis']) throw new Error('--redis-aof needs --own-redis (the bench does not reconfigure a Redis it did not start)');
  const presenceStore = choiceOption('presence-store', values['presence-store'], ['table', 'journal'] as const);
  if (presenceStore === 'journal' && store === 'memory') throw new Error('--presence-store journal needs a data folder: --store sqlite (or redis, for its SQLite node)');
  const connections = Math.round(num('connections', values.connections, 1));
  if (connections < nodes) throw new Error('--connections must be at least --nodes');
  const sideBySide = values['side-by-side'];
  // Smallest first: the verdict is the largest size against the smallest, in whatever order they were given.
  const sizes = sideBySide ? userSizes(['--users', values.users])?.sort((a, b) => a - b) ?? null : null;
  if (sideBySide && (!sizes || nodes > 1)) throw new Error('--side-by-side needs several sizes (--users 1000,1000000) and one node');
  const rounds = Math.round(num('rounds', values.rounds, 1));
  if (rounds > 1 && !sideBySide) throw new Error('--rounds needs --side-by-side');
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean) ?? (store === 'redis' ? REDIS_SCENARIOS : undefined);
  const unknown = only?.filter((n) => !SCENARIOS.some((s) => s.name === n)) ?? [];
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (have: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  return {
    duration: num('duration', values.duration, 1),
    warmup: num('warmup', values.warmup, 0),
    connections,
    store,
    presenceStore,
    redisUrl: values['redis-url'],
    ownRedis: values['own-redis'],
    redisAof: values['redis-aof'],
    nodes,
    users: sizes ? sizes[0]! : Math.round(num('users', values.users, 1)),
    /** --side-by-side: a server of each of these sizes in the same run (bench/sideBySide.ts); null otherwise. */
    sizes,
    rounds,
    startups: Math.round(num('startups', values.startups, 1)),
    scenarios: only ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS,
    json: values.json,
    cpuProf: values['cpu-prof'],
    nodeArgs: values['node-args'].split(' ').filter(Boolean),
    list: values.list,
    help: values.help,
  };
}
export type Options = ReturnType<typeof options>;

// ---------------------------------------------------------------------------------------------------------------
// Servers under test

/** One Presently process under test and what was made on it. */
interface Subject {
  /** `presently` in a run on one store; `sqlite` and `redis` in a --store redis run; `1,000 users` (sizeLabel) and so on in a --side-by-side run. */
  label: string;
  store: 'sqlite' | 'memory' | 'redis';
  proc: PresentlyProcess;
  /** The arguments it was started with (a restart uses them again). */
  args: string[];
  /** On Redis: its key prefix. */
  prefix?: string;
  ctx: BenchContext;
  startups: number[];
  stopCodes: (number | string | null)[];
  idle: Memory | null;
  /** How long creating the users took (the admin API's bulk route). */
  setupMs: number;
  afterSetup: Memory | null;
  afterLoad?: Memory | null;
  restartMs?: number;
  /** The store's size in bytes (bench/scale.ts storeSizer), after creating the users and after the load. */
  storeSize: () => Promise<number | null>;
  storeAfterSetup: number | null;
  storeAfterLoad?: number | null;
  /** Which presences the kill -9 check read back. */
  durability?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Scenario run

type Result = 'PASS' | 'MISS' | 'ERROR' | '—';

interface SubjectRun {
  label: string;
  m: Measurement;
  /** req/s ÷ the bare server's. */
  ratio: number;
  /** Against the scenario's target (vs bare). */
  result: Result;
  /** redis-server during this load (null: not measurable, or no Redis in the run). */
  redisCpu: { pct: number; seconds: number; usPerRequest: number | null } | null;
  /** Redis commands per request during this load (all of Redis's traffic, ours and anybody else's). */
  redisCommandsPerRequest: number | null;
  /**
   * On Redis: change events left in the outbox when the load ended, how long the dispatcher took to catch up, and
   * the CPU the node and redis-server used meanwhile (work the load caused that fell after it).
   */
  outbox: { atEnd: number; ms: number; left: number; nodeCpuSeconds: number | null; redisCpuSeconds: number | null } | null;
  /**
   * On Redis: the load's requests ÷ (its duration + the dispatcher's catch-up): the rate this node sustains when its
   * notifications must keep up. Equal to req/s when nothing was left.
   */
  rpsWithCatchUp: number | null;
}

interface ScenarioResult {
  name: string;
  title: string;
  target: string;
  bare?: Measurement;
  /** The first (or only) Presently: kept as in runs before --store redis. */
  presently?: Measurement;
  ratio?: number;
  result: Result;
  runs: SubjectRun[];
  /** --store redis: the Redis node's req/s ÷ the SQLite node's, against the scenario's redisTarget. */
  redisVsSqlite?: {
    ratio: number; min: number | null; result: Result;
    /** The same with the Redis node's req/s including its dispatcher's catch-up after the load. */
    ratioWithCatchUp: number | null; resultWithCatchUp: Result | null;
  };
  problems: string[];
  notes: string[];
}

function judge(sc: Scenario, m: Measurement, ratio: number): Result {
  if (!sc.target) return '—';
  if (sc.target.metric === 'ratio') return ratio >= sc.target.min ? 'PASS' : 'MISS';
  return m.p99 < sc.target.maxMs ? 'PASS' : 'MISS';
}

async function runScenario(
  sc: Scenario,
  subjects: Subject[],
  bare: BareServer,
  opts: Options,
  watch: Watched[],
  redis: BenchRedis | null,
  reverse = false,
): Promise<ScenarioResult> {
  const out: ScenarioResult = { name: sc.name, title: sc.title, target: describeTarget(sc.target), result: 'ERROR', runs: [], problems: [], notes: [] };
  const loads = subjects.map((s) => sc.load(s.ctx));
  const sampleOf = (i: number) => {
    const load = loads[i]!;
    return load.kind === 'fixed' ? load.request : load.kind === 'cycle' ? load.requests[0]! : load.request(0, `${sc.name}-sample`);
  };

  // 0. What the scenario needs set up first, on each Presently.
  if (sc.prepare) {
    for (const s of subjects) {
      const note = await sc.prepare(s.ctx);
      out.notes.push(subjects.length > 1 ? `${s.label}: ${note}` : note);
    }
  }

  // 1. Each Presently's answer to one sample request must be right; the first one's is what the bare server replays.
  let canned: Awaited<ReturnType<typeof send>> | null = null;
  for (const [i, s] of subjects.entries()) {
    const res = await send(s.proc.url, sampleOf(i));
    const who = subjects.length > 1 ? `${s.label}: ` : '';
    if (res.status < 200 || res.status > 299) {
      out.problems.push(`${who}sample request answered ${res.status}: ${res.text.slice(0, 300)}`);
      return out;
    }
    const wrong = sc.checkSample?.(res, s.ctx, sampleOf(i));
    if (wrong) {
      out.problems.push(`${who}wrong answer to the sample request: ${wrong}`);
      return out;
    }
    canned ??= res;
  }
  const res = canned!;
  const headers: Record<string, string> = {};
  for (const h of ['content-type', 'odata-version']) {
    const v = res.headers.get(h);
    if (v !== null) headers[h] = v;
  }
  await bare.respond({ status: res.status, headers, body: res.body });
  const sample = sampleOf(0);
  const bareRes = await send(bare.url, sample);
  if (bareRes.status !== res.status || bareRes.body.length !== res.body.length) {
    out.problems.push(`bare server did not replay the sample (${bareRes.status}, ${bareRes.body.length} bytes)`);
    return out;
  }
  out.notes.push(`response body ${fmt.int(res.body.length)} bytes${sample.body ? `, request body ${fmt.int(Buffer.byteLength(sample.body))} bytes` : ''}`);

  // 2. Warm everything up, then measure back to back: bare, then each Presently.
  const commands = redis ? () => redis.commandStats() : undefined;
  const one = async (url: string, pid: number, i: number, server: string, phase: string, seconds: number, prefix?: string) => {
    if (opts.sizes && phase === 'measure') await quietOthers(subjects, pid, out.notes);
    const tag = loadTag(sc.name, server, phase);
    const lr = await runLoad(loads[i]!, tag, [{ url, pid, connections: opts.connections }], seconds, { watch, ...(commands ? { redisCommands: commands } : {}) });
    // On Redis: the change events the node's dispatcher has not handled yet, and how long it takes to catch up
    // (waited for before the next load, so that work does not land in another server's measurement).
    let outbox: SubjectRun['outbox'] = null;
    if (redis && prefix) {
      const c0 = readCpuSeconds(pid);
      const r0 = redis.pid === null ? null : readCpuSeconds(redis.pid);
      const atEnd = await redis.outboxLength(prefix);
      const drained = await redis.waitOutboxDrained(prefix, OUTBOX_WAIT_MS);
      const c1 = readCpuSeconds(pid);
      const r1 = redis.pid === null ? null : readCpuSeconds(redis.pid);
      outbox = {
        atEnd, ...drained,
        nodeCpuSeconds: c0 === null || c1 === null ? null : c1 - c0,
        redisCpuSeconds: r0 === null || r1 === null ? null : r1 - r0,
      };
    }
    return { lr, tag, outbox };
  };
  if (opts.warmup > 0) {
    await one(bare.url, bare.pid, 0, 'bare', 'warmup', opts.warmup);
    for (const [i, s] of subjects.entries()) await one(s.proc.url, s.proc.pid, i, s.label, 'warmup', opts.warmup, s.prefix);
  }
  const bareLoad = (await one(bare.url, bare.pid, 0, 'bare', 'measure', opts.duration)).lr;
  out.bare = bareLoad.targets[0]!;
  // With two Presently (--store redis), every other scenario measures them in the opposite order, so a drift of the
  // machine's load does not favour one of them throughout.
  const measured: Array<Awaited<ReturnType<typeof one>>> = new Array(subjects.length);
  const order = subjects.map((_, i) => i);
  if (reverse) order.reverse();
  for (const i of order) {
    const s = subjects[i]!;
    measured[i] = await one(s.proc.url, s.proc.pid, i, s.label, 'measure', opts.duration, s.prefix);
  }
  if (subjects.length > 1) out.notes.push(`measured in the order bare, ${order.map((i) => subjects[i]!.label).join(', ')}`);

  for (const [i, s] of subjects.entries()) {
    const { lr } = measured[i]!;
    const m = lr.targets[0]!;
    const ratio = m.rps / out.bare.rps;
    const rc = lr.watched['redis-server'];
    out.runs.push({
      label: s.label,
      m,
      ratio,
      result: judge(sc, m, ratio),
      redisCpu: rc ? { pct: rc.pct, seconds: rc.seconds, usPerRequest: usPerRequest(rc.seconds, m.requests) } : null,
      redisCommandsPerRequest: lr.redisCommands === null || m.requests === 0 ? null : lr.redisCommands / m.requests,
      outbox: measured[i]!.outbox,
      rpsWithCatchUp: measured[i]!.outbox ? m.requests / (m.seconds + (measured[i]!.outbox!.atEnd > 0 ? measured[i]!.outbox!.ms / 1000 : 0)) : null,
    });
    const ob = measured[i]!.outbox;
    if (ob && ob.atEnd > 0) {
      out.notes.push(
        `${s.label}: ${fmt.int(ob.atEnd)} change events were still in the outbox when the load ended (not yet turned into deliveries); ` +
          (ob.left === 0 ? `the dispatcher caught up ${(ob.ms / 1000).toFixed(1)} s later` : `${fmt.int(ob.left)} still there after ${OUTBOX_WAIT_MS / 1000} s`) +
          `, using ${fmt.us(usPerRequest(ob.nodeCpuSeconds, m.requests))} µs of the node's CPU and ${fmt.us(usPerRequest(ob.redisCpuSeconds, m.requests))} µs of ` +
          `redis-server's per request of the load more; requests ÷ (load + catch-up) = ${fmt.int(out.runs[out.runs.length - 1]!.rpsWithCatchUp ?? 0)} req/s`,
      );
    }
  }
  out.presently = out.runs[0]!.m;
  out.ratio = out.runs[0]!.ratio;
  const waits = [['bare', out.bare], ...out.runs.map((r) => [subjects.length > 1 ? r.label : 'Presently', r.m] as const)] as const;
  if (waits.every(([, m]) => m.serverWait !== null)) {
    out.notes.push(
      `run-queue wait (the server's event loop ready to run but without a core): ${waits.map(([n, m]) => `${n} ${fmt.pct(m.serverWait)}`).join(', ')} of the load's duration`,
    );
  }
  const rb = bareLoad.watched['redis-server'];
  if (redis && out.runs.some((r) => r.redisCpu)) {
    out.notes.push(
      'redis-server: ' +
        [
          ...out.runs.map((r) => `${r.label} load ${fmt.pct(r.redisCpu?.pct)} of a core` +
            (r.label === 'redis' ? `, ${fmt.us(r.redisCpu?.usPerRequest)} µs CPU and ${fmt.num(r.redisCommandsPerRequest, 1)} commands per request` : '')),
          `bare load ${fmt.pct(rb?.pct)} (what the rest of the machine sends it)`,
        ].join('; '),
    );
    const redisIdx = subjects.findIndex((s) => s.label === 'redis');
    if (redisIdx >= 0) {
      const lr = measured[redisIdx]!.lr;
      out.notes.push(`Redis commands per request (scripts, and the commands they ran): ${commandsPerRequest(lr.redisCommandStats, lr.requests)}`);
    }
  }

  // 3. Anything but 2xx invalidates the numbers.
  out.problems.push(...loadProblems('bare', out.bare));
  for (const [i, r] of out.runs.entries()) {
    const name = subjects.length > 1 ? `Presently on ${r.label}` : 'Presently';
    out.problems.push(...loadProblems(name, r.m));
    if (r.m.non2xx) {
      const again = await send(subjects[i]!.proc.url, sampleOf(i));
      out.problems.push(
        again.status >= 200 && again.status <= 299
          ? `${name}: the sample request alone still gets ${again.status}: the failures came from other requests of the load or from the load itself`
          : `${name} now answers the sample request with ${again.status}: ${again.text.slice(0, 300)}`,
      );
    }
  }

  // 4. The scenario's own check after the load (e.g. writes landed), on each Presently.
  if (sc.verify) {
    for (const [i, s] of subjects.entries()) {
      const who = subjects.length > 1 ? `${s.label}: ` : '';
      try {
        const v = await sc.verify(s.ctx, { tag: measured[i]!.tag, built: out.runs[i]!.m.built, connections: opts.connections });
        out.problems.push(...v.problems.map((p) => who + p));
        out.notes.push(...v.notes.map((n) => who + n));
      } catch (err) {
        out.problems.push(`${who}check after the load failed: ${(err as Error).message}`);
      }
    }
  }

  // 5. The Redis node against the SQLite node.
  const sqliteRun = out.runs.find((r) => r.label === 'sqlite');
  const redisRun = out.runs.find((r) => r.label === 'redis');
  if (sqliteRun && redisRun) {
    const ratio = redisRun.m.rps / sqliteRun.m.rps;
    const min = sc.redisTarget ?? null;
    const judgeRatio = (r: number): Result => (out.problems.length ? 'ERROR' : min === null ? '—' : r >= min ? 'PASS' : 'MISS');
    const withCatchUp = redisRun.rpsWithCatchUp === null ? null : redisRun.rpsWithCatchUp / sqliteRun.m.rps;
    out.redisVsSqlite = {
      ratio, min, result: judgeRatio(ratio),
      ratioWithCatchUp: withCatchUp, resultWithCatchUp: withCatchUp === null ? null : judgeRatio(withCatchUp),
    };
  }

  out.result = out.problems.length ? 'ERROR' : out.runs[0]!.result;
  if (out.problems.length) for (const r of out.runs) r.result = 'ERROR';
  return out;
}

function scenarioRows(r: ScenarioResult): string[][] {
  const row = (first: boolean, server: string, m: Measurement | undefined, run: SubjectRun | null) => [
    first ? r.title : '',
    server,
    m ? fmt.int(m.rps) : '-',
    m ? fmt.ms(m.p50) : '-',
    m ? fmt.ms(m.p99) : '-',
    m ? `${m.non2xx}/${m.errors}` : '-',
    m ? fmt.pct(m.serverCpu) : '-',
    m ? fmt.pct(m.clientCpu) : '-',
    run ? run.ratio.toFixed(2) : '',
    run ? r.target : '',
    run ? run.result : '',
  ];
  const runs = r.runs.length ? r.runs.map((run) => row(false, run.label === 'presently' ? 'presently' : `presently (${run.label})`, run.m, run)) : [row(false, 'presently', undefined, null)];
  return [row(true, 'bare', r.bare, null), ...runs];
}

const HEADER = ['scenario', 'server', 'req/s', 'p50 ms', 'p99 ms', 'non2xx/err', 'srv cpu', 'cli cpu', 'ratio', 'target', 'result'];
const RIGHT = new Set([2, 3, 4, 5, 6, 7, 8]);

function redisRows(results: ScenarioResult[], ceiling: RedisBenchmarkResult | null): string[][] {
  const header = [
    'scenario', 'sqlite req/s', 'redis req/s', 'redis/sqlite', 'target', 'result',
    'node µs/req sqlite', 'node µs/req redis', 'redis-server cpu', 'redis µs/req', 'redis cmds/req', 'redis cmds/s',
    'outbox at end', 'redis req/s incl. catch-up', 'ratio', 'result',
  ];
  const rows = [header];
  for (const r of results) {
    const s = r.runs.find((x) => x.label === 'sqlite');
    const d = r.runs.find((x) => x.label === 'redis');
    if (!s || !d || !r.redisVsSqlite) continue;
    const cmdsPerS = d.redisCommandsPerRequest === null ? null : d.redisCommandsPerRequest * d.m.rps;
    rows.push([
      r.title,
      fmt.int(s.m.rps),
      fmt.int(d.m.rps),
      `${Math.round(r.redisVsSqlite.ratio * 100)}%`,
      r.redisVsSqlite.min === null ? '—' : `≥ ${Math.round(r.redisVsSqlite.min * 100)}%`,
      r.redisVsSqlite.result,
      fmt.us(usPerRequest(s.m.serverCpuSeconds, s.m.requests)),
      fmt.us(usPerRequest(d.m.serverCpuSeconds, d.m.requests)),
      fmt.pct(d.redisCpu?.pct),
      fmt.us(d.redisCpu?.usPerRequest),
      fmt.num(d.redisCommandsPerRequest, 1),
      cmdsPerS === null ? '?' : fmt.int(cmdsPerS),
      d.outbox ? (d.outbox.atEnd === 0 ? '0' : `${fmt.int(d.outbox.atEnd)} (${(d.outbox.ms / 1000).toFixed(1)} s)`) : '?',
      d.rpsWithCatchUp === null ? '?' : fmt.int(d.rpsWithCatchUp),
      r.redisVsSqlite.ratioWithCatchUp === null ? '?' : `${Math.round(r.redisVsSqlite.ratioWithCatchUp * 100)}%`,
      r.redisVsSqlite.resultWithCatchUp ?? '?',
    ]);
  }
  if (ceiling) {
    for (const t of ['GET', 'SET']) {
      rows.push([`ceiling: redis-benchmark ${t}`, '', fmt.int(ceiling.rps[t]!), '', '', '', '', '', fmt.pct(ceiling.serverCpu), '', '1.0', fmt.int(ceiling.rps[t]!)]);
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  if (process.argv.some((a) => a.startsWith('--abuse'))) return (await import('./abuse/main.ts')).runAbuse(process.argv.slice(2));
  // The notifications benchmark is a separate run too (bench/notifications.ts).
  if (process.argv.includes('--notifications')) {
    const { runNotificationsBench } = await import('./notifications.ts');
    return runNotificationsBench();
  }
  // The soak run is a separate run with its own options (bench/soak/main.ts).
  if (process.argv.some((a) => a === '--soak' || a.startsWith('--soak='))) return (await import('./soak/main.ts')).runSoak(process.argv.slice(2));
  // The dashboard in Chromium is a separate run too (bench/ui.ts).
  if (process.argv.includes('--ui')) return (await import('./ui.ts')).runUiBench();
  // What --auth oidc costs against dev auth is a separate run too (bench/authOidc.ts).
  if (process.argv.includes('--auth-oidc')) return (await import('./authOidc.ts')).runAuthOidcBench();
  // The scheduler benchmark is a separate run with its own options (bench/scheduler.ts).
  if (process.argv.includes('--scheduler')) {
    const { runSchedulerBench } = await import('./scheduler.ts');
    return runSchedulerBench(process.argv.slice(2).filter((a) => a !== '--scheduler'));
  }
  // Several sizes (`--users 1000,100000,1000000`): this run once per size, and one table of them (bench/scale.ts).
  const sizes = userSizes(process.argv.slice(2));
  if (sizes && !process.argv.includes('--side-by-side')) return runScaleBench(process.argv.slice(2), sizes);
  let opts: Options;
  try {
    opts = options();
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    log(USAGE);
    return 0;
  }
  if (opts.list) {
    for (const s of SCENARIOS) {
      const redisTarget = s.redisTarget === undefined ? '' : `; --store redis: ≥ ${Math.round(s.redisTarget * 100)}% of SQLite`;
      log(`${s.name}  [${describeTarget(s.target)}${redisTarget}]\n  ${s.description}\n`);
    }
    return 0;
  }
  installCleanup();
  if (opts.ownRedis) {
    const own = await startOwnRedis(opts.redisAof);
    opts.redisUrl = own.url;
    log(`own redis-server: redis-server ${own.args.map((a) => (a === '' ? "''" : a)).join(' ')}`);
  }
  if (opts.nodes > 1) {
    const { runNodesBench } = await import('./nodes.ts');
    return runNodesBench(opts);
  }
  const began = performance.now();
  const problems: string[] = [];
  const warnings: string[] = [];
  const mach = machine();
  log(`Presently bench — ${mach.cpus} × ${mach.cpuModel}, ${mach.memoryGb} GB, Node ${mach.node}, load average ${mach.loadavg.join(' ')}`);
  log(
    `store ${opts.store === 'redis' && !opts.sizes ? 'sqlite and redis, one node each' : opts.store}`
      + `${opts.presenceStore === 'journal' ? ' (presence in the journal)' : ''}, ${opts.connections} connections, ` +
      `${opts.warmup} s warm-up + ${opts.duration} s per server and scenario, ` +
      `${opts.sizes ? `a server of each size: ${opts.sizes.map((n) => fmt.int(n)).join(', ')} users, ${opts.rounds} round(s)` : `${fmt.int(opts.users)} users`}`,
  );

  // Redis: the bench's own connection, the prefixes, the ceiling.
  let redis: BenchRedis | null = null;
  const deletedKeys = new Map<string, number>();
  let ceiling: RedisBenchmarkResult | null = null;
  let background: Awaited<ReturnType<typeof redisBackground>> | null = null;
  if (opts.store === 'redis') {
    redis = await connectRedis(opts.redisUrl);
    log(`redis ${opts.redisUrl}${redis.pid === null ? ' (not a local process: its CPU is not measured)' : `, redis-server pid ${redis.pid}`}`);
  }
  log();

  // The servers under test: one, or (--store redis) one on SQLite and one on Redis, or (--side-by-side) one of each
  // size on the same store.
  type Kind = 'sqlite' | 'memory' | 'redis';
  const servers: Array<{ kind: Kind; label: string; users: number }> = opts.sizes
    ? opts.sizes.map((users) => ({ kind: opts.store as Kind, label: sizeLabel(users), users }))
    : opts.store === 'redis'
      ? (['sqlite', 'redis'] as const).map((kind) => ({ kind, label: kind, users: opts.users }))
      : [{ kind: opts.store as Kind, label: 'presently', users: opts.users }];
  const subjects: Subject[] = [];
  try {
    for (const { kind, label, users } of servers) {
      const storeArgs = (): string[] => {
        if (kind === 'redis') return ['--store', 'redis', '--redis-url', opts.redisUrl, '--redis-prefix', registerPrefix(redis!, deletedKeys)];
        return ['--data', tempDataDir(), '--store', kind, ...(kind === 'sqlite' ? ['--presence-store', opts.presenceStore] : [])];
      };
      const startups: number[] = [];
      const startupCpus: number[] = [];
      const stopCodes: (number | string | null)[] = [];
      // Start-up: extra samples on throw-away data (a fresh data dir or Redis prefix), then the server under test.
      for (let i = 1; i < opts.startups; i++) {
        const args = storeArgs();
        const p = await startPresently(args);
        startups.push(p.startupMs);
        startupCpus.push(p.startupCpuMs);
        stopCodes.push(await p.stop());
        if (kind !== 'redis') removeTempDir(args[1]!);
      }
      const args = storeArgs();
      const storeSize = await storeSizer(kind, args, redis);
      const profile = opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProf] : [];
      const proc = await startPresently(args, undefined, [...profile, ...opts.nodeArgs]);
      startups.push(proc.startupMs);
      startupCpus.push(proc.startupCpuMs);
      const who = servers.length > 1 ? `${label}: ` : '';
      log(`${who}start-up to ready line: ${startups.map((s) => `${Math.round(s)} ms`).join(', ')}`);
      log(`${who}CPU used by the ready line: ${startupCpus.map((s) => `${Math.round(s)} ms`).join(', ')}; median ${Math.round(median(startupCpus))} ms`);
      if (stopCodes.some((c) => c !== 0)) {
        warnings.push(`${who}a start-up sample did not stop cleanly on SIGTERM sent right after its ready line: exit ${stopCodes.map(String).join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 2000));
      const idle = readMemory(proc.pid);
      log(`${who}idle RSS after start-up + 2 s: ${idle ? fmt.mb(idle.rssMb) : 'unknown (no /proc)'}`);
      const { setupMs, ...ctx } = await setUp(proc.url, users);
      log(`${who}created ${fmt.int(ctx.users.count)} users (admin API, bulk) in ${fmtSeconds(setupMs)}`);
      const quiet = await settle(proc.pid);
      if (quiet !== null && quiet >= 1000) log(`${who}the server's own work after that (WAL checkpoints, collections) ended ${fmtSeconds(quiet)} later`);
      else if (quiet === null) warnings.push(`${who}the server was still busy ${fmtSeconds(SETTLE_MAX_MS)} after creating the users: the first scenario shares the CPU with it`);
      const afterSetup = readMemory(proc.pid);
      const storeAfterSetup = await storeSize();
      subjects.push({
        label, store: kind, proc, args, ctx, startups, stopCodes, idle, setupMs, afterSetup, storeSize, storeAfterSetup,
        ...(kind === 'redis' ? { prefix: args[args.indexOf('--redis-prefix') + 1]! } : {}),
      });
    }
  } catch (err) {
    await runCleanups();
    await redis?.close();
    throw err;
  }

  const bare = await startBare();
  const watch: Watched[] = redis?.pid ? [{ name: 'redis-server', pid: redis.pid }] : [];
  if (redis) {
    if (redis.single) {
      try {
        ceiling = await runRedisBenchmark(redis, REDIS_BENCHMARK);
        printCeiling(ceiling);
      } catch (err) {
        warnings.push(`no ceiling: ${(err as Error).message}`);
      }
    } else {
      warnings.push('no ceiling: redis-benchmark is run against one Redis, not a cluster');
    }
    background = await redisBackground(redis, 2000);
    log(
      `redis-server with nothing of ours running (2 s): ${fmt.pct(background.cpuPct)} of a core, ` +
        `${background.commandsPerS === null ? '?' : fmt.int(background.commandsPerS)} commands/s from elsewhere`,
    );
  }
  log();

  // Scenarios (--rounds times, --side-by-side only).
  const results: ScenarioResult[] = [];
  const rounds = Array.from({ length: opts.rounds }, (_, r) => opts.scenarios.map((sc) => ({ sc, round: r + 1 }))).flat();
  for (const { sc, round } of rounds) {
    if (opts.rounds > 1 && sc === opts.scenarios[0]) log(`━━━ round ${round} of ${opts.rounds} ━━━`);
    const progress = process.stdout.isTTY;
    if (progress) process.stdout.write(`… ${sc.title} (${(1 + subjects.length) * (opts.warmup + opts.duration)} s)`);
    let r: ScenarioResult;
    try {
      r = await runScenario(sc, subjects, bare, opts, watch, redis, results.length % 2 === 1);
    } catch (err) {
      r = { name: sc.name, title: sc.title, target: describeTarget(sc.target), result: 'ERROR', runs: [], problems: [(err as Error).message], notes: [] };
    }
    results.push(r);
    if (progress) process.stdout.write('\r\x1b[K');
    log(table([HEADER, ...scenarioRows(r)], RIGHT));
    for (const n of r.notes) log(`  · ${n}`);
    for (const p of r.problems) log(`  ✗ ERROR: ${p}`);
    log();
  }

  await new Promise((r) => setTimeout(r, 1000));
  for (const s of subjects) {
    s.afterLoad = readMemory(s.proc.pid);
    s.storeAfterLoad = await s.storeSize();
  }

  // Durability: everything read back must survive kill -9 and a restart on the same data (the same data dir, or the
  // same Redis prefix). Not for memory, which keeps nothing.
  for (const s of subjects) {
    if (s.store === 'memory') continue;
    if (opts.cpuProf) {
      log(`kill -9 check skipped: --cpu-prof (the profile is written when the server stops, to ${opts.cpuProf})`);
      continue;
    }
    const who = subjects.length > 1 ? `${s.label}: ` : '';
    try {
      const sample = durabilitySample(s.ctx);
      const before = JSON.stringify(await readPresences(s.ctx, sample.ids));
      await s.proc.kill9();
      s.proc = await startPresently(s.args, RESTART_TIMEOUT_MS);
      s.restartMs = s.proc.startupMs;
      const after = JSON.stringify(await readPresences({ ...s.ctx, url: s.proc.url }, sample.ids));
      if (after !== before) problems.push(`${who}presences read after kill -9 and restart differ from those read before`);
      else log(`${who}kill -9 + restart on the same data: ${sample.note} presences read back identical; restart to ready line ${Math.round(s.restartMs)} ms`);
      s.durability = sample.note;
    } catch (err) {
      problems.push(`${who}durability check failed: ${(err as Error).message}`);
    }
  }
  const stderrErrors: string[] = [];
  for (const s of subjects) {
    const stopCode = await s.proc.stop();
    if (stopCode !== 0) warnings.push(`${subjects.length > 1 ? `${s.label}: ` : ''}Presently did not stop cleanly on SIGTERM: exit ${String(stopCode)}`);
    stderrErrors.push(...s.proc.stderr().split('\n').filter((l) => /"level":(50|60)|\bError\b|Unhandled/.test(l)).map((l) => (subjects.length > 1 ? `${s.label}: ${l}` : l)));
  }
  await bare.stop();
  await runCleanups();
  if (redis) {
    const total = [...deletedKeys.values()].reduce((a, b) => a + b, 0);
    log(`deleted the run's ${deletedKeys.size} Redis prefix(es): ${fmt.int(total)} keys`);
    await redis.close();
  }

  // Summary.
  log();
  log('Summary');
  const perScenarios = opts.scenarios.length;
  const roundRow = (i: number) => (opts.rounds > 1 && i % perScenarios === 0 ? [[`round ${i / perScenarios + 1}`]] : []);
  log(table([HEADER, ...results.flatMap((r, i) => [...roundRow(i), ...scenarioRows(r)])], RIGHT));
  log();
  const sizeVerdicts = opts.sizes ? sideBySideVerdicts(results, subjects[0]!.label, subjects.at(-1)!.label) : null;
  if (sizeVerdicts) {
    log(sideBySideTable(sizeVerdicts, subjects[0]!.label, subjects.at(-1)!.label));
    log();
  }
  if (opts.store === 'redis' && !opts.sizes) {
    log('Redis node vs SQLite node (same run); node µs/req: CPU of the Presently process per request; redis: redis-server during the Redis node\'s load;');
    log('outbox at end: change events not yet dispatched when the load ended (and how long the dispatcher took to catch up);');
    log("incl. catch-up: the load's requests ÷ (its duration + that catch-up), judged against the same target");
    log(table(redisRows(results, ceiling), new Set([1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14])));
    log();
  }
  const summary = subjects.map((s) => {
    const startupMedian = median(s.startups);
    const startupOk = startupMedian < TARGET_STARTUP_MS;
    const rssOk = s.idle ? s.idle.rssMb < TARGET_IDLE_RSS_MB : undefined;
    const who = subjects.length > 1 ? `${s.label}: ` : '';
    log(
      `${who}start-up to ready line: median ${Math.round(startupMedian)} ms of ${s.startups.length} (max ${Math.round(Math.max(...s.startups))} ms)` +
        `${s.restartMs !== undefined ? `; restart on existing data ${Math.round(s.restartMs)} ms` : ''}` +
        `   target < ${TARGET_STARTUP_MS} ms   ${startupOk ? 'PASS' : 'MISS'}`,
    );
    log(`${who}idle RSS: ${s.idle ? fmt.mb(s.idle.rssMb) : '?'}   target < ${TARGET_IDLE_RSS_MB} MB   ${rssOk === undefined ? '?' : rssOk ? 'PASS' : 'MISS'}`);
    const memLine = (label: string, m: Memory | null | undefined) => (m ? `${label} ${fmt.mb(m.rssMb)} (peak ${fmt.mb(m.peakMb)})` : `${label} ?`);
    log(`${who}RSS: ${memLine(`after creating ${fmt.int(s.ctx.users.count)} users`, s.afterSetup)}; ${memLine('after the load', s.afterLoad)}`);
    if (s.store !== 'memory') {
      const size = (b: number | null | undefined) => (b === null || b === undefined ? '?' : fmt.mb(b / 2 ** 20));
      log(`${who}store size (${storeSizeLabel(s.store)}): after creating the users ${size(s.storeAfterSetup)}; after the load ${size(s.storeAfterLoad)}`);
    }
    return { s, startupMedian, startupOk, rssOk };
  });
  if (stderrErrors.length) log(`Presently's stderr has ${stderrErrors.length} error line(s), e.g.: ${stderrErrors[0]!.slice(0, 300)}`);
  const scenarioErrors = results.filter((r) => r.result === 'ERROR');
  for (const w of warnings) log(`! warning: ${w}`);
  for (const p of problems) log(`✗ ERROR: ${p}`);
  if (scenarioErrors.length) log(`✗ ERROR in: ${scenarioErrors.map((r) => r.name).join(', ')} — these numbers are not valid`);
  const totalS = (performance.now() - began) / 1000;
  log(`bench took ${totalS.toFixed(0)} s; load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  if (opts.json) {
    const first = summary[0]!;
    const json = {
      date: new Date().toISOString(),
      machine: { ...mach, loadavgAfter: loadavg().map((l) => Math.round(l * 100) / 100) },
      options: {
        duration: opts.duration, warmup: opts.warmup, connections: opts.connections, store: opts.store, users: opts.users,
        ...(opts.sizes ? { sizes: opts.sizes, rounds: opts.rounds } : {}),
        ...(opts.store === 'redis' ? { ownRedis: opts.ownRedis, redisAof: opts.redisAof } : {}),
      },
      // The first (or only) Presently, as in runs before --store redis.
      startup: {
        samplesMs: first.s.startups.map(Math.round),
        medianMs: Math.round(first.startupMedian),
        restartMs: first.s.restartMs === undefined ? null : Math.round(first.s.restartMs),
        targetMs: TARGET_STARTUP_MS,
        result: first.startupOk ? 'PASS' : 'MISS',
      },
      rss: {
        idleMb: first.s.idle?.rssMb ?? null,
        afterSetupMb: first.s.afterSetup?.rssMb ?? null,
        afterLoadMb: first.s.afterLoad?.rssMb ?? null,
        peakMb: first.s.afterLoad?.peakMb ?? null,
        targetIdleMb: TARGET_IDLE_RSS_MB,
        result: first.rssOk === undefined ? null : first.rssOk ? 'PASS' : 'MISS',
      },
      servers: summary.map(({ s, startupMedian }) => ({
        label: s.label,
        store: s.store,
        startupSamplesMs: s.startups.map(Math.round),
        startupMedianMs: Math.round(startupMedian),
        restartMs: s.restartMs === undefined ? null : Math.round(s.restartMs),
        idleRssMb: s.idle?.rssMb ?? null,
        setupMs: Math.round(s.setupMs),
        afterSetupRssMb: s.afterSetup?.rssMb ?? null,
        afterLoadRssMb: s.afterLoad?.rssMb ?? null,
        peakRssMb: s.afterLoad?.peakMb ?? null,
        storeAfterSetupBytes: s.storeAfterSetup,
        storeAfterLoadBytes: s.storeAfterLoad ?? null,
        durability: s.durability ?? null,
      })),
      redis: redis ? { url: opts.redisUrl, pid: redis.pid, ceiling, background, deletedKeys: Object.fromEntries(deletedKeys) } : null,
      scenarios: results,
      ...(sizeVerdicts ? { sideBySide: { sizes: opts.sizes, rounds: opts.rounds, verdicts: sizeVerdicts } } : {}),
      problems,
      warnings,
      stderrErrors: stderrErrors.slice(0, 20),
      seconds: Math.round(totalS),
    };
    writeFileSync(opts.json, `${JSON.stringify(json, null, 2)}\n`);
    log(`results written to ${opts.json}`);
  }
  return problems.length || scenarioErrors.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await runCleanups().catch(() => {});
    process.exit(1);
  },
);
