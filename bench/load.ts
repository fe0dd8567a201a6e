/**
 * The load itself (autocannon, programmatic) and what is measured around it, shared by the bench's modes
 * (bench/run.ts: one server at a time; bench/nodes.ts: several Presently nodes at once), plus the output helpers.
 *
 * One load is one set of requests (a scenario's `Load`) sent to one or more servers at once, each with its own
 * connections; a `generate` load's counter is shared by all of them, so request `n` is sent once, to whichever server
 * asked for it. Around it the CPU (utime + stime, all threads) and the run-queue wait of every server and of every
 * watched process (redis-server) are read from /proc, and, when a Redis is given, how many commands Redis processed.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import type { BenchRequest } from './http.ts';
import { readCpuSeconds, readRunQueueWaitMs } from './procs.ts';
import { commandStatsDelta, type CommandStats } from './redis.ts';
import type { Load } from './scenarios.ts';

/** One server of a load. */
export interface LoadTarget {
  url: string;
  pid: number;
  connections: number;
}

/** CPU of a process over a load. */
export interface ProcessCpu {
  /** CPU seconds (user + system, all threads) used during the load. */
  seconds: number;
  /** The same, % of one core over the load's wall time. */
  pct: number;
  /** Time its main thread was ready to run but had no core, % of the load's wall time. */
  wait: number | null;
}

export interface Measurement {
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
  /** The same in CPU seconds. */
  serverCpuSeconds: number | null;
  /** CPU used by the bench process (autocannon) during the load, % of one core (the whole load's client). */
  clientCpu: number;
  /**
   * Time the server's event-loop thread was ready to run but had no core (other processes had them), % of the
   * load's duration: how much the rest of the machine took from it.
   */
  serverWait: number | null;
  seconds: number;
  /** How many requests a 'generate' load built (sent, plus at most one per connection never sent) — all targets. */
  built: number;
}

export interface LoadResult {
  /** One per target, in order. */
  targets: Measurement[];
  /** Completed requests of all targets. */
  requests: number;
  /** Sum of the targets' req/s. */
  rps: number;
  wall: number;
  /** CPU of the bench process (autocannon for every target). */
  client: ProcessCpu;
  /** CPU of each watched process (e.g. redis-server), by name; null when /proc could not be read. */
  watched: Record<string, ProcessCpu | null>;
  /**
   * Commands Redis processed during the load (INFO commandstats: the scripts and the commands they ran, all of Redis's
   * traffic — ours and anybody else's), when a reader was given.
   */
  redisCommands: number | null;
  /** The same by command. */
  redisCommandStats: CommandStats | null;
  built: number;
}

export interface Watched {
  name: string;
  pid: number;
}

let counter = 0;

function toAutocannonRequest(r: BenchRequest): autocannon.Request {
  return { method: r.method, path: r.path, headers: r.headers, ...(r.body !== undefined ? { body: r.body } : {}) } as autocannon.Request;
}

/** A unique tag for a load: `<scenario>-<server>-<phase>-<n>`. */
export function loadTag(scenario: string, server: string, phase: string): string {
  return `${scenario}-${server}-${phase}-${++counter}`;
}

function cpuOf(pid: number): { cpu: number | null; wait: number | null } {
  return { cpu: readCpuSeconds(pid), wait: readRunQueueWaitMs(pid) };
}

function cpuBetween(a: { cpu: number | null; wait: number | null }, b: { cpu: number | null; wait: number | null }, wall: number): ProcessCpu | null {
  if (a.cpu === null || b.cpu === null) return null;
  return {
    seconds: b.cpu - a.cpu,
    pct: ((b.cpu - a.cpu) / wall) * 100,
    wait: a.wait === null || b.wait === null ? null : ((b.wait - a.wait) / 1000 / wall) * 100,
  };
}

/**
 * Sends `load` to every target at once for `seconds`, each with its own connections; resolves when all are done.
 * `redisCommands` reads Redis's command counter (before and after).
 */
