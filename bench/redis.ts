/**
 * Redis for `npm run bench -- --store redis`: the bench's own connection (to find redis-server's process, count its
 * commands and delete the run's keys), a key prefix of the run's own, and `redis-benchmark` as the ceiling.
 *
 * The bench's Presently nodes share the Redis at `--redis-url` with whatever else uses it (other test runs): every
 * key they write starts with a prefix of this run (`presently-bench-<pid>-<random>:`), deleted at the end (also
 * after an error or Ctrl-C). redis-benchmark's GET/SET test uses one key, `key:__rand_int__`, deleted afterwards
 * unless it existed before.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { parseRedisUrl, redact, SHARDS } from '../src/store/redis/redisStore.ts';
import { fmt, log } from './load.ts';
import { onCleanup, readCpuSeconds, tempDataDir, trackChild } from './procs.ts';

export const DEFAULT_REDIS_URL = process.env.PRESENTLY_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** How long the bench waits, after a load on Redis, for the dispatchers to empty the outbox. */
export const OUTBOX_WAIT_MS = 120_000;

/** redis-benchmark's run: the ceiling printed beside the Redis figures. */
export const REDIS_BENCHMARK = { requests: 200_000, connections: 50 };

/** A key prefix nobody else uses. */
export function benchPrefix(): string {
  return `presently-bench-${process.pid}-${randomBytes(4).toString('hex')}:`;
}

/** A fresh prefix for the run, its keys deleted at the end (also on Ctrl-C): `deleted` gets how many. */
export function registerPrefix(redis: BenchRedis, deleted: Map<string, number>): string {
  const prefix = benchPrefix();
  onCleanup(async () => {
    deleted.set(prefix, await redis.deletePrefix(prefix));
  });
  return prefix;
}

export interface BenchRedis {
  url: string;
  /** host and port when `url` names one Redis (not a cluster): where redis-benchmark goes. */
  single: { host: string; port: number; db: number; password?: string; username?: string } | null;
  /** redis-server's pid when it runs on this machine (INFO's process_id is a local redis-server), else null. */
  pid: number | null;
  /** INFO stats total_commands_processed (summed over the masters of a cluster). */
  commandsProcessed(): Promise<number | null>;
  /**
   * INFO commandstats: calls and µs by command (summed over the masters). Commands a script runs are counted too,
   * under their own names, besides the script's `evalsha`.
   */
  commandStats(): Promise<CommandStats | null>;
  /**
   * Change events waiting in the outbox of the data under `prefix` (XLEN of each shard's stream): what the nodes'
   * dispatchers have not turned into deliveries yet.
   */
  outboxLength(prefix: string): Promise<number>;
  /** Waits until that outbox is empty, for at most `maxMs`; resolves to how long it took and what was left. */
  waitOutboxDrained(prefix: string, maxMs: number): Promise<{ ms: number; left: number }>;
  /**
   * INFO memory used_memory in bytes, summed over the masters: with a baseline read before, how much a run's data
   * takes (Redis-wide, so whatever else uses a shared Redis meanwhile is in it too); null when unreadable.
   */
  usedMemory(): Promise<number | null>;
  /** SCAN MATCH prefix* and UNLINK, on every master; resolves to the number of keys deleted. */
  deletePrefix(prefix: string): Promise<number>;
  close(): Promise<void>;
}

/** Calls and µs (Redis's own time running it) by command name. */
export type CommandStats = Record<string, { calls: number; usec: number }>;

/** b − a, commands with no call left out. */
export function commandStatsDelta(a: CommandStats, b: CommandStats): CommandStats {
  const out: CommandStats = {};
  for (const [cmd, s] of Object.entries(b)) {
    const calls = s.calls - (a[cmd]?.calls ?? 0);
    if (calls > 0) out[cmd] = { calls, usec: s.usec - (a[cmd]?.usec ?? 0) };
  }
  return out;
}

