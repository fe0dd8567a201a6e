/**
 * The loop shell the due loop, dispatcher, lifecycle and deliverer share (src/platform/loops/backgroundLoop.ts), on
 * the manual clock: a pass at start, the next pass when the clock reaches the instant the loop named, an earlier
 * instant taking over the alarm, one pass at a time, nothing after stop, and errors reported rather than thrown.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../../src/platform/clock/manual.ts';
import { BackgroundLoop } from '../../src/platform/loops/backgroundLoop.ts';

const T0 = Date.parse('2026-11-28T08:00:00Z');
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('background loop', () => {
  it('passes at start, then when the clock reaches the next instant; an earlier wake takes over; none after stop', async () => {
    const clock = manualClock(T0);
    const passes: number[] = [];
    /** The instants the loop's work falls due at; it names the first one still ahead. */
    const instants = [T0 + 60_000];
    const loop = new BackgroundLoop({
      clock, pass: async () => { passes.push(clock.now()); }, nextAt: async () => instants.find((t) => t > clock.now()) ?? null,
    });
    await loop.start();
    assert.deepEqual(passes, [T0]);
    await clock.advance(59_999);
    await flush();
    assert.equal(passes.length, 1, 'not before its instant');
    await clock.advance(1);
    await flush();
    assert.deepEqual(passes, [T0, T0 + 60_000]);
    instants.push(T0 + 3_600_000);
    await loop.run();
    loop.wakeAt(T0 + 120_000);
    await clock.set(T0 + 120_000);
    await flush();
    assert.equal(passes.at(-1), T0 + 120_000, 'the earlier wake');
    await loop.stop();
    await clock.set(T0 + 3_600_000);
    await flush();
    await loop.run();
    assert.equal(passes.at(-1), T0 + 120_000, 'nothing after stop');
  });

  it('one pass at a time: runs asked for during a pass make it go once more, and share its promise', async () => {
    const clock = manualClock(T0);
    let running = 0;
    let most = 0;
    let passes = 0;
    const loop = new BackgroundLoop({
      clock,
      pass: async () => {
        running++;
        most = Math.max(most, running);
        await flush();
        passes++;
        running--;
      },
    });
    await loop.start();
    passes = 0;
    await Promise.all([loop.run(), loop.run(), loop.run()]);
    assert.equal(most, 1);
    assert.equal(passes, 2, 'the first run, and once more for the calls made during it');
    await loop.stop();
  });

  it('work that stays due after a pass goes again on the next turn of the event loop, letting timers and I/O in', async () => {
    const clock = manualClock(T0);
    let passes = 0;
    const loop = new BackgroundLoop({ clock, pass: async () => { passes++; }, nextAt: async () => clock.now() });
    await loop.start();
    // A real timer still fires while the loop keeps finding its work due.
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(passes > 1, `passes: ${passes}`);
    await loop.stop();
    const after = passes;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(passes <= after + 1, 'stopped');
  });

  it('a failing pass or next-instant lookup is reported, and the loop goes on', async () => {
    const clock = manualClock(T0);
    const errors: string[] = [];
    let fail = true;
    const loop = new BackgroundLoop({
      clock,
      pass: async () => { if (fail) throw new Error('pass'); },
      nextAt: async () => { if (fail) throw new Error('nextAt'); return null; },
      onError: (err) => errors.push((err as Error).message),
    });
    await loop.start();
    assert.deepEqual(errors, ['pass']);
    fail = false;
    await loop.run();
    assert.deepEqual(errors, ['pass']);
    await loop.stop();
  });
});
