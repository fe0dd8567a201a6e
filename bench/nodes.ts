/**
 * `npm run bench -- --store redis --nodes N`: the scale-out measurement (issue 5). N Presently processes share one
 * Redis key prefix (the run's own, deleted at the end), so they are one deployment: a token or a user made on one
 * is valid on every other. There is no load balancer: the bench's autocannon talks to every node at once, the
 * connections split evenly (25 + 25 for 2 nodes), which is what a balancer spreading connections would do.
 *
 * Each scenario is measured twice, back to back: one node alone (all connections), then all N nodes at once. Around
 * each load the CPU of every process involved is read from /proc — each node, redis-server, the bench itself (the
 * load generator) — and Redis's command counter, so the output gives the CPU cost of one request in each of them.
 * From those it derives what the machine can do (cores ÷ the CPU a request costs in all processes together), and how
 * throughput grows with more cores and nodes: each node is one event loop, so it saturates about one core at
 * 1e6 ÷ (its µs per request) req/s; nodes add up until redis-server, single-threaded, saturates its core at
 * 1e6 ÷ (Redis µs per request) req/s.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { send } from './http.ts';
import {
  commandsPerRequest,
  fmt,
  loadProblems,
  loadTag,
  log,
  machine,
  runLoad,
  table,
  usPerRequest,
  type LoadResult,
  type LoadTarget,
  type Watched,
} from './load.ts';
import { readCpuSeconds, readMemory, runCleanups, startPresently, type PresentlyProcess } from './procs.ts';
import {
  connectRedis,
  printCeiling,
  REDIS_BENCHMARK,
  redisBackground,
  registerPrefix,
  OUTBOX_WAIT_MS,
  runRedisBenchmark,
  type BenchRedis,
  type CommandStats,
  type RedisBenchmarkResult,
} from './redis.ts';
import { setUp, type BenchContext, type Scenario } from './scenarios.ts';
import type { Options } from './run.ts';

interface Phase {
  /** `1 node` or `N nodes`. */
  setup: string;
  nodes: number;
  lr: LoadResult;
  /** CPU seconds of all the nodes under load together. */
  nodeCpuSeconds: number | null;
  nodeUsPerRequest: number | null;
  redisUsPerRequest: number | null;
  clientUsPerRequest: number | null;
  redisCommandsPerRequest: number | null;
  /** Change events left in the outbox when the load ended, and how long the dispatchers took to empty it. */
  outbox?: { atEnd: number; ms: number; left: number };
  /**
   * From the start of the load to the end of the dispatchers' catch-up: requests ÷ that time, and the CPU of all nodes
   * and of redis-server per request — what the load really cost, notifications' dispatch included.
   */
  withCatchUp?: { seconds: number; rps: number; nodeUsPerRequest: number | null; redisUsPerRequest: number | null };
}

interface NodesScenarioResult {
  name: string;
  title: string;
  phases: Phase[];
  problems: string[];
  notes: string[];
}

function phaseOf(setup: string, nodes: number, lr: LoadResult): Phase {
  const cpus = lr.targets.map((m) => m.serverCpuSeconds);
  const nodeCpuSeconds = cpus.some((c) => c === null) ? null : cpus.reduce<number>((a, c) => a + c!, 0);
  const redis = lr.watched['redis-server'];
  return {
    setup,
    nodes,
    lr,
    nodeCpuSeconds,
    nodeUsPerRequest: usPerRequest(nodeCpuSeconds, lr.requests),
    redisUsPerRequest: usPerRequest(redis?.seconds, lr.requests),
    clientUsPerRequest: usPerRequest(lr.client.seconds, lr.requests),
    redisCommandsPerRequest: lr.redisCommands === null || lr.requests === 0 ? null : lr.redisCommands / lr.requests,
  };
}

const HEADER = [
  'scenario', 'nodes', 'req/s', 'per node', 'p50 ms', 'p99 ms', 'non2xx/err', 'node cpu', 'node µs/req',
  'redis cpu', 'redis µs/req', 'cmds/req', 'cli cpu', 'cli µs/req', 'node run-queue wait', 'outbox at end',
  'req/s incl. catch-up', 'node µs/req incl.', 'redis µs/req incl.',
];
const RIGHT = new Set([2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18]);