export async function connectRedis(url: string): Promise<BenchRedis> {
  const target = parseRedisUrl(url);
  const client: Redis | Cluster = target.kind === 'single' ? new Redis(url, { lazyConnect: true }) : new Cluster(target.nodes, { lazyConnect: true });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    throw new Error(`cannot reach Redis at ${redact(url)}: ${(err as Error).message}`);
  }
  const masters = (): Redis[] => (client instanceof Cluster ? client.nodes('master') : [client]);
  let single: BenchRedis['single'] = null;
  if (target.kind === 'single') {
    const u = new URL(url);
    single = {
      host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
      port: u.port ? Number(u.port) : 6379,
      db: Number(u.pathname.replace(/^\//, '') || '0'),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.username && u.password ? { username: decodeURIComponent(u.username) } : {}),
    };
  }
  // The redis-server process, if it is one of this machine's (its process_id names a redis-server in /proc).
  let pid: number | null = null;
  if (target.kind === 'single') {
    const info = await client.info('server');
    const p = Number(/^process_id:(\d+)/m.exec(info)?.[1] ?? NaN);
    try {
      if (Number.isFinite(p) && /redis/.test(readFileSync(`/proc/${p}/comm`, 'utf8')) && readCpuSeconds(p) !== null) pid = p;
    } catch {
      // another machine, or another PID namespace
    }
  }
  // The key layout of src/store/redis/redisStore.ts: shard k's outbox stream is `<prefix>{<prefix>s<k>}:out`.
  const outboxLength = async (prefix: string): Promise<number> => {
    const lengths = await Promise.all(Array.from({ length: SHARDS }, (_, k) => client.xlen(`${prefix}{${prefix}s${k}}:out`)));
    return lengths.reduce((a, b) => a + b, 0);
  };
  /** An INFO field summed over the masters, or null when a node does not answer or lacks it. */
  const sumInfo = async (section: string, field: string): Promise<number | null> => {
    try {
      let total = 0;
      for (const node of masters()) total += Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(await node.info(section))?.[1] ?? NaN);
      return Number.isFinite(total) ? total : null;
    } catch {
      return null;
    }
  };
  return {
    url,
    single,
    pid,
    commandsProcessed: () => sumInfo('stats', 'total_commands_processed'),
    async commandStats() {
      try {
        const out: CommandStats = {};
        for (const node of masters()) {
          for (const m of (await node.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
            const cur = out[m[1]!] ?? { calls: 0, usec: 0 };
            out[m[1]!] = { calls: cur.calls + Number(m[2]), usec: cur.usec + Number(m[3]) };
          }
        }
        return out;
      } catch {
        return null;
      }
    },
    outboxLength,
    usedMemory: () => sumInfo('memory', 'used_memory'),
    async waitOutboxDrained(prefix, maxMs) {
      const t0 = performance.now();
      let left = await outboxLength(prefix);
      while (left > 0 && performance.now() - t0 < maxMs) {
        await new Promise((r) => setTimeout(r, 50));
        left = await outboxLength(prefix);
      }
      return { ms: performance.now() - t0, left };
    },
    async deletePrefix(prefix) {
      if (!/^[\w.:-]+$/.test(prefix)) throw new Error(`refusing to delete keys under '${prefix}'`);
      let deleted = 0;
      for (const node of masters()) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          // Cluster: UNLINK of several keys needs one slot; delete one by one there.
          if (keys.length) deleted += client instanceof Cluster ? (await Promise.all(keys.map((k) => node.unlink(k)))).reduce((a, b) => a + b, 0) : await node.unlink(...keys);
        } while (cursor !== '0');
      }
      return deleted;
    },
    async close() {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}

export interface RedisBenchmarkResult {
  command: string;
  /** req/s by test (GET, SET). */
  rps: Record<string, number>;
  /** p50 / p99 latency by test, ms. */
  p50: Record<string, number>;
  p99: Record<string, number>;
  /** redis-server's CPU during the whole redis-benchmark run, % of one core (null when not measurable). */
  serverCpu: number | null;
  /** redis-benchmark's own CPU, % of one core. */
  clientCpu: number | null;
  seconds: number;
}

const BENCH_KEY = 'key:__rand_int__';

/**
 * `redis-benchmark -q -t get,set -n <n> -c <c> -P 1` against the bench's Redis (with `--csv` to read its numbers;
 * `-q` and `--csv` change only the output). Rejects when redis-benchmark is not installed or fails.
 */
export async function runRedisBenchmark(redis: BenchRedis, opts: { requests: number; connections: number }): Promise<RedisBenchmarkResult> {
  const s = redis.single;
  if (!s) throw new Error('redis-benchmark needs one Redis, not a cluster');
  const args = ['-h', s.host, '-p', String(s.port), '--dbnum', String(s.db), '-q', '-t', 'get,set', '-n', String(opts.requests), '-c', String(opts.connections), '-P', '1'];
  const command = `redis-benchmark ${args.join(' ')}`;
  // The password goes on the command line only when the URL has one (redis-benchmark has no other way).
  const auth = s.password ? [...(s.username ? ['--user', s.username] : []), '-a', s.password] : [];
  // Whether the one key the test writes exists already (then it is left alone afterwards).
  const probe = new Redis(redis.url, { lazyConnect: true });
  probe.on('error', () => {});
  await probe.connect();
  const existed = (await probe.exists(BENCH_KEY)) === 1;
  const cpu0 = redis.pid === null ? null : readCpuSeconds(redis.pid);
  const t0 = performance.now();
  const child = spawn('redis-benchmark', [...args, ...auth, '--csv'], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  let clientCpu: number | null = null;
  let lastClientCpu: number | null = null;
  const sampler = setInterval(() => {
    if (child.pid !== undefined) lastClientCpu = readCpuSeconds(child.pid) ?? lastClientCpu;
  }, 100);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  }).finally(() => clearInterval(sampler));
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = redis.pid === null ? null : readCpuSeconds(redis.pid);
  if (lastClientCpu !== null) clientCpu = (lastClientCpu / seconds) * 100;
  if (!existed) await probe.del(BENCH_KEY);
  await probe.quit();
  if (code !== 0) throw new Error(`${command} exited with ${code}: ${err.trim() || out.trim()}`);
  const rps: Record<string, number> = {};
  const p50: Record<string, number> = {};
  const p99: Record<string, number> = {};
  for (const line of out.split('\n')) {
    const cells = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    if (cells.length < 7 || cells[0] === 'test') continue;
    rps[cells[0]!] = Number(cells[1]);
    p50[cells[0]!] = Number(cells[4]);
    p99[cells[0]!] = Number(cells[6]);
  }
  if (!rps.GET || !rps.SET) throw new Error(`could not read redis-benchmark's output: ${out.slice(0, 500)}`);
  return {
    command,
    rps,
    p50,
    p99,
    serverCpu: cpu0 === null || cpu1 === null ? null : ((cpu1 - cpu0) / seconds) * 100,
    clientCpu,
    seconds,
  };
}

