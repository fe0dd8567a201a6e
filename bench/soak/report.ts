/**
 * The soak's samples, their one-line print, and the verdicts (bench/soak/main.ts): is the server's memory flat, is
 * its p99 flat, do notifications keep up? Each compares the last third of the run with the middle third (the first
 * third is warm-up: caches filling, the JIT, the heap growing to its working size).
 */
import { fmt } from '../load.ts';

/** One interval of the run, measured at its end. */
export interface Sample {
  /** Seconds since the load began (the end of the interval). */
  t: number;
  rssMb: number | null;
  /** V8 heap in use (/metrics), MB. */
  heapMb: number | null;
  /** V8 heap allocated from the system (/metrics), MB: RSS minus this is native memory (SQLite, buffers, code). */
  heapTotalMb: number | null;
  /** Requests answered per second in the interval (2xx or not). */
  rps: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  /** p99 by kind of request. */
  p99ByKind: Record<string, number | null>;
  non2xx: number;
  errors: number;
  skipped: number;
  /** Event-loop delay over the interval (/metrics, prom-client's histogram, reset by each scrape), ms. */
  loopP99Ms: number | null;
  loopMaxMs: number | null;
  serverCpuPct: number | null;
  /**
   * Time the server's event-loop thread was ready to run but had no core (other processes had them), % of the
   * interval (/proc/<pid>/schedstat): what the rest of the machine took from it.
   */
  serverWaitPct: number | null;
  benchCpuPct: number;
  /** Notification items the receiver got per second, and the server's own count of items delivered per second. */
  receivedPerS: number;
  deliveredPerS: number | null;
  /** Deliveries waiting in the server's store at the end of the interval (/metrics presently_notification_queue). */
  queue: number | null;
  /** Change events not yet turned into deliveries (the outbox, read from the database), at the end of the interval. */
  outbox: number | null;
  /** Probe items' latency (arrival − the probe write's answer), ms, and how many were measured. */
  probe: { n: number; p50: number | null; p99: number | null; max: number | null };
  /** Timed-expiry lateness (the transition's instant − the expiry), ms; made by the read: not made 1.5 s after. */
  expiry: { n: number; p50: number | null; max: number | null; byRead: number };
}

export function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const ms = (n: number | null) => (n === null ? '?' : n < 10 ? n.toFixed(1) : String(Math.round(n)));
const pad = (s: string, n: number) => s.padStart(n);

export function sampleLine(s: Sample): string {
  return [
    `${pad(String(Math.round(s.t)), 5)} s`,
    `rss ${s.rssMb === null ? '?' : s.rssMb.toFixed(1)} MB`,
    `heap ${s.heapMb === null ? '?' : s.heapMb.toFixed(1)}/${s.heapTotalMb === null ? '?' : s.heapTotalMb.toFixed(1)} MB`,
    `${pad(fmt.int(s.rps), 6)} req/s`,
    `p50 ${ms(s.p50)} p99 ${ms(s.p99)} ms`,
    `loop p99 ${ms(s.loopP99Ms)} ms`,
    `cpu srv ${fmt.pct(s.serverCpuPct)} (wait ${fmt.pct(s.serverWaitPct)}) bench ${fmt.pct(s.benchCpuPct)}`,
    `notif sent ${s.deliveredPerS === null ? '?' : fmt.int(s.deliveredPerS)}/s recv ${fmt.int(s.receivedPerS)}/s outbox ${s.outbox ?? '?'} queue ${s.queue ?? '?'} probe p50 ${ms(s.probe.p50)} p99 ${ms(s.probe.p99)} ms`,
    `expiry late p50 ${ms(s.expiry.p50)} max ${ms(s.expiry.max)} ms${s.expiry.byRead ? ` (${s.expiry.byRead} > 1.5 s)` : ''}`,
    ...(s.non2xx || s.errors || s.skipped ? [`✗ ${s.non2xx} non-2xx, ${s.errors} errors, ${s.skipped} skipped`] : []),
  ].join(' | ');
}

const median = (xs: number[]) => percentile(xs, 50);
const worst = (xs: number[]) => (xs.length ? Math.max(...xs) : null);
const values = (samples: Sample[], f: (s: Sample) => number | null) => samples.map(f).filter((v): v is number => v !== null && Number.isFinite(v));

/** Least-squares slope of `f` over `samples`, per minute. */
function slopePerMin(samples: Sample[], f: (s: Sample) => number | null): number | null {
  const pts = samples.map((s) => [s.t / 60, f(s)] as const).filter((p): p is readonly [number, number] => p[1] !== null);
  if (pts.length < 2) return null;
  const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
  const my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
  const sxx = pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return sxx === 0 ? null : pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / sxx;
}

/** Above this run-queue wait (% of an interval) the machine, not the server, may explain what the samples show. */
const NOISY_WAIT_PCT = 10;

