/**
 * The stall tools of the bench (bench/analyze/): a `--trace-gc` log summed up with each mark-compact's marking steps,
 * and a CPU profile's stretches without an idle sample. Both read what Node writes; the lines here are a real soak's.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { summarize } from '../../bench/analyze/gc.ts';
import { busyStretches } from '../../bench/analyze/stalls.ts';

const TRACE = `[6989:0xc769280]       45 ms: Scavenge 4.9 (5.0) -> 4.3 (6.0) MB, 0.82 / 0.01 ms  (average mu = 1.000, current mu = 1.000) allocation failure;
{"level":30,"msg":"not a collection"}
[6989:0xc769280]   295600 ms: Scavenge (interleaved) 430.1 (466.0) -> 425.0 (466.0) MB, 12.50 / 0.00 ms  (average mu = 0.998, current mu = 0.998) allocation failure;
[6989:0xc769280]   295641 ms: Mark-Compact 425.8 (464.1) -> 146.9 (465.0) MB, 17.03 / 0.02 ms  (+ 192.9 ms in 62 steps since start of marking, biggest step 14.1 ms, walltime since start of marking 341 ms) (average mu = 0.998, current mu = 0.998) finalize incremental marking via stack guard; GC in old space requested
[6989:0xc769280]   486312 ms: Mark-Compact (reduce) 485.0 (517.9) -> 158.4 (482.0) MB, 13.74 / 0.02 ms  (+ 153.4 ms in 155 steps since start of marking, biggest step 7.8 ms, walltime since start of marking 249 ms) (average mu = 0.998, current mu = 0.998) finalize incremental marking via stack guard; GC in old space requested
`;

describe('bench/analyze: what a stall is made of', () => {
  it('sums a --trace-gc log: scavenges, and each mark-compact with the marking steps its pause figure leaves out', () => {
    const s = summarize(TRACE);
    assert.equal(s.scavenges, 2);
    assert.equal(s.longestScavengeMs, 12.5);
    assert.deepEqual(s.markCompacts, [
      { atS: 295.641, beforeMb: 425.8, afterMb: 146.9, pauseMs: 17.03, stepsMs: 192.9, wallMs: 341 },
      { atS: 486.312, beforeMb: 485, afterMb: 158.4, pauseMs: 13.74, stepsMs: 153.4, wallMs: 249 },
    ]);
    assert.equal(summarize(TRACE, 300).markCompacts.length, 1, 'what came before FROM_S is left out');
    assert.equal(summarize(TRACE, 300).scavenges, 0);
  });

  it('finds the stretches of a CPU profile without an idle sample, and what they were', () => {
    const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 9 });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3, 4] },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('(garbage collector)') },
        { id: 4, callFrame: frame('middleOf', 'file:///app/dist/presence/render.js') },
      ],
      startTime: 1_000_000,
      // 1 ms a sample: idle, 150 ms busy (100 collector, 50 middleOf), idle, 20 ms busy, idle.
      samples: [2, ...Array<number>(100).fill(3), ...Array<number>(50).fill(4), 2, ...Array<number>(20).fill(3), 2],
      timeDeltas: Array<number>(173).fill(1000),
    };
    const stretches = busyStretches(profile, 100);
    assert.equal(stretches.length, 1, 'the 20 ms stretch is under the threshold');
    assert.equal(stretches[0]!.startS, 0.002);
    assert.equal(stretches[0]!.ms, 150);
    assert.deepEqual(stretches[0]!.top.map((t) => [t.name, Math.round(t.share * 100)]), [
      ['(garbage collector)', 67], ['middleOf presence/render.js:10', 33],
    ]);
    assert.equal(busyStretches(profile, 10).length, 2);
  });
});
