/**
 * `npm run bench [-- options]`: load-tests a real Presently process with autocannon and, in the same run, a bare
 * `node:http` server answering the same bytes (bench/bare-server.ts), scenario by scenario (bench/scenarios.ts).
 * Prints req/s, p50/p99, non-2xx/errors and the ratio to the bare server against each target, then start-up time
 * and RSS. Exit code 0 also when a target is missed (it is a measurement); 1 when anything went wrong (non-2xx
 * answers, connection errors, wrong answers, writes that did not land or did not survive a restart).
 */
import autocannon from 'autocannon';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { call, mapLimit, send, type BenchRequest } from './http.ts';
import {
  installCleanup,
  readCpuSeconds,
  readMemory,
  readRunQueueWaitMs,
  removeTempDir,
  startBare,
  startPresently,
  tempDataDir,
  type BareServer,
  type Memory,
  type PresentlyProcess,
} from './procs.ts';
import { ADELE, SCENARIOS, TENANT, describeTarget, readPresences, type BenchContext, type Load, type Scenario } from './scenarios.ts';

const TARGET_STARTUP_MS = 1000;
const TARGET_IDLE_RSS_MB = 150;

// ---------------------------------------------------------------------------------------------------------------
// Options

const USAGE = `usage: npm run bench -- [options]
  --duration S      seconds of measured load per scenario and server (default 10)
  --warmup S        seconds of warm-up load before each measurement (default 2)
  --connections N   concurrent connections (default 50)
  --store S         sqlite | memory (default sqlite, in a fresh temp data dir)
  --users N         users created for the scenarios (default 650)
  --startups N      start-up samples, the measured server included (default 3)
  --only A,B        run only these scenarios
  --json FILE       also write the results as JSON
  --list            list the scenarios and exit
  --scheduler       run only the scheduler benchmark instead (bench/scheduler.ts; --scheduler --help for its options)`;

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      store: { type: 'string', default: 'sqlite' },
      users: { type: 'string', default: '650' },
      startups: { type: 'string', default: '3' },
      only: { type: 'string' },
      json: { type: 'string' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const num = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}`);
    return n;
  };
  const store = values.store;
  if (store !== 'sqlite' && store !== 'memory') throw new Error('--store must be sqlite or memory');
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only?.filter((n) => !SCENARIOS.some((s) => s.name === n)) ?? [];
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (have: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  return {
    duration: num('duration', values.duration, 1),
    warmup: num('warmup', values.warmup, 0),
    connections: Math.round(num('connections', values.connections, 1)),
    store,
    users: Math.round(num('users', values.users, 1)),
    startups: Math.round(num('startups', values.startups, 1)),
    scenarios: only ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS,
    json: values.json,
    list: values.list,
    help: values.help,
  };
}
type Options = ReturnType<typeof options>;

// ---------------------------------------------------------------------------------------------------------------
// Load

interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  max: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** CPU used by the server process during the load, % of one core. */
  serverCpu: number | null;
  /** CPU used by the bench process (autocannon) during the load, % of one core. */
  clientCpu: number;
  /**
   * Time the server's event-loop thread was ready to run but had no core (other processes had them), % of the
   * load's duration: how much the rest of the machine took from it.
   */
  serverWait: number | null;
  seconds: number;
  /** How many requests a 'generate' load built (sent, plus at most one per connection never sent). */
  built: number;
}

let loadCounter = 0;

function toAutocannonRequest(r: BenchRequest): autocannon.Request {
  return { method: r.method, path: r.path, headers: r.headers, ...(r.body !== undefined ? { body: r.body } : {}) } as autocannon.Request;
}

async function runLoad(baseUrl: string, serverPid: number, load: Load, tag: string, seconds: number, connections: number): Promise<Measurement> {
  let built = 0;
  let requests: autocannon.Request[];
  if (load.kind === 'fixed') requests = [toAutocannonRequest(load.request)];
  else if (load.kind === 'cycle') requests = load.requests.map(toAutocannonRequest);
  else {
    const generate = load.request;
    requests = [
      {
        setupRequest: (req: autocannon.Request) => ({ ...req, ...toAutocannonRequest(generate(built++, tag)) }),
      } as autocannon.Request,
    ];
  }
  const cpu0 = readCpuSeconds(serverPid);
  const wait0 = readRunQueueWaitMs(serverPid);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon({ url: baseUrl, connections, duration: seconds, timeout: 10, requests }, (err: unknown, res: autocannon.Result) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res),
    );
  });
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = readCpuSeconds(serverPid);
  const wait1 = readRunQueueWaitMs(serverPid);
  const client = process.cpuUsage(client0);
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  return {
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    serverCpu: cpu0 === null || cpu1 === null ? null : ((cpu1 - cpu0) / wall) * 100,
    clientCpu: ((client.user + client.system) / 1e6 / wall) * 100,
    serverWait: wait0 === null || wait1 === null ? null : ((wait1 - wait0) / 1000 / wall) * 100,
    seconds: result.duration,
    built,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Output

const fmt = {
  int: (n: number) => Math.round(n).toLocaleString('en-US'),
  // autocannon's latency percentiles have 1 ms resolution; 0 means under a millisecond.
  ms: (n: number) => (n === 0 ? '<1' : Number.isInteger(n) ? String(n) : n.toFixed(1)),
  pct: (n: number | null) => (n === null ? '?' : `${Math.round(n)}%`),
  mb: (n: number) => `${n.toFixed(1)} MB`,
};

function table(rows: string[][], rightAligned: Set<number>): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => {
          const pad = ' '.repeat(widths[c]! - [...cell].length);
          return rightAligned.has(c) ? pad + cell : cell + pad;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function log(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// ---------------------------------------------------------------------------------------------------------------
// Scenario run

type Result = 'PASS' | 'MISS' | 'ERROR' | '—';

interface ScenarioResult {
  name: string;
  title: string;
  target: string;
  bare?: Measurement;
  presently?: Measurement;
  ratio?: number;
  result: Result;
  problems: string[];
  notes: string[];
}

async function runScenario(sc: Scenario, ctx: BenchContext, presently: PresentlyProcess, bare: BareServer, opts: Options): Promise<ScenarioResult> {
  const out: ScenarioResult = { name: sc.name, title: sc.title, target: describeTarget(sc.target), result: 'ERROR', problems: [], notes: [] };
  const load = sc.load(ctx);
  const sample = load.kind === 'fixed' ? load.request : load.kind === 'cycle' ? load.requests[0]! : load.request(0, `${sc.name}-sample`);

  // 1. Presently's answer to one sample request: must be right, and is what the bare server will replay.
  const res = await send(presently.url, sample);
  if (res.status < 200 || res.status > 299) {
    out.problems.push(`sample request answered ${res.status}: ${res.text.slice(0, 300)}`);
    return out;
  }
  const wrong = sc.checkSample?.(res, ctx);
  if (wrong) {
    out.problems.push(`wrong answer to the sample request: ${wrong}`);
    return out;
  }
  const headers: Record<string, string> = {};
  for (const h of ['content-type', 'odata-version']) {
    const v = res.headers.get(h);
    if (v !== null) headers[h] = v;
  }
  await bare.respond({ status: res.status, headers, body: res.body });
  const bareRes = await send(bare.url, sample);
  if (bareRes.status !== res.status || bareRes.body.length !== res.body.length) {
    out.problems.push(`bare server did not replay the sample (${bareRes.status}, ${bareRes.body.length} bytes)`);
    return out;
  }
  out.notes.push(`response body ${fmt.int(res.body.length)} bytes${sample.body ? `, request body ${fmt.int(Buffer.byteLength(sample.body))} bytes` : ''}`);

  // 2. Warm both up, then measure both back to back.
  const tag = (server: string, phase: string) => `${sc.name}-${server}-${phase}-${++loadCounter}`;
  if (opts.warmup > 0) {
    await runLoad(bare.url, bare.pid, load, tag('bare', 'warmup'), opts.warmup, opts.connections);
    await runLoad(presently.url, presently.pid, load, tag('presently', 'warmup'), opts.warmup, opts.connections);
  }
  out.bare = await runLoad(bare.url, bare.pid, load, tag('bare', 'measure'), opts.duration, opts.connections);
  const presentlyTag = tag('presently', 'measure');
  out.presently = await runLoad(presently.url, presently.pid, load, presentlyTag, opts.duration, opts.connections);
  out.ratio = out.presently.rps / out.bare.rps;
  if (out.bare.serverWait !== null && out.presently.serverWait !== null) {
    out.notes.push(
      `run-queue wait (the server's event loop ready to run but without a core): bare ${fmt.pct(out.bare.serverWait)}, ` +
        `Presently ${fmt.pct(out.presently.serverWait)} of the load's duration`,
    );
  }

  // 3. Anything but 2xx invalidates the numbers.
  for (const [server, m] of [['bare', out.bare], ['Presently', out.presently]] as const) {
    if (m.non2xx || m.errors) {
      out.problems.push(
        `${server}: ${m.non2xx} non-2xx answers (${JSON.stringify(m.statusCodes)}), ${m.errors} connection errors (${m.timeouts} timeouts)`,
      );
    }
  }
  if (out.presently.non2xx) {
    const again = await send(presently.url, sample);
    out.problems.push(
      again.status >= 200 && again.status <= 299
        ? `the sample request alone still gets ${again.status}: the failures came from other requests of the load or from the load itself`
        : `Presently now answers the sample request with ${again.status}: ${again.text.slice(0, 300)}`,
    );
  }
  if (out.presently.requests === 0) out.problems.push('Presently answered no request at all');

  // 4. The scenario's own check after the load (e.g. writes landed).
  if (sc.verify) {
    try {
      const v = await sc.verify(ctx, { tag: presentlyTag, built: out.presently.built, connections: opts.connections });
      out.problems.push(...v.problems);
      out.notes.push(...v.notes);
    } catch (err) {
      out.problems.push(`check after the load failed: ${(err as Error).message}`);
    }
  }

  if (out.problems.length) out.result = 'ERROR';
  else if (!sc.target) out.result = '—';
  else if (sc.target.metric === 'ratio') out.result = out.ratio >= sc.target.min ? 'PASS' : 'MISS';
  else out.result = out.presently.p99 < sc.target.maxMs ? 'PASS' : 'MISS';
  return out;
}