/** The thresholds: what "flat" means here. */
export const FLAT = {
  /** Memory: the highest RSS and the native memory (RSS − V8 heap allocated) of the last third at most this much above the middle third's (share). */
  rssGrowth: 0.05,
  /** Memory: the live heap (the lowest heap used) of the last third at most this share and these MB above the middle third's. */
  liveHeapGrowth: 0.1,
  liveHeapSlackMb: 2,
  /** p99 (and the probes' p99): the last third's median at most this factor of the middle third's, plus slack. */
  p99Factor: 1.25,
  p99SlackMs: 2,
  probeSlackMs: 10,
  /** Notification backlog: the last third's median at most this factor of the middle third's, plus slack (items). */
  queueFactor: 1.25,
  queueSlack: 100,
};

export interface Verdict {
  name: string;
  ok: boolean | null;
  line: string;
}

/** The middle and the last third of the samples; null when there are too few to tell (fewer than 6). */
function thirds(samples: Sample[]): { middle: Sample[]; last: Sample[] } | null {
  if (samples.length < 6) return null;
  const a = Math.floor(samples.length / 3);
  const b = Math.floor((2 * samples.length) / 3);
  return { middle: samples.slice(a, b), last: samples.slice(b) };
}

function compare(name: string, samples: Sample[], f: (s: Sample) => number | null, unit: string, limit: (mid: number) => number, rule: string): Verdict {
  const parts = thirds(samples);
  if (!parts) return { name, ok: null, line: `${name}: too few samples to tell (need 6)` };
  const mid = median(values(parts.middle, f));
  const last = median(values(parts.last, f));
  if (mid === null || last === null) return { name, ok: null, line: `${name}: not measured` };
  const slope = slopePerMin([...parts.middle, ...parts.last], f);
  const ok = last <= limit(mid);
  const n = (x: number) => (Math.abs(x) < 10 ? x.toFixed(2) : x.toFixed(1));
  return {
    name, ok,
    line: `${name}: median ${n(mid)} ${unit} in the middle third, ${n(last)} ${unit} in the last third ` +
      `(slope over both ${slope === null ? '?' : `${slope >= 0 ? '+' : ''}${n(slope)} ${unit}/min`}); flat if ${rule}   ${ok ? 'FLAT' : 'GROWING'}`,
  };
}

/**
 * Memory's verdict. RSS is V8's heap, as large as V8 chooses to keep it, plus native memory (SQLite's page cache,
 * buffers, code). V8 grows and shrinks its heap by tens of MB between major collections, so a third's median RSS, or
 * its lowest RSS, depends on where in that swing its samples fell: both flipped between FLAT and GROWING from run to run
 * of the same code (2026-12-06). Memory that is kept shows elsewhere, and that is what is judged:
 * - the live heap: the lowest V8 heap used in a third (after a collection, what survived it) must not grow;
 * - native memory: RSS − the V8 heap allocated, the median of a third, must not grow;
 * - the ceiling: the highest RSS in a third must not grow (V8's swing stays within the same bound).
 */
function memory(samples: Sample[]): Verdict {
  const name = 'RSS flat';
  const parts = thirds(samples);
  if (!parts) return { name, ok: null, line: `${name}: too few samples to tell (need 6)` };
  const native = (x: Sample) => (x.rssMb === null || x.heapTotalMb === null ? null : x.rssMb - x.heapTotalMb);
  const of = (part: Sample[]) => {
    const rss = values(part, (x) => x.rssMb);
    const heap = values(part, (x) => x.heapMb);
    return { high: rss.length ? Math.max(...rss) : null, live: heap.length ? Math.min(...heap) : null, native: median(values(part, native)) };
  };
  const [mid, last] = [of(parts.middle), of(parts.last)];
  if (mid.high === null || last.high === null || mid.live === null || last.live === null || mid.native === null || last.native === null) {
    return { name, ok: null, line: `${name}: not measured` };
  }
  const checks = [
    ['the highest RSS', mid.high, last.high, last.high <= mid.high * (1 + FLAT.rssGrowth)],
    ['the live heap (the lowest heap used)', mid.live, last.live, last.live <= mid.live * (1 + FLAT.liveHeapGrowth) + FLAT.liveHeapSlackMb],
    ['native memory (RSS − V8 heap allocated, median)', mid.native, last.native, last.native <= mid.native * (1 + FLAT.rssGrowth)],
  ] as const;
  const ok = checks.every((c) => c[3]);
  // Only the top of the swing grew: V8 still growing the heap it allocates for the same live data (it sizes the heap
  // from the live size and the allocation rate, and may take longer than a short soak's first third to settle).
  const onlyCeiling = !checks[0][3] && checks[1][3] && checks[2][3];
  const slope = slopePerMin([...parts.middle, ...parts.last], (x) => x.rssMb);
  return {
    name, ok,
    line: `${name}: ${checks.map(([what, m, l, fine]) => `${what} ${m.toFixed(1)} → ${l.toFixed(1)} MB${fine ? '' : ' (grew)'}`).join(', ')}, ` +
      `middle third → last (RSS median ${median(values(parts.middle, (x) => x.rssMb))!.toFixed(1)} → ${median(values(parts.last, (x) => x.rssMb))!.toFixed(1)} MB, ` +
      `slope ${slope === null ? '?' : `${slope >= 0 ? '+' : ''}${slope.toFixed(2)} MB/min`}); flat if the highest RSS and native memory grew by at most ` +
      `${Math.round(FLAT.rssGrowth * 100)} % and the live heap by at most ${Math.round(FLAT.liveHeapGrowth * 100)} % + ${FLAT.liveHeapSlackMb} MB` +
      `${onlyCeiling ? '; only V8\'s allocated heap grew, the live heap and native memory did not: a longer soak shows where it settles' : ''}   ${ok ? 'FLAT' : 'GROWING'}`,
  };
}