export async function runLoad(
  load: Load,
  tag: string,
  targets: LoadTarget[],
  seconds: number,
  opts: { watch?: Watched[]; redisCommands?: () => Promise<CommandStats | null> } = {},
): Promise<LoadResult> {
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
  const watch = opts.watch ?? [];
  const cmd0 = opts.redisCommands ? await opts.redisCommands() : null;
  const servers0 = targets.map((t) => cpuOf(t.pid));
  const watched0 = watch.map((w) => cpuOf(w.pid));
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  const results = await Promise.all(
    targets.map(
      (t) =>
        new Promise<autocannon.Result>((resolve, reject) => {
          autocannon({ url: t.url, connections: t.connections, duration: seconds, timeout: 10, requests }, (err: unknown, res: autocannon.Result) =>
            err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res),
          );
        }),
    ),
  );
  const wall = (performance.now() - t0) / 1000;
  const servers1 = targets.map((t) => cpuOf(t.pid));
  const watched1 = watch.map((w) => cpuOf(w.pid));
  const client = process.cpuUsage(client0);
  const cmd1 = opts.redisCommands ? await opts.redisCommands() : null;
  const stats = cmd0 && cmd1 ? commandStatsDelta(cmd0, cmd1) : null;
  // The two INFO calls themselves are not the load's.
  if (stats?.info) {
    stats.info.calls -= 1;
    if (stats.info.calls <= 0) delete stats.info;
  }
  const clientSeconds = (client.user + client.system) / 1e6;
  const clientCpu = (clientSeconds / wall) * 100;
  const measurements = results.map((result, i): Measurement => {
    const statusCodes: Record<string, number> = {};
    for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
    const cpu = cpuBetween(servers0[i]!, servers1[i]!, wall);
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
      serverCpu: cpu?.pct ?? null,
      serverCpuSeconds: cpu?.seconds ?? null,
      clientCpu,
      serverWait: cpu?.wait ?? null,
      seconds: result.duration,
      built,
    };
  });
  return {
    targets: measurements,
    requests: measurements.reduce((s, m) => s + m.requests, 0),
    rps: measurements.reduce((s, m) => s + m.rps, 0),
    wall,
    client: { seconds: clientSeconds, pct: clientCpu, wait: null },
    watched: Object.fromEntries(watch.map((w, i) => [w.name, cpuBetween(watched0[i]!, watched1[i]!, wall)])),
    redisCommands: stats === null ? null : Object.values(stats).reduce((a, s) => a + s.calls, 0),
    redisCommandStats: stats,
    built,
  };
}

/** The commands Redis ran per request, most frequent first: `evalsha 1.0, hmget 1.0, …` (the top `n`). */
export function commandsPerRequest(stats: CommandStats | null, requests: number, n = 6): string {
  if (!stats || requests === 0) return '?';
  return Object.entries(stats)
    .sort((a, b) => b[1].calls - a[1].calls)
    .slice(0, n)
    .map(([cmd, s]) => `${cmd} ${(s.calls / requests).toFixed(2)}`)
    .join(', ');
}

/** µs of CPU per completed request. */
export function usPerRequest(cpuSeconds: number | null | undefined, requests: number): number | null {
  return cpuSeconds === null || cpuSeconds === undefined || requests === 0 ? null : (cpuSeconds * 1e6) / requests;
}

// ---------------------------------------------------------------------------------------------------------------
// Output

export const fmt = {
  int: (n: number) => Math.round(n).toLocaleString('en-US'),
  // autocannon's latency percentiles have 1 ms resolution; 0 means under a millisecond.
  ms: (n: number) => (n === 0 ? '<1' : Number.isInteger(n) ? String(n) : n.toFixed(1)),
  pct: (n: number | null | undefined) => (n === null || n === undefined ? '?' : `${Math.round(n)}%`),
  mb: (n: number) => `${n.toFixed(1)} MB`,
  us: (n: number | null | undefined) => (n === null || n === undefined ? '?' : n < 10 ? n.toFixed(1) : String(Math.round(n))),
  num: (n: number | null | undefined, digits = 2) => (n === null || n === undefined ? '?' : n.toFixed(digits)),
};

export function table(rows: string[][], rightAligned: Set<number>): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => {
          const pad = ' '.repeat(widths[c]! - [...(cell ?? '')].length);
          return rightAligned.has(c) ? pad + cell : cell + pad;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function log(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** A later p99 against an earlier one, each at least 1 ms: autocannon's step, so a p99 under a millisecond is not 0. */
export const p99Ratio = (before: number, after: number): number => Math.max(after, 1) / Math.max(before, 1);

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function machine() {
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

/** Problems of a measurement: anything but 2xx invalidates the numbers. */
export function loadProblems(server: string, m: Measurement): string[] {
  const out: string[] = [];
  if (m.non2xx || m.errors) {
    out.push(`${server}: ${m.non2xx} non-2xx answers (${JSON.stringify(m.statusCodes)}), ${m.errors} connection errors (${m.timeouts} timeouts)`);
  }
  if (m.requests === 0) out.push(`${server} answered no request at all`);
  return out;
}

/** A command-line option with a few allowed values: `v`, or an error naming `--name` and what it takes. */
export function choiceOption<T extends string>(name: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new Error(`--${name} must be ${allowed.join(' or ')}; got '${v}'`);
  return v as T;
}

/** A numeric command-line option: `v` as a number, at least `min`, or an error naming `--name`. */
export function numberOption(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}`);
  return n;
}
