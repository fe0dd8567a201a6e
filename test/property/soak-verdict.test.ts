/**
 * The soak's memory verdict (bench/soak/report.ts) reads memory that is kept, not V8's swing: a server whose heap
 * swings by tens of MB between major collections at any phase is FLAT; one that keeps a few MB a minute, in its heap or
 * natively, is GROWING. A native step that then holds, and V8 sizing its heap up, are not leaks: both are FLAT.
 * Samples are made as the soak takes them: every 5 s for 10 minutes (the middle third 200–400 s, the last 400–600 s).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { verdicts, type Sample } from '../../bench/soak/report.ts';

interface Shape {
  /** MB the heap's used size climbs between major collections, and how many seconds one cycle takes. */
  swing: number;
  period: number;
  phase: number;
  /** MB a minute kept in the heap and natively. */
  heapLeak: number;
  nativeLeak: number;
  /** MB native memory steps up by, over `stepFor` seconds from `stepAt`, then holds. */
  nativeStep?: number;
  stepAt?: number;
  stepFor?: number;
  /** MB more V8 allocates above the swing, rising from `bumpAt` to its top at `bumpTop`, gone again 120 s later. */
  bump?: number;
  bumpAt?: number;
  bumpTop?: number;
  /** The server reports what each major collection left (presently_heap_live_bytes); otherwise the troughs stand in. */
  gauge?: boolean;
  /** MB a minute the store's records in memory grow by (presently_store_memory_bytes), if it reports them. */
  storeGrowth?: number;
}

/** 0 before `from`, rising linearly to 1 at `to`, 1 after. */
const ramp = (t: number, from: number, to: number) => Math.min(1, Math.max(0, (t - from) / Math.max(1, to - from)));

/** What the latest major collection before t left (at the troughs of the swing); null before the first. */
function liveAt(shape: Shape, t: number): number | null {
  const lastCollection = t - ((t + shape.phase) % shape.period);
  return lastCollection <= 0 ? null : 55 + (shape.heapLeak * lastCollection) / 60;
}

function samples(shape: Shape): Sample[] {
  return Array.from({ length: 120 }, (_, i) => {
    const t = (i + 1) * 5;
    const live = 55 + (shape.heapLeak * t) / 60;
    const used = live + shape.swing * (((t + shape.phase) % shape.period) / shape.period);
    // V8 keeps some headroom above what is used, and gives part of it back after a collection.
    const bump = (shape.bump ?? 0) * (ramp(t, shape.bumpAt ?? 0, shape.bumpTop ?? 0) - ramp(t, shape.bumpTop ?? 0, (shape.bumpTop ?? 0) + 120));
    const allocated = Math.max(used + 20, live + shape.swing * 0.8) + bump;
    const step = (shape.nativeStep ?? 0) * ramp(t, shape.stepAt ?? 0, (shape.stepAt ?? 0) + (shape.stepFor ?? 0));
    const native = 80 + (shape.nativeLeak * t) / 60 + step;
    const store = shape.storeGrowth === undefined ? null : 40 + (shape.storeGrowth * t) / 60;
    return {
      storeMb: store,
      // A major collection at each trough: the gauge says what the latest one left.
      liveMb: shape.gauge ? liveAt(shape, t) : null,
      t, rssMb: allocated + native + (store ?? 0), heapMb: used, heapTotalMb: allocated, rps: 1000, p50: 5, p99: 9, max: 20, p99ByKind: {},
      non2xx: 0, errors: 0, skipped: 0, loopP99Ms: 12, loopMaxMs: 20, serverCpuPct: 55, serverWaitPct: 2, benchCpuPct: 20,
      receivedPerS: 1000, deliveredPerS: 1000, queue: 0, outbox: 0, probe: { n: 500, p50: 8, p99: 35, max: 60 },
      expiry: { n: 10, p50: 1, max: 3, byRead: 0 },
    };
  });
}

const rss = (shape: Shape) => verdicts(samples(shape)).find((v) => v.name === 'RSS flat')!;
// In the soaks of 2026-12-06 the heap used swung by 20–45 MB, with a trough every 10–25 s. Up to 80 MB every 150 s
// is told from a leak of 6 MB a minute; a swing larger than that needs a longer soak.
const swing = { swing: fc.integer({ min: 20, max: 80 }), period: fc.integer({ min: 10, max: 150 }), phase: fc.integer({ min: 0, max: 150 }) };

