/**
 * The scale run: `npm run bench -- --users 1000,100000,1000000 [other options]` runs the whole bench (bench/run.ts)
 * once per size, each in a process of its own (so no size inherits another's heap or caches), then prints ONE table
 * of every size side by side: each scenario's req/s (and its ratio to the bare server) and p50/p99, the time to
 * create the users (the admin API's bulk route), RSS after creating them and after the load, and the store's size.
 * The last column compares the largest size with the smallest (issue 13: throughput within 10 %, p99 within 2×).
 *
 * Also here: how big a store is, for the single runs' own output and JSON (`storeSizer`).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, log, p99Ratio, table } from './load.ts';
import { dirBytes, installCleanup, tempDataDir } from './procs.ts';
import type { BenchRedis } from './redis.ts';

// ---------------------------------------------------------------------------------------------------------------
// The store's size

/**
 * A reader of the store's size in bytes for a server started with `args`: the SQLite data folder's files; on Redis,
 * INFO used_memory above what it was when this was called (before the node starts: Redis-wide, so a shared Redis's
 * other traffic is in it); null for the memory store (its data is in the RSS).
 */
export async function storeSizer(kind: 'sqlite' | 'memory' | 'redis', args: string[], redis: BenchRedis | null): Promise<() => Promise<number | null>> {
  if (kind === 'sqlite') {
    const dir = args[args.indexOf('--data') + 1]!;
    return async () => dirBytes(dir);
  }
  if (kind === 'redis' && redis) {
    const baseline = await redis.usedMemory();
    return async () => {
      const now = await redis.usedMemory();
      return baseline === null || now === null ? null : now - baseline;
    };
  }
  return async () => null;
}

export function storeSizeLabel(kind: string): string {
  return kind === 'redis' ? 'Redis used_memory above its level before the node started' : kind === 'sqlite' ? 'the data folder\'s files' : 'in the RSS';
}

// ---------------------------------------------------------------------------------------------------------------
// Several sizes