function rows(r: NodesScenarioResult): string[][] {
  return r.phases.map((p, i) => {
    const ms = p.lr.targets;
    const redis = p.lr.watched['redis-server'];
    return [
      i === 0 ? r.title : '',
      p.setup,
      fmt.int(p.lr.rps),
      ms.map((m) => fmt.int(m.rps)).join(' + '),
      ms.map((m) => fmt.ms(m.p50)).join('/'),
      ms.map((m) => fmt.ms(m.p99)).join('/'),
      `${ms.reduce((a, m) => a + m.non2xx, 0)}/${ms.reduce((a, m) => a + m.errors, 0)}`,
      ms.map((m) => fmt.pct(m.serverCpu)).join(' + '),
      fmt.us(p.nodeUsPerRequest),
      fmt.pct(redis?.pct),
      fmt.us(p.redisUsPerRequest),
      fmt.num(p.redisCommandsPerRequest, 1),
      fmt.pct(p.lr.client.pct),
      fmt.us(p.clientUsPerRequest),
      ms.map((m) => fmt.pct(m.serverWait)).join(' + '),
      p.outbox ? (p.outbox.atEnd === 0 ? '0' : `${fmt.int(p.outbox.atEnd)} (${(p.outbox.ms / 1000).toFixed(1)} s)`) : '?',
      p.withCatchUp ? fmt.int(p.withCatchUp.rps) : '?',
      fmt.us(p.withCatchUp?.nodeUsPerRequest),
      fmt.us(p.withCatchUp?.redisUsPerRequest),
    ];
  });
}

/**
 * The throughput model of one scenario. CPU per request in the nodes, in redis-server and in the load generator is
 * counted from the start of a load to the end of the dispatchers' catch-up after it (so the notification dispatch a
 * write causes is included even when it ran after the load). One node: its figures from the one-node load. More
 * nodes: the N-node load's figures — the nodes' CPU per request summed over all of them (work they duplicate, such
 * as dispatching the shared outbox, counts), and Redis's with each node's pipelines thinner, as with more nodes.
 */
function model(r: NodesScenarioResult, cores: number, ceiling: RedisBenchmarkResult | null): string[] {
  const one = r.phases.find((p) => p.nodes === 1);
  const many = r.phases.find((p) => p.nodes > 1);
  if (!one || !many) return [];
  const node1 = one.withCatchUp?.nodeUsPerRequest ?? one.nodeUsPerRequest;
  const redis1 = one.withCatchUp?.redisUsPerRequest ?? one.redisUsPerRequest;
  const nodeN = many.withCatchUp?.nodeUsPerRequest ?? many.nodeUsPerRequest;
  const redisN = many.withCatchUp?.redisUsPerRequest ?? many.redisUsPerRequest;
  const client = one.clientUsPerRequest ?? 0;
  if (node1 === null || nodeN === null) return [];
  const lines: string[] = [];
  lines.push(
    `${r.title}: CPU per request (dispatch catch-up included) — 1 node: node ${fmt.us(node1)} µs, redis-server ${fmt.us(redis1)} µs; ` +
      `${many.nodes} nodes: nodes ${fmt.us(nodeN)} µs together, redis-server ${fmt.us(redisN)} µs; load generator ${fmt.us(client)} µs`,
  );
  if (redis1 !== null && redisN !== null) {
    const total = node1 + redis1 + client;
    lines.push(
      `  this machine: ${cores} cores ÷ ${fmt.us(total)} µs ≈ ${fmt.int((cores * 1e6) / total)} req/s for everything on it together ` +
        `(measured, incl. catch-up: 1 node ${fmt.int(one.withCatchUp?.rps ?? one.lr.rps)}, ${many.nodes} nodes ${fmt.int(many.withCatchUp?.rps ?? many.lr.rps)})`,
    );
    const predict = (n: number) => (n === 1 ? Math.min(1e6 / node1, 1e6 / redis1) : Math.min((n * 1e6) / nodeN, 1e6 / redisN));
    const grows = [1, 2, 4, 8, 16].map((n) => `${n}: ${fmt.int(predict(n))}`).join(', ');
    const saturating = nodeN / redisN;
    lines.push(
      `  with a core per node and Redis and the load generator elsewhere: one node ≈ ${fmt.int(1e6 / node1)} req/s; with several, ` +
        `≈ ${fmt.int(1e6 / nodeN)} req/s per node, until Redis's one core is full at ≈ ${fmt.int(1e6 / redisN)} req/s (~${saturating.toFixed(1)} nodes) — ` +
        `predicted req/s by node count ${grows}`,
    );
    if (ceiling && one.redisCommandsPerRequest) {
      const c = ceiling.rps.GET!;
      lines.push(
        `  cross-check: redis-benchmark GET ${fmt.int(c)} req/s ÷ ${fmt.num(one.redisCommandsPerRequest, 1)} commands per request ≈ ` +
          `${fmt.int(c / one.redisCommandsPerRequest)} req/s (a bound set by redis-benchmark's own core here; Presently's commands are pipelined ` +
          `and its writes are scripts, so one of them does not cost Redis what one of redis-benchmark's does)`,
      );
    }
  }
  return lines;
}