describe('the soak: memory verdict', () => {
  it("a heap that swings and keeps nothing is flat, whatever the swing's size and phase", () => {
    fc.assert(fc.property(fc.record({ ...swing, heapLeak: fc.constant(0), nativeLeak: fc.constant(0) }), (shape) => {
      const v = rss(shape);
      assert.equal(v.ok, true, v.line);
    }));
  });

  it('memory kept, 6 MB a minute in the heap or 2 or 3 MB natively, is growing', () => {
    fc.assert(fc.property(fc.record({ ...swing, heapLeak: fc.constantFrom(0, 6), nativeLeak: fc.constantFrom(0, 2, 3) })
      .filter((s) => s.heapLeak + s.nativeLeak > 0), (shape) => {
      const v = rss(shape);
      assert.equal(v.ok, false, v.line);
      assert.match(v.line, /GROWING$/);
    }));
  });

  // The soak of 2026-12-06 09:08 UTC: native memory 83.5 → 89 MB between minutes 5 and 7, then flat.
  it('native memory that steps up by up to 10 MB before the last third and then holds is flat', () => {
    fc.assert(fc.property(fc.record({
      ...swing, heapLeak: fc.constant(0), nativeLeak: fc.constant(0),
      nativeStep: fc.integer({ min: 1, max: 10 }), stepAt: fc.integer({ min: 100, max: 390 }), stepFor: fc.integer({ min: 0, max: 120 }),
    }).filter((s) => s.stepAt! + s.stepFor! <= 400), (shape) => {
      const v = rss(shape);
      assert.equal(v.ok, true, v.line);
    }));
  });

  it('native memory that steps up and then keeps climbing, 2 MB a minute, is growing', () => {
    fc.assert(fc.property(fc.record({ ...swing, heapLeak: fc.constant(0), nativeLeak: fc.constant(2), nativeStep: fc.integer({ min: 1, max: 10 }), stepAt: fc.integer({ min: 100, max: 390 }), stepFor: fc.constant(10) }), (shape) => {
      assert.equal(rss(shape).ok, false, rss(shape).line);
    }));
  });

  // The same soak: V8's allocated heap climbed to 212 MB at minute 7 and was back at 133 MB by minute 9.
  it('V8 sizing its heap up by up to 100 MB, for a while or until the end, is flat', () => {
    fc.assert(fc.property(fc.record({
      ...swing, heapLeak: fc.constant(0), nativeLeak: fc.constant(0),
      bump: fc.integer({ min: 10, max: 100 }), bumpAt: fc.integer({ min: 250, max: 560 }), bumpTop: fc.integer({ min: 260, max: 600 }),
    }).filter((s) => s.bumpTop! > s.bumpAt!), (shape) => {
      const v = rss(shape);
      assert.equal(v.ok, true, v.line);
    }));
  });

  it('a heap that keeps 6 MB a minute while V8 sizes it up is growing', () => {
    fc.assert(fc.property(fc.record({ ...swing, heapLeak: fc.constant(6), nativeLeak: fc.constant(0), bump: fc.integer({ min: 10, max: 100 }), bumpAt: fc.integer({ min: 250, max: 500 }), bumpTop: fc.constant(600) }), (shape) => {
      assert.equal(rss(shape).ok, false, rss(shape).line);
    }));
  });
});