/** The sizes of `--users a,b,c` (or `--users=a,b,c`) when there are several; null otherwise. */
export function userSizes(argv: readonly string[]): number[] | null {
  const value = usersValue(argv);
  if (value === undefined || !value.includes(',')) return null;
  const sizes = value.split(',').map((v) => Number(v.trim().replace(/_/g, '')));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--users ${value}: whole numbers ≥ 1, separated by commas`);
  return sizes;
}

function usersValue(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--users') return argv[i + 1];
    if (argv[i]!.startsWith('--users=')) return argv[i]!.slice('--users='.length);
  }
  return undefined;
}

/** argv without `--name value` / `--name=value`. */
function without(argv: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) i++;
    else if (!argv[i]!.startsWith(`${name}=`)) out.push(argv[i]!);
  }
  return out;
}

/** What the scale table reads of one size's JSON (bench/run.ts writes it). */
interface RunJson {
  options: { users: number; store: string };
  servers: Array<{
    label: string; store: string; setupMs: number | null; afterSetupRssMb: number | null; afterLoadRssMb: number | null;
    peakRssMb: number | null; storeAfterSetupBytes: number | null; storeAfterLoadBytes: number | null; durability: string | null;
  }>;
  scenarios: Array<{
    name: string; title: string; result: string;
    bare?: { rps: number; serverCpu?: number | null };
    runs: Array<{ label: string; ratio: number; m: { rps: number; p50: number; p99: number } }>;
  }>;
  problems: string[];
}

export async function runScaleBench(argv: readonly string[], sizes: number[]): Promise<number> {
  const json = (() => {
    const i = argv.indexOf('--json');
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--json='))?.slice('--json='.length);
  })();
  if (argv.some((a) => a === '--nodes' || a.startsWith('--nodes='))) throw new Error('--users with several sizes does not go with --nodes');
  const base = without(without(argv, '--users'), '--json');
  installCleanup();
  const dir = tempDataDir();
  const runs: RunJson[] = [];
  const codes: number[] = [];
  const began = performance.now();
  for (const [i, users] of sizes.entries()) {
    const file = join(dir, `users-${users}.json`);
    log(`━━━ scale run ${i + 1}/${sizes.length}: ${fmt.int(users)} users ━━━`);
    const code = await runChild([...base, '--users', String(users), '--json', file]);
    codes.push(code);
    try {
      runs.push(JSON.parse(readFileSync(file, 'utf8')) as RunJson);
    } catch {
      log(`✗ ERROR: the run with ${fmt.int(users)} users wrote no results (exit ${code})`);
    }
    log();
  }
  log(`Scale summary: ${sizes.map((n) => fmt.int(n)).join(', ')} users (${((performance.now() - began) / 1000).toFixed(0)} s)`);
  log(scaleTable(runs));
  log();
  log('req/s: completed requests ÷ duration (× the bare server\'s in the same run); p50/p99 in ms (autocannon, 1 ms resolution);');
  log('last column: the largest size against the smallest — req/s change (and the change of its ratio to the bare server,');
  log('which takes out the machine\'s drift between the sizes\' runs, where the bare server was the bottleneck at both sizes:');
  log(`its CPU ≥ ${BARE_BOUND_CPU} %), p99 ratio (issue 13: within 10 %, within 2×).`);
  for (const r of runs) for (const s of r.servers) if (s.durability) log(`${fmt.int(r.options.users)} users, ${s.label}: kill -9 check read ${s.durability}`);
  const failed = runs.flatMap((r) => r.problems.map((p) => `${fmt.int(r.options.users)} users: ${p}`));
  for (const p of failed) log(`✗ ERROR: ${p}`);
  if (json) {
    writeFileSync(json, `${JSON.stringify({ date: new Date().toISOString(), sizes, runs }, null, 2)}\n`);
    log(`results written to ${json}`);
  }
  return codes.some((c) => c !== 0) || runs.length !== sizes.length ? 1 : 0;
}

function runChild(args: string[]): Promise<number> {
  const script = new URL('./run.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: 'inherit' });
  // Ctrl-C reaches the child too (same process group); it cleans up after itself.
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

const mb = (bytes: number | null | undefined) => (bytes === null || bytes === undefined ? '?' : (bytes / 2 ** 20).toFixed(1));
const seconds = (ms: number | null | undefined) => (ms === null || ms === undefined ? '?' : (ms / 1000).toFixed(ms < 10_000 ? 2 : 1));

type Cell = RunJson['scenarios'][number]['runs'][number];

/** A bare server this busy or more was the bottleneck of its run, so its req/s measures the machine, not the client. */
const BARE_BOUND_CPU = 85;

/**
 * The largest size against the smallest: the req/s change, the same for the ratio to the bare server, and the p99
 * ratio. The sizes run minutes apart, and the bare server measured beside each takes the machine's drift out, but
 * only where the bare server itself was the bottleneck at both sizes: one held back by the load generator (which
 * sends different requests at different sizes: fixed lists at 650 users or fewer, generated ones above) measures
 * the generator, and its ratio's change is not shown.
 */
function sizeChange(first: Cell, last: Cell, bares: Array<{ serverCpu?: number | null } | undefined>): string {
  const change = (a: number, b: number) => fmt.pct((b / a - 1) * 100);
  const bound = bares.every((b) => (b?.serverCpu ?? 0) >= BARE_BOUND_CPU);
  const ratio = first.ratio > 0 && last.ratio > 0 ? (bound ? ` (ratio ${change(first.ratio, last.ratio)})` : ' (bare client-bound)') : '';
  return `${change(first.m.rps, last.m.rps)} req/s${ratio}, p99 ×${p99Ratio(first.m.p99, last.m.p99).toFixed(1)}`;
}

/** One row per scenario and server (req/s, p50/p99), then the process and store rows; a column per size. */
export function scaleTable(runs: RunJson[]): string {
  const sizes = runs.map((r) => r.options.users);
  const header = ['', 'server', ...sizes.map((n) => `${fmt.int(n)} users`), sizes.length > 1 ? `${fmt.int(sizes.at(-1)!)} vs ${fmt.int(sizes[0]!)}` : ''];
  const rows: string[][] = [header];
  const labels = [...new Set(runs.flatMap((r) => r.servers.map((s) => s.label)))];
  // A run on one store calls its server 'presently': the table names the store.
  const shown = (label: string) => (label === 'presently' ? runs[0]?.options.store ?? label : label);
  const names = [...new Set(runs.flatMap((r) => r.scenarios.map((s) => s.name)))];
  for (const name of names) {
    const title = runs.flatMap((r) => r.scenarios).find((s) => s.name === name)!.title;
    for (const label of labels) {
      const cells = runs.map((r) => r.scenarios.find((s) => s.name === name)?.runs.find((x) => x.label === label));
      const [first, last] = [cells[0], cells.at(-1)];
      const bares = runs.map((r) => r.scenarios.find((s) => s.name === name)?.bare);
      const change = first && last && cells.length > 1 ? sizeChange(first, last, [bares[0], bares.at(-1)]) : '';
      rows.push([`${title}  req/s`, shown(label), ...cells.map((c) => (c ? `${fmt.int(c.m.rps)} (${c.ratio.toFixed(2)})` : '-')), change]);
      rows.push(['  p50 / p99 ms', '', ...cells.map((c) => (c ? `${fmt.ms(c.m.p50)} / ${fmt.ms(c.m.p99)}` : '-')), '']);
    }
  }
  const per = (title: string, cell: (s: RunJson['servers'][number]) => string) => {
    for (const label of labels) rows.push([title, shown(label), ...runs.map((r) => { const s = r.servers.find((x) => x.label === label); return s ? cell(s) : '-'; }), '']);
  };
  per('creating the users (bulk), s', (s) => seconds(s.setupMs));
  per('RSS after creating them, MB', (s) => (s.afterSetupRssMb === null ? '?' : s.afterSetupRssMb.toFixed(1)));
  per('RSS after the load (peak), MB', (s) => (s.afterLoadRssMb === null ? '?' : `${s.afterLoadRssMb.toFixed(1)} (${s.peakRssMb?.toFixed(1) ?? '?'})`));
  per('store size after creating them, MB', (s) => (s.store === 'memory' ? 'in RSS' : mb(s.storeAfterSetupBytes)));
  per('store size after the load, MB', (s) => (s.store === 'memory' ? 'in RSS' : mb(s.storeAfterLoadBytes)));
  return table(rows, new Set(Array.from({ length: sizes.length }, (_, i) => i + 2)));
}