export async function runNodesBench(opts: Options): Promise<number> {
  const began = performance.now();
  const problems: string[] = [];
  const warnings: string[] = [];
  const mach = machine();
  const N = opts.nodes;
  log(`Presently scale-out bench — ${mach.cpus} × ${mach.cpuModel}, ${mach.memoryGb} GB, Node ${mach.node}, load average ${mach.loadavg.join(' ')}`);
  log(
    `${N} nodes on one Redis (${opts.redisUrl}), ${opts.connections} connections (split ${splitConnections(opts.connections, N).join(' + ')} over the nodes), ` +
      `${opts.warmup} s warm-up + ${opts.duration} s per setup and scenario, ${opts.users} users`,
  );
  const redis = await connectRedis(opts.redisUrl);
  log(`redis-server ${redis.pid === null ? 'not a local process: its CPU is not measured' : `pid ${redis.pid}`}`);
  const deletedKeys = new Map<string, number>();
  const prefix = registerPrefix(redis, deletedKeys);
  const args = ['--store', 'redis', '--redis-url', opts.redisUrl, '--redis-prefix', prefix];
  log(`prefix ${prefix} (deleted at the end)`);
  log();

  let ceiling: RedisBenchmarkResult | null = null;
  const nodes: PresentlyProcess[] = [];
  const results: NodesScenarioResult[] = [];
  let background: Awaited<ReturnType<typeof redisBackground>> | null = null;
  try {
    for (let i = 0; i < N; i++) {
      const p = await startPresently(args);
      nodes.push(p);
      log(`node ${i + 1}: ${p.url}, pid ${p.pid}, ready in ${Math.round(p.startupMs)} ms`);
    }
    const { setupMs, ...ctx } = await setUp(nodes[0]!.url, opts.users);
    log(`created ${fmt.int(ctx.users.count)} users through node 1 (admin API, bulk) in ${Math.round(setupMs)} ms`);
    if (redis.single) {
      try {
        ceiling = await runRedisBenchmark(redis, REDIS_BENCHMARK);
        printCeiling(ceiling);
      } catch (err) {
        warnings.push(`no ceiling: ${(err as Error).message}`);
      }
    }
    background = await redisBackground(redis, 2000);
    log(
      `redis-server with nothing of ours running (2 s): ${fmt.pct(background.cpuPct)} of a core, ` +
        `${background.commandsPerS === null ? '?' : fmt.int(background.commandsPerS)} commands/s from elsewhere`,
    );
    log();

    const watch: Watched[] = redis.pid ? [{ name: 'redis-server', pid: redis.pid }] : [];
    for (const sc of opts.scenarios) {
      const r = await runScenario(sc, ctx, nodes, opts, watch, redis, prefix, results.length % 2 === 1);
      results.push(r);
      log(table([HEADER, ...rows(r)], RIGHT));
      for (const n of r.notes) log(`  · ${n}`);
      for (const p of r.problems) log(`  ✗ ERROR: ${p}`);
      log();
    }
    for (const [i, p] of nodes.entries()) {
      const mem = readMemory(p.pid);
      const code = await p.stop();
      if (code !== 0) warnings.push(`node ${i + 1} did not stop cleanly on SIGTERM: exit ${String(code)}`);
      const errs = p.stderr().split('\n').filter((l) => /"level":(50|60)|\bError\b|Unhandled/.test(l));
      if (errs.length) warnings.push(`node ${i + 1}'s stderr has ${errs.length} error line(s), e.g.: ${errs[0]!.slice(0, 300)}`);
      if (mem) log(`node ${i + 1}: RSS after the loads ${fmt.mb(mem.rssMb)} (peak ${fmt.mb(mem.peakMb)})`);
    }
  } finally {
    await runCleanups();
    log(`deleted the run's Redis prefix: ${fmt.int([...deletedKeys.values()].reduce((a, b) => a + b, 0))} keys`);
    await redis.close();
  }

  log();
  log('Summary');
  log(table([HEADER, ...results.flatMap(rows)], RIGHT));
  log();
  if (ceiling) printCeiling(ceiling);
  log();
  log('How throughput grows (CPU per request from the one-node loads, dispatch catch-up included):');
  for (const r of results) for (const line of model(r, mach.cpus, ceiling)) log(line);
  const errors = results.filter((r) => r.problems.length);
  for (const w of warnings) log(`! warning: ${w}`);
  for (const p of problems) log(`✗ ERROR: ${p}`);
  if (errors.length) log(`✗ ERROR in: ${errors.map((r) => r.name).join(', ')} — these numbers are not valid`);
  const totalS = (performance.now() - began) / 1000;
  log(`bench took ${totalS.toFixed(0)} s; load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  if (opts.json) {
    const json = {
      date: new Date().toISOString(),
      machine: { ...mach, loadavgAfter: loadavg().map((l) => Math.round(l * 100) / 100) },
      options: {
        duration: opts.duration, warmup: opts.warmup, connections: opts.connections, store: 'redis', nodes: N, users: opts.users,
        ownRedis: opts.ownRedis, redisAof: opts.redisAof,
      },
      redis: { url: opts.redisUrl, pid: redis.pid, ceiling, background, deletedKeys: Object.fromEntries(deletedKeys) },
      scenarios: results.map((r) => ({ ...r, model: model(r, mach.cpus, ceiling) })),
      problems,
      warnings,
      seconds: Math.round(totalS),
    };
    writeFileSync(opts.json, `${JSON.stringify(json, null, 2)}\n`);
    log(`results written to ${opts.json}`);
  }
  return problems.length || errors.length ? 1 : 0;
}

function splitConnections(total: number, nodes: number): number[] {
  return Array.from({ length: nodes }, (_, i) => Math.floor(total / nodes) + (i < total % nodes ? 1 : 0));
}

async function runScenario(
  sc: Scenario,
  ctx: BenchContext,
  nodes: PresentlyProcess[],
  opts: Options,
  watch: Watched[],
  redis: BenchRedis,
  prefix: string,
  reverse: boolean,
): Promise<NodesScenarioResult> {
  const redisCommands = (): Promise<CommandStats | null> => redis.commandStats();
  const out: NodesScenarioResult = { name: sc.name, title: sc.title, phases: [], problems: [], notes: [] };
  if (sc.prepare) out.notes.push(await sc.prepare(ctx));
  const load = sc.load(ctx);
  const sample = load.kind === 'fixed' ? load.request : load.kind === 'cycle' ? load.requests[0]! : load.request(0, `${sc.name}-sample`);
  // Every node answers the sample rightly: the token and the users made through node 1 are valid on each.
  for (const [i, p] of nodes.entries()) {
    const res = await send(p.url, sample);
    const wrong = res.status < 200 || res.status > 299 ? `answered ${res.status}: ${res.text.slice(0, 300)}` : sc.checkSample?.(res, ctx, sample);
    if (wrong) {
      out.problems.push(`node ${i + 1}: wrong answer to the sample request: ${wrong}`);
      return out;
    }
  }
  const one: LoadTarget[] = [{ url: nodes[0]!.url, pid: nodes[0]!.pid, connections: opts.connections }];
  const split = splitConnections(opts.connections, nodes.length);
  const all: LoadTarget[] = nodes.map((p, i) => ({ url: p.url, pid: p.pid, connections: split[i]! }));
  const phases: Array<[string, LoadTarget[]]> = [['1 node', one], [`${nodes.length} nodes`, all]];
  // Every other scenario measures the N nodes first, so a drift of the machine's load favours neither setup throughout.
  if (reverse) phases.reverse();
  for (const [setup, targets] of phases) {
    // One node alone is one node: the others are paused (SIGSTOP) meanwhile, so their dispatchers and timers do not
    // take part (they would: the outbox and the due index are shared). They resume before the read-back.
    const paused = nodes.filter((p) => !targets.some((t) => t.pid === p.pid));
    for (const p of paused) process.kill(p.pid, 'SIGSTOP');
    const resume = () => {
      for (const p of paused.splice(0)) process.kill(p.pid, 'SIGCONT');
    };
    try {
      if (opts.warmup > 0) {
        await runLoad(load, loadTag(sc.name, setup, 'warmup'), targets, opts.warmup, { watch });
        await redis.waitOutboxDrained(prefix, OUTBOX_WAIT_MS);
      }
      const tag = loadTag(sc.name, setup.replace(' ', ''), 'measure');
      // CPU of every node and of redis-server, from the start of the load to the end of the dispatchers' catch-up after
      // it: what the load costs in all.
      const cpu = () => ({ nodes: nodes.map((p) => readCpuSeconds(p.pid)), redis: redis.pid === null ? null : readCpuSeconds(redis.pid) });
      const cpu0 = cpu();
      const lr = await runLoad(load, tag, targets, opts.duration, { watch, redisCommands });
      const phase = phaseOf(setup, targets.length, lr);
      // The change events the dispatchers have not handled yet; waited for, so that work does not land in the next load.
      phase.outbox = { atEnd: await redis.outboxLength(prefix), ...(await redis.waitOutboxDrained(prefix, OUTBOX_WAIT_MS)) };
      const cpu1 = cpu();
      const nodesAll = cpu0.nodes.some((c) => c === null) || cpu1.nodes.some((c) => c === null)
        ? null
        : cpu1.nodes.reduce<number>((a, c, i) => a + c! - cpu0.nodes[i]!, 0);
      phase.withCatchUp = {
        seconds: lr.wall + (phase.outbox.atEnd > 0 ? phase.outbox.ms / 1000 : 0),
        rps: lr.requests / (lr.wall + (phase.outbox.atEnd > 0 ? phase.outbox.ms / 1000 : 0)),
        nodeUsPerRequest: usPerRequest(nodesAll, lr.requests),
        redisUsPerRequest: usPerRequest(cpu0.redis === null || cpu1.redis === null ? null : cpu1.redis - cpu0.redis, lr.requests),
      };
      out.phases.push(phase);
      resume();
      if (phase.outbox.atEnd > 0) {
        out.notes.push(
          `${setup}: ${fmt.int(phase.outbox.atEnd)} change events were still in the outbox when the load ended; ` +
            (phase.outbox.left === 0 ? `the dispatchers caught up ${(phase.outbox.ms / 1000).toFixed(1)} s later` : `${fmt.int(phase.outbox.left)} still there after ${OUTBOX_WAIT_MS / 1000} s`),
        );
      }
      out.notes.push(`${setup}: Redis commands per request: ${commandsPerRequest(lr.redisCommandStats, lr.requests)}`);
      lr.targets.forEach((m, i) => out.problems.push(...loadProblems(`${setup}: node ${i + 1}`, m)));
      // Writes read back through the last node: what any node wrote, every node reads.
      if (sc.verify) {
        const reader = nodes[nodes.length - 1]!;
        try {
          const v = await sc.verify({ ...ctx, url: reader.url }, { tag, built: lr.built, connections: opts.connections });
          out.problems.push(...v.problems.map((p) => `${setup}: ${p}`));
          out.notes.push(...v.notes.map((n) => `${setup}, read back through node ${nodes.length}: ${n}`));
        } catch (err) {
          out.problems.push(`${setup}: check after the load failed: ${(err as Error).message}`);
        }
      }
    } finally {
      resume();
    }
  }
  if (reverse) out.phases.reverse();
  out.notes.push(`measured ${reverse ? `${nodes.length} nodes first, then 1 node` : `1 node first, then ${nodes.length} nodes`}`);
  const [a, b] = out.phases;
  if (a && b) {
    out.notes.push(
      `${b.nodes} nodes ÷ 1 node: ${(b.lr.rps / a.lr.rps).toFixed(2)}×` +
        (a.withCatchUp && b.withCatchUp ? ` (incl. dispatch catch-up ${(b.withCatchUp.rps / a.withCatchUp.rps).toFixed(2)}×)` : '') +
        `; CPU of everything during the loads: ` +
        `1 node ${fmt.pct(totalCpu(a))}, ${b.nodes} nodes ${fmt.pct(totalCpu(b))} of ${machine().cpus * 100}%`,
    );
  }
  return out;
}

/** CPU of the nodes, redis-server and the load generator together, % of one core. */
function totalCpu(p: Phase): number | null {
  const redis = p.lr.watched['redis-server'];
  if (p.nodeCpuSeconds === null || !redis) return null;
  return ((p.nodeCpuSeconds + redis.seconds + p.lr.client.seconds) / p.lr.wall) * 100;
}
