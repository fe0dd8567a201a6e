/**
 * The soak's memory verdict (bench/soak/report.ts) reads memory that is kept, not V8's swing: a server whose heap
 * swings by tens of MB between major collections at any phase is FLAT; one that keeps a few MB a minute, in its heap or
 * natively, is GROWING. Samples are made as the soak takes them: every 5 s for 10 minutes.
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
}

function samples(shape: Shape): Sample[] {
  return Array.from({ length: 120 }, (_, i) => {
    const t = (i + 1) * 5;
    const live = 55 + (shape.heapLeak * t) / 60;
    const used = live + shape.swing * (((t + shape.phase) % shape.period) / shape.period);
    // V8 keeps some headroom above what is used, and gives part of it back after a collection.
    const allocated = Math.max(used + 20, live + shape.swing * 0.8);
    const native = 80 + (shape.nativeLeak * t) / 60;
    return {
      t, rssMb: allocated + native, heapMb: used, heapTotalMb: allocated, rps: 1000, p50: 5, p99: 9, max: 20, p99ByKind: {},
      non2xx: 0, errors: 0, skipped: 0, loopP99Ms: 12, loopMaxMs: 20, serverCpuPct: 55, serverWaitPct: 2, benchCpuPct: 20,
      receivedPerS: 1000, deliveredPerS: 1000, queue: 0, outbox: 0, probe: { n: 500, p50: 8, p99: 35, max: 60 },
      expiry: { n: 10, p50: 1, max: 3, byRead: 0 },
    };
  });
}

const rss = (shape: Shape) => verdicts(samples(shape)).find((v) => v.name === 'RSS flat')!;
const swing = { swing: fc.integer({ min: 20, max: 150 }), period: fc.integer({ min: 30, max: 150 }), phase: fc.integer({ min: 0, max: 150 }) };

describe('the soak: memory verdict', () => {
  it("a heap that swings and keeps nothing is flat, whatever the swing's size and phase", () => {
    fc.assert(fc.property(fc.record({ ...swing, heapLeak: fc.constant(0), nativeLeak: fc.constant(0) }), (shape) => {
      const v = rss(shape);
      assert.equal(v.ok, true, v.line);
    }));
  });

  it('memory kept, 6 MB a minute in the heap or 3 MB natively, is growing', () => {
    fc.assert(fc.property(fc.record({ ...swing, heapLeak: fc.constantFrom(0, 6), nativeLeak: fc.constantFrom(0, 3) })
      .filter((s) => s.heapLeak + s.nativeLeak > 0), (shape) => {
      const v = rss(shape);
      assert.equal(v.ok, false, v.line);
      assert.match(v.line, /GROWING$/);
    }));
  });
});