describe("the soak: the store's records in memory", () => {
  // The 15-minute soaks on the presence journal of 2026-12-07 (BENCHMARKS.md, 14:55): native memory 240 → 279 MB,
  // all of it the journal's records.
  it("are shown apart and not judged: records growing with the users' data leave the verdict flat", () => {
    const shapes = fc.record({ ...swing, heapLeak: fc.constant(0), nativeLeak: fc.constant(0), storeGrowth: fc.integer({ min: 0, max: 8 }) });
    fc.assert(fc.property(shapes, (shape) => {
      const v = rss(shape);
      assert.equal(v.ok, true, v.line);
      assert.match(v.line, /the store's records in memory apart: \d+\.\d → \d+\.\d MB, not judged/);
    }));
  });

  it('leave the rest judged: 2 MB a minute kept natively beside them is growing', () => {
    const shapes = fc.record({ ...swing, heapLeak: fc.constant(0), nativeLeak: fc.constant(2), storeGrowth: fc.integer({ min: 0, max: 8 }) });
    fc.assert(fc.property(shapes, (shape) => {
      assert.equal(rss(shape).ok, false, rss(shape).line);
    }));
  });
});

describe('the soak: memory verdict from the live-heap gauge', () => {
  // The soak of 2026-12-06 19:49 UTC: a major collection every 10–70 s, the heap used climbing 100–290 MB in between
  // (4 MB/s promoted). The lowest 5-second sample of a window was up to 25 MB above what the collection had left.
  const slow = { swing: fc.integer({ min: 20, max: 400 }), period: fc.integer({ min: 10, max: 90 }), phase: fc.integer({ min: 0, max: 150 }) };

  it('a heap that swings by up to 400 MB between collections and keeps nothing is flat', () => {
    fc.assert(fc.property(fc.record({ ...slow, heapLeak: fc.constant(0), nativeLeak: fc.constant(0), gauge: fc.constant(true) }), (shape) => {
      const v = rss(shape);
      assert.equal(v.ok, true, v.line);
      assert.match(v.line, /what the latest major collection left/);
    }));
  });

  it('a heap that keeps 6 MB a minute is growing, however it swings', () => {
    fc.assert(fc.property(fc.record({ ...slow, heapLeak: fc.constant(6), nativeLeak: fc.constant(0), gauge: fc.constant(true) }), (shape) => {
      assert.equal(rss(shape).ok, false, rss(shape).line);
    }));
  });
});

describe('the soak: notification backlog verdict', () => {
  // The soak's backlog as bench/soak/backlog.ts reads it: every 125–375 ms at random, its lowest and highest of each
  // 5-second interval. Each probe write fans out `fanOut` items at once, in the tables for `residency` ms (from `from`
  // at the start of the run to `to` at its end, always under the time between writes); a queue that falls behind
  // keeps `growth` items a minute more at every instant.
  interface Backlog { fanOut: number; every: number; from: number; to: number; growth: number; seed: number }

  /** mulberry32: the same readings for the same seed. */
  const prng = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  function backlogSamples(b: Backlog): Sample[] {
    const random = prng(b.seed);
    const at = (ms: number) => {
      const residency = b.every * (b.from + ((b.to - b.from) * ms) / 600_000);
      return Math.floor((b.growth * ms) / 60_000) + (ms % b.every < residency ? b.fanOut : 0);
    };
    const base = samples({ swing: 30, period: 20, phase: 0, heapLeak: 0, nativeLeak: 0, gauge: true });
    let ms = 0;
    return base.map((s) => {
      let [low, high] = [Infinity, -Infinity];
      for (ms += 250 * (0.5 + random()); ms < s.t * 1000; ms += 250 * (0.5 + random())) {
        low = Math.min(low, at(ms));
        high = Math.max(high, at(ms));
      }
      return { ...s, queue: at(s.t * 1000), outbox: 0, backlogLow: low, backlogHigh: high };
    });
  }

  const backlogVerdict = (b: Backlog) => verdicts(backlogSamples(b)).find((v) => v.name === 'notification backlog flat')!;
  const fanOuts = {
    fanOut: fc.integer({ min: 20, max: 1000 }), every: fc.integer({ min: 100, max: 1000 }),
    from: fc.double({ min: 0.05, max: 0.8, noNaN: true }), to: fc.double({ min: 0.05, max: 0.8, noNaN: true }), seed: fc.integer(),
  };

  // 2026-12-07: 400 subscriptions, 5 probe writes a second; readings every 5 s found 11–36 items in the middle third and
  // 255–427 in the last (GROWING) while the probes' latency held: the fan-outs stayed a little longer in the tables.
  it('fan-outs that drain between writes are flat, however large and however long each stays', () => {
    fc.assert(fc.property(fc.record({ ...fanOuts, growth: fc.constant(0) }), (b) => {
      const v = backlogVerdict(b);
      assert.equal(v.ok, true, v.line);
    }));
  });

  it('a queue that keeps 60 items a minute or more is growing, with fan-outs on top or not', () => {
    fc.assert(fc.property(fc.record({ ...fanOuts, growth: fc.integer({ min: 60, max: 5000 }) }), (b) => {
      const v = backlogVerdict(b);
      assert.equal(v.ok, false, v.line);
      assert.match(v.line, /GROWING$/);
    }));
  });
});
