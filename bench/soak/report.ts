/**
 * The soak's samples, their one-line print, and the verdicts (bench/soak/main.ts): is the server's memory flat, is
 * its p99 flat, do notifications keep up? Each judges the last two thirds of the run, most by comparing the last third
 * with the middle one (the first third is warm-up: caches filling, the JIT, the heap growing to its working size).
 */
import { fmt } from '../load.ts';

/** One interval of the run, measured at its end. */
export interface Sample {
  /** Seconds since the load began (the end of the interval). */
  t: number;
  rssMb: number | null;
  /** V8 heap in use (/metrics), MB. */
  heapMb: number | null;
  /**
   * The live heap: V8's heap in use right after the latest major collection, the young generation left out (/metrics
   * presently_heap_live_bytes), MB; null before the first one.
   */
  liveMb: number | null;
  /** V8 heap allocated from the system (/metrics), MB: RSS minus this is native memory (SQLite, buffers, code). */
  heapTotalMb: number | null;
  /**
   * The store's records in native memory (/metrics presently_store_memory_bytes, the presence journal's segments), MB:
   * data, as large as the users' records (judged apart from the rest of native memory); null or absent without.
   */
  storeMb?: number | null;
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
  /**
   * Outbox + deliveries, the lowest and the highest of the readings every 250 ms over the interval (./backlog.ts);
   * null when none was read. The verdict judges the lowest: a fan-out that drains between writes leaves it at 0.
   */
  backlogLow?: number | null;
  backlogHigh?: number | null;
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
    `notif sent ${s.deliveredPerS === null ? '?' : fmt.int(s.deliveredPerS)}/s recv ${fmt.int(s.receivedPerS)}/s outbox ${s.outbox ?? '?'} queue ${s.queue ?? '?'}${s.backlogLow === undefined || s.backlogLow === null ? '' : ` (low ${s.backlogLow} high ${s.backlogHigh})`} probe p50 ${ms(s.probe.p50)} p99 ${ms(s.probe.p99)} ms`,
    `expiry late p50 ${ms(s.expiry.p50)} max ${ms(s.expiry.max)} ms${s.expiry.byRead ? ` (${s.expiry.byRead} > 1.5 s)` : ''}`,
    ...(s.non2xx || s.errors || s.skipped ? [`✗ ${s.non2xx} non-2xx, ${s.errors} errors, ${s.skipped} skipped`] : []),
  ].join(' | ');
}

const median = (xs: number[]) => percentile(xs, 50);
const worst = (xs: number[]) => (xs.length ? Math.max(...xs) : null);
const values = (samples: Sample[], f: (s: Sample) => number | null) => samples.map(f).filter((v): v is number => v !== null && Number.isFinite(v));

/** Least-squares slope of y over x. */
function slope(pts: ReadonlyArray<readonly [x: number, y: number]>): number | null {
  if (pts.length < 2) return null;
  const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
  const my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
  const sxx = pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return sxx === 0 ? null : pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / sxx;
}

/** The measured points of `f` over `samples`: [seconds, value]. */
const points = (samples: Sample[], f: (s: Sample) => number | null) =>
  samples.map((s) => [s.t, f(s)] as const).filter((p): p is readonly [number, number] => p[1] !== null && Number.isFinite(p[1]));

/** Least-squares slope of `f` over `samples`, per minute. */
function slopePerMin(samples: Sample[], f: (s: Sample) => number | null): number | null {
  const perS = slope(points(samples, f));
  return perS === null ? null : perS * 60;
}

/**
 * The troughs of `f` at the start and at the end of `samples`: its lowest value in the first and in the last `window`
 * seconds. A window that holds several troughs of a sawtooth sampled every few seconds catches one near its true low,
 * whatever the sawtooth's phase.
 */
function troughs(samples: Sample[], f: (s: Sample) => number | null, window: number): { start: number; end: number } | null {
  const pts = points(samples, f);
  if (pts.length < 2) return null;
  const [first, last] = [pts[0]![0], pts.at(-1)![0]];
  const low = (from: number, to: number) => Math.min(...pts.filter(([t]) => t >= from && t <= to).map(([, v]) => v));
  return { start: low(first, first + window), end: low(last - window, last) };
}

/**
 * The windows in which the live heap's troughs are looked for, at the start and at the end of the last two thirds:
 * several times the time between two troughs of the heap used (10–25 s in this bench's soaks; the property test
 * models 10–150 s), so each window holds a trough near its true low.
 */