/** Redis's own CPU and command rate over `ms` with nothing of ours running: what the rest of the machine sends it. */
export async function redisBackground(redis: BenchRedis, ms: number): Promise<{ cpuPct: number | null; commandsPerS: number | null }> {
  const c0 = redis.pid === null ? null : readCpuSeconds(redis.pid);
  const n0 = await redis.commandsProcessed();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const wall = (performance.now() - t0) / 1000;
  const c1 = redis.pid === null ? null : readCpuSeconds(redis.pid);
  const n1 = await redis.commandsProcessed();
  return {
    cpuPct: c0 === null || c1 === null ? null : ((c1 - c0) / wall) * 100,
    commandsPerS: n0 === null || n1 === null ? null : (n1 - n0) / wall,
  };
}

export function printCeiling(c: RedisBenchmarkResult): void {
  log(`ceiling: ${c.command}`);
  log(
    `  GET ${fmt.int(c.rps.GET!)} req/s (p50 ${c.p50.GET} ms, p99 ${c.p99.GET} ms), SET ${fmt.int(c.rps.SET!)} req/s ` +
      `(p50 ${c.p50.SET} ms, p99 ${c.p99.SET} ms); redis-server ${fmt.pct(c.serverCpu)} of a core, ` +
      `redis-benchmark ${fmt.pct(c.clientCpu)}, ${c.seconds.toFixed(1)} s`,
  );
}

/** A free TCP port on 127.0.0.1 (bound and released: another process could take it in between, rarely). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * `--own-redis`: a redis-server of the bench's own on a free port, so its CPU and commands are the bench's alone
 * (a shared Redis also serves whatever else runs on the machine). No persistence, or with `aof` an append-only file
 * with `appendfsync everysec` in a temp dir. Killed with the bench's other children.
 */
export async function startOwnRedis(aof: boolean): Promise<{ url: string; args: string[] }> {
  const port = await freePort();
  const dir = tempDataDir();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir,
    ...(aof ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'])];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child, true);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d.slice(0, 10_000)));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d.slice(0, 10_000)));
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`redis-server ${args.join(' ')} exited with ${child.exitCode}: ${out.slice(-500)}`);
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') {
        probe.disconnect();
        return { url, args };
      }
    } catch {
      probe.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not answer in 5 s: ${out.slice(-500)}`);
}