function scenarioRows(r: ScenarioResult): string[][] {
  const row = (server: string, m: Measurement | undefined, last: boolean) => [
    server === 'bare' ? r.title : '',
    server,
    m ? fmt.int(m.rps) : '-',
    m ? fmt.ms(m.p50) : '-',
    m ? fmt.ms(m.p99) : '-',
    m ? `${m.non2xx}/${m.errors}` : '-',
    m ? fmt.pct(m.serverCpu) : '-',
    m ? fmt.pct(m.clientCpu) : '-',
    last && r.ratio !== undefined ? r.ratio.toFixed(2) : '',
    last ? r.target : '',
    last ? r.result : '',
  ];
  return [row('bare', r.bare, false), row('presently', r.presently, true)];
}

const HEADER = ['scenario', 'server', 'req/s', 'p50 ms', 'p99 ms', 'non2xx/err', 'srv cpu', 'cli cpu', 'ratio', 'target', 'result'];
const RIGHT = new Set([2, 3, 4, 5, 6, 7, 8]);

// ---------------------------------------------------------------------------------------------------------------
// Main

function machine() {
  let cpuModel = 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  return {
    cpus: availableParallelism(),
    cpuModel,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${process.platform} ${release()}`,
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

async function main(): Promise<number> {
  // The scheduler benchmark is a separate run with its own options (bench/scheduler.ts).
  if (process.argv.includes('--scheduler')) {
    const { runSchedulerBench } = await import('./scheduler.ts');
    return runSchedulerBench(process.argv.slice(2).filter((a) => a !== '--scheduler'));
  }
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
    for (const s of SCENARIOS) log(`${s.name}  [${describeTarget(s.target)}]\n  ${s.description}\n`);
    return 0;
  }
  installCleanup();
  const began = performance.now();
  const problems: string[] = [];
  const mach = machine();
  log(`Presently bench — ${mach.cpus} × ${mach.cpuModel}, ${mach.memoryGb} GB, Node ${mach.node}, load average ${mach.loadavg.join(' ')}`);
  log(
    `store ${opts.store}, ${opts.connections} connections, ${opts.warmup} s warm-up + ${opts.duration} s per server and scenario, ` +
      `${opts.users} users`,
  );
  log();

  // Start-up: extra samples on throw-away data dirs, then the server under test.
  const storeArgs = (dir: string) => ['--data', dir, '--store', opts.store];
  const startups: number[] = [];
  const stopCodes: (number | string | null)[] = [];
  const warnings: string[] = [];
  for (let i = 1; i < opts.startups; i++) {
    const dir = tempDataDir();
    const p = await startPresently(storeArgs(dir));
    startups.push(p.startupMs);
    stopCodes.push(await p.stop());
    removeTempDir(dir);
  }
  const dataDir = tempDataDir();
  let presently = await startPresently(storeArgs(dataDir));
  startups.push(presently.startupMs);
  log(`start-up to ready line: ${startups.map((s) => `${Math.round(s)} ms`).join(', ')}`);
  if (stopCodes.some((c) => c !== 0)) {
    warnings.push(`a start-up sample did not stop cleanly on SIGTERM sent right after its ready line: exit ${stopCodes.map(String).join(', ')}`);
  }

  await new Promise((r) => setTimeout(r, 2000));
  const idle = readMemory(presently.pid);
  log(`idle RSS after start-up + 2 s: ${idle ? fmt.mb(idle.rssMb) : 'unknown (no /proc)'}`);

  // Tokens and users.
  const token = async (body: object) =>
    ((await call(presently.url, 'POST', '/_presently/tokens', { body: { ...body, expiresIn: 3600 } })).json as { access_token: string }).access_token;
  const adeleToken = await token({ userId: ADELE });
  const appToken = await token({ roles: ['Presence.ReadWrite.All'] });
  const t0 = performance.now();
  const stamp = Date.now().toString(36);
  const users = await mapLimit(Array.from({ length: opts.users }, (_, i) => i), 8, async (i) => {
    const res = await call(presently.url, 'POST', `/_presently/tenants/${TENANT}/users`, {
      body: { userPrincipalName: `bench${i}-${stamp}@contoso.example`, displayName: `Bench ${i}` },
      expect: 201,
    });
    return (res.json as { id: string }).id;
  });
  log(`created ${users.length} users in ${Math.round(performance.now() - t0)} ms`);
  const ctx: BenchContext = { url: presently.url, adeleToken, appToken, users };
  const afterSetup = readMemory(presently.pid);

  const bare = await startBare();
  log();

  // Scenarios.
  const results: ScenarioResult[] = [];
  for (const sc of opts.scenarios) {
    const progress = process.stdout.isTTY;
    if (progress) process.stdout.write(`… ${sc.title} (${2 * (opts.warmup + opts.duration)} s)`);
    let r: ScenarioResult;
    try {
      r = await runScenario(sc, ctx, presently, bare, opts);
    } catch (err) {
      r = { name: sc.name, title: sc.title, target: describeTarget(sc.target), result: 'ERROR', problems: [(err as Error).message], notes: [] };
    }
    results.push(r);
    if (progress) process.stdout.write('\r\x1b[K');
    log(table([HEADER, ...scenarioRows(r)], RIGHT));
    for (const n of r.notes) log(`  · ${n}`);
    for (const p of r.problems) log(`  ✗ ERROR: ${p}`);
    log();
  }

  await new Promise((r) => setTimeout(r, 1000));
  const afterLoad = readMemory(presently.pid);

  // Durability: everything read back must survive kill -9 and a restart on the same data dir (sqlite only).
  let restartMs: number | undefined;
  if (opts.store === 'sqlite') {
    try {
      const before = JSON.stringify(await readPresences(ctx, users));
      await presently.kill9();
      presently = await startPresently(storeArgs(dataDir));
      restartMs = presently.startupMs;
      const after = JSON.stringify(await readPresences({ ...ctx, url: presently.url }, users));
      if (after !== before) problems.push('presences read after kill -9 and restart differ from those read before');
      else log(`kill -9 + restart on the same data: all ${users.length} presences read back identical; restart to ready line ${Math.round(restartMs)} ms`);
    } catch (err) {
      problems.push(`durability check failed: ${(err as Error).message}`);
    }
  }
  const stopCode = await presently.stop();
  if (stopCode !== 0) warnings.push(`Presently did not stop cleanly on SIGTERM: exit ${String(stopCode)}`);
  await bare.stop();
  const stderrErrors = presently.stderr().split('\n').filter((l) => /"level":(50|60)|\bError\b|Unhandled/.test(l));

  // Summary.
  log('Summary');
  log(table([HEADER, ...results.flatMap(scenarioRows)], RIGHT));
  log();
  const startupMedian = median(startups);
  const startupOk = startupMedian < TARGET_STARTUP_MS;
  log(
    `start-up to ready line: median ${Math.round(startupMedian)} ms of ${startups.length} (max ${Math.round(Math.max(...startups))} ms)` +
      `${restartMs !== undefined ? `; restart on existing data ${Math.round(restartMs)} ms` : ''}` +
      `   target < ${TARGET_STARTUP_MS} ms   ${startupOk ? 'PASS' : 'MISS'}`,
  );
  const rssOk = idle ? idle.rssMb < TARGET_IDLE_RSS_MB : undefined;
  log(`idle RSS: ${idle ? fmt.mb(idle.rssMb) : '?'}   target < ${TARGET_IDLE_RSS_MB} MB   ${rssOk === undefined ? '?' : rssOk ? 'PASS' : 'MISS'}`);
  const memLine = (label: string, m: Memory | null) => (m ? `${label} ${fmt.mb(m.rssMb)} (peak ${fmt.mb(m.peakMb)})` : `${label} ?`);
  log(`RSS: ${memLine('after creating users', afterSetup)}; ${memLine('after the load', afterLoad)}`);
  if (stderrErrors.length) log(`Presently's stderr has ${stderrErrors.length} error line(s), e.g.: ${stderrErrors[0]!.slice(0, 300)}`);
  const scenarioErrors = results.filter((r) => r.result === 'ERROR');
  for (const w of warnings) log(`! warning: ${w}`);
  for (const p of problems) log(`✗ ERROR: ${p}`);
  if (scenarioErrors.length) log(`✗ ERROR in: ${scenarioErrors.map((r) => r.name).join(', ')} — these numbers are not valid`);
  const totalS = (performance.now() - began) / 1000;
  log(`bench took ${totalS.toFixed(0)} s; load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  if (opts.json) {
    const json = {
      date: new Date().toISOString(),
      machine: { ...mach, loadavgAfter: loadavg().map((l) => Math.round(l * 100) / 100) },
      options: { duration: opts.duration, warmup: opts.warmup, connections: opts.connections, store: opts.store, users: opts.users },
      startup: {
        samplesMs: startups.map(Math.round),
        medianMs: Math.round(startupMedian),
        restartMs: restartMs === undefined ? null : Math.round(restartMs),
        targetMs: TARGET_STARTUP_MS,
        result: startupOk ? 'PASS' : 'MISS',
      },
      rss: {
        idleMb: idle?.rssMb ?? null,
        afterSetupMb: afterSetup?.rssMb ?? null,
        afterLoadMb: afterLoad?.rssMb ?? null,
        peakMb: afterLoad?.peakMb ?? null,
        targetIdleMb: TARGET_IDLE_RSS_MB,
        result: rssOk === undefined ? null : rssOk ? 'PASS' : 'MISS',
      },
      scenarios: results,
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
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