const SWING_WINDOW_S = 150;

/** Above this run-queue wait (% of an interval) the machine, not the server, may explain what the samples show. */
const NOISY_WAIT_PCT = 10;

/** The thresholds: what "flat" means here. */
export const FLAT = {
  /** Memory: the live heap's troughs at the end of the last two thirds at most this share plus these MB above those at their start. */
  liveHeapGrowth: 0.1,
  liveHeapSlackMb: 0.5,
  /** Memory: native memory (RSS − V8 heap allocated) of the last third at most this much above the middle third's (share)... */
  nativeGrowth: 0.05,
  /** ...or, if more, held: its slope over the last third adds up to at most this share of it plus these MB. */
  nativeClimb: 0.01,
  nativeClimbSlackMb: 0.5,
  /** p99 (and the probes' p99): the last third's median at most this factor of the middle third's, plus slack. */
  p99Factor: 1.25,
  p99SlackMs: 2,
  probeSlackMs: 10,
  /**
   * Notification backlog, the lowest of each interval (see backlogFloor): the last third's median at most this factor
   * of the middle third's, plus slack (items).
   */
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
 * buffers, code). V8 grows and shrinks its heap by tens of MB between major collections, so a third's median RSS, its
 * lowest or its highest depends on where in that swing its samples fell, and V8 may size the swing up for minutes: each
 * of those flipped between FLAT and GROWING from run to run of the same code (2026-12-06). Memory that is kept shows
 * elsewhere, and that is what is judged:
 * - the live heap: what the latest major collection left (the server's own gauge, `liveMb`), the lowest in the first
 *   and in the last SWING_WINDOW_S of the last two thirds: the later may be at most 10 % + 0.5 MB above the earlier.
 *   Without the gauge (a server from before it), the troughs of the heap used stand in for it. They were judged alone
 *   until the server's collections grew rarer: a major collection a minute with 4 MB/s promoted in between put the
 *   lowest 5-second sample of a window up to 20 MB above what the collection had left, and a soak whose collections
 *   left 87 → 94 MB was judged GROWING on samples of 92 → 119 MB (2026-12-06). The lowest heap used of each third was
 *   judged before that: the troughs it compared could be as close as one swing apart, which let a 6 MB/min leak under
 *   a 44 MB swing pass;
 * - native memory: RSS − the V8 heap allocated, the median of a third, must not grow, unless it stepped up and then
 *   held through the last third (its slope there is flat): a cache reaching its bound, or the allocator's arenas after
 *   a busy stretch, not a leak, which keeps climbing (one such step, 83.5 → 89 MB at minute 6, made a soak GROWING).
 *   The presence journal's records (`storeMb`) are taken out of it and shown apart: they are the users' data, which
 *   grows while users first get records of their own (users created together share one), bounded by the journal's
 *   own rule (docs/operations/storage.md#presence-journal).
 * The highest RSS is shown, not judged: above a live heap and native memory that hold, it is V8's sizing of its heap.
 */
function memory(samples: Sample[]): Verdict {
  const name = 'RSS flat';
  const parts = thirds(samples);
  if (!parts) return { name, ok: null, line: `${name}: too few samples to tell (need 6)` };
  const steady = [...parts.middle, ...parts.last];
  const native = (x: Sample) =>
    (x.rssMb === null || x.heapTotalMb === null ? null : x.rssMb - x.heapTotalMb - (x.storeMb ?? 0));
  const store = (part: Sample[]) => median(values(part, (x) => x.storeMb ?? null));
  const [storeMid, storeLast] = [store(parts.middle), store(parts.last)];
  const storeText = storeMid === null || storeLast === null ? ''
    : ` (the store's records in memory apart: ${storeMid.toFixed(1)} → ${storeLast.toFixed(1)} MB, not judged)`;
  const high = (part: Sample[]) => worst(values(part, (x) => x.rssMb));
  const [highMid, highLast, nativeMid, nativeLast] = [high(parts.middle), high(parts.last), median(values(parts.middle, native)), median(values(parts.last, native))];
  const window = Math.min(SWING_WINDOW_S, (steady.at(-1)!.t - steady[0]!.t) / 2);
  const gauge = steady.every((x) => x.liveMb !== null);
  const lows = troughs(steady, (x) => (gauge ? x.liveMb : x.heapMb), window);
  const live = lows && { start: lows.start, climb: lows.end - lows.start };
  if (highMid === null || highLast === null || nativeMid === null || nativeLast === null || live === null) return { name, ok: null, line: `${name}: not measured` };
  const liveOk = live.climb <= live.start * FLAT.liveHeapGrowth + FLAT.liveHeapSlackMb;
  // Native memory still climbing at the end: its slope over the last third, carried over the third, is more than the
  // allocator's noise.
  const nativeClimb = (slopePerMin(parts.last, native) ?? 0) * ((parts.last.at(-1)!.t - parts.last[0]!.t) / 60);
  const nativeGrew = nativeLast > nativeMid * (1 + FLAT.nativeGrowth);
  const nativeHeld = nativeGrew && nativeClimb <= nativeMid * FLAT.nativeClimb + FLAT.nativeClimbSlackMb;
  const ok = liveOk && (!nativeGrew || nativeHeld);
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
  return {
    name, ok,
    line: `${name}: the live heap (${gauge ? 'what the latest major collection left, the lowest' : 'the lowest heap used'} in the first and the last ${Math.round(window)} s of the last two thirds) ` +
      `${live.start.toFixed(1)} → ${(live.start + live.climb).toFixed(1)} MB${liveOk ? '' : ' (grew)'}; native memory (RSS − V8 heap allocated, median) ` +
      `${nativeMid.toFixed(1)} → ${nativeLast.toFixed(1)} MB middle third → last${storeText}${nativeHeld ? `, a step that then held (${signed(nativeClimb)} MB over the last third)` : nativeGrew ? ' (grew)' : ''}; ` +
      `the highest RSS ${highMid.toFixed(1)} → ${highLast.toFixed(1)} MB (V8's heap sizing, not judged); flat if the live heap climbed by at most ` +
      `${Math.round(FLAT.liveHeapGrowth * 100)} % + ${FLAT.liveHeapSlackMb} MB and native memory grew by at most ${Math.round(FLAT.nativeGrowth * 100)} % ` +
      `or held through the last third   ${ok ? 'FLAT' : 'GROWING'}`,
  };
}

/** Change events not yet dispatched plus deliveries not yet sent. */
const backlog = (s: Sample) => (s.queue === null && s.outbox === null ? null : (s.queue ?? 0) + (s.outbox ?? 0));

/** The interval's lowest backlog (read every 250 ms); a sample without those readings: its one reading at the end. */
const backlogFloor = (s: Sample) => (s.backlogLow === undefined || s.backlogLow === null ? backlog(s) : s.backlogLow);

export function verdicts(samples: Sample[]): Verdict[] {
  return [
    memory(samples),
    compare('p99 flat', samples, (s) => s.p99, 'ms', (m) => m * FLAT.p99Factor + FLAT.p99SlackMs, `the last ≤ ${FLAT.p99Factor} × the middle + ${FLAT.p99SlackMs} ms`),
    compare('notification latency flat', samples, (s) => s.probe.p99, 'ms', (m) => m * FLAT.p99Factor + FLAT.probeSlackMs,
      `the probes' p99 in the last ≤ ${FLAT.p99Factor} × the middle + ${FLAT.probeSlackMs} ms`),
    compare('notification backlog flat', samples, backlogFloor, 'items', (m) => m * FLAT.queueFactor + FLAT.queueSlack,
      `the lowest outbox + delivery queue of each interval (read every 250 ms) in the last ≤ ${FLAT.queueFactor} × the middle + ${FLAT.queueSlack}`),
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
    `  notifications: ${fmt.int(median(values(steady, (s) => s.receivedPerS)) ?? 0)} items/s received (median), backlog (outbox + delivery queue) at the samples median ${med(backlog)}, ` +
      `the lowest of each interval median ${med(backlogFloor)}, the highest max ${worst(values(steady, (s) => s.backlogHigh ?? backlog(s))) ?? '?'}; probe latency p99 median ${med((s) => s.probe.p99)} ms, worst ${ms(worst(values(steady, (s) => s.probe.max)))} ms`,
    `  timed expiries: ${steady.reduce((a, s) => a + s.expiry.n, 0)} measured, lateness p50 median ${med((s) => s.expiry.p50)} ms, ` +
      `worst ${ms(worst(values(steady, (s) => s.expiry.max)))} ms; ${steady.reduce((a, s) => a + s.expiry.byRead, 0)} not made 1.5 s after their instant`,
  ];
}