/** Change events not yet dispatched plus deliveries not yet sent. */
const backlog = (s: Sample) => (s.queue === null && s.outbox === null ? null : (s.queue ?? 0) + (s.outbox ?? 0));

export function verdicts(samples: Sample[]): Verdict[] {
  return [
    memory(samples),
    compare('p99 flat', samples, (s) => s.p99, 'ms', (m) => m * FLAT.p99Factor + FLAT.p99SlackMs, `the last ≤ ${FLAT.p99Factor} × the middle + ${FLAT.p99SlackMs} ms`),
    compare('notification latency flat', samples, (s) => s.probe.p99, 'ms', (m) => m * FLAT.p99Factor + FLAT.probeSlackMs,
      `the probes' p99 in the last ≤ ${FLAT.p99Factor} × the middle + ${FLAT.probeSlackMs} ms`),
    compare('notification backlog flat', samples, backlog, 'items', (m) => m * FLAT.queueFactor + FLAT.queueSlack,
      `outbox + delivery queue in the last ≤ ${FLAT.queueFactor} × the middle + ${FLAT.queueSlack}`),
  ];
}

/** A warning when other processes took the cores from the server for long (then GROWING may be the machine's). */
export function noiseWarning(samples: Sample[]): string | null {
  const parts = thirds(samples);
  if (!parts) return null;
  const worstThird = Math.max(...[parts.middle, parts.last].map((p) => median(values(p, (s) => s.serverWaitPct)) ?? 0));
  return worstThird > NOISY_WAIT_PCT
    ? `! the server's event loop waited for a core ${Math.round(worstThird)} % of the time (median of a third's intervals): the machine was busy, ` +
      'and a GROWING verdict may be the machine\'s, not the server\'s (see the CPU panel of the plot)'
    : null;
}

/** Whole-run figures over the middle and last thirds: throughput, latency by kind, the probes, the expiries. */
export function summaryLines(samples: Sample[]): string[] {
  const parts = thirds(samples);
  const steady = parts ? [...parts.middle, ...parts.last] : samples;
  const med = (f: (s: Sample) => number | null) => ms(median(values(steady, f)));
  const kinds = Object.keys(steady[0]?.p99ByKind ?? {});
  return [
    `over ${parts ? 'the last two thirds' : 'the whole run'} (${steady.length} samples): median of the intervals' req/s ${fmt.int(median(values(steady, (s) => s.rps)) ?? 0)}, ` +
      `p50 ${med((s) => s.p50)} ms, p99 ${med((s) => s.p99)} ms, worst interval p99 ${ms(worst(values(steady, (s) => s.p99)))} ms`,
    `  p99 by request (median of the intervals): ${kinds.map((k) => `${k} ${med((s) => s.p99ByKind[k] ?? null)} ms`).join(', ')}`,
    `  event-loop delay p99 (10 ms = none: the monitor's resolution): median ${med((s) => s.loopP99Ms)} ms, worst ${ms(worst(values(steady, (s) => s.loopMaxMs)))} ms (max)`,
    `  notifications: ${fmt.int(median(values(steady, (s) => s.receivedPerS)) ?? 0)} items/s received (median), backlog (outbox + delivery queue) median ${med(backlog)}, ` +
      `max ${worst(values(steady, backlog)) ?? '?'}; probe latency p99 median ${med((s) => s.probe.p99)} ms, worst ${ms(worst(values(steady, (s) => s.probe.max)))} ms`,
    `  timed expiries: ${steady.reduce((a, s) => a + s.expiry.n, 0)} measured, lateness p50 median ${med((s) => s.expiry.p50)} ms, ` +
      `worst ${ms(worst(values(steady, (s) => s.expiry.max)))} ms; ${steady.reduce((a, s) => a + s.expiry.byRead, 0)} not made 1.5 s after their instant`,
  ];
}
