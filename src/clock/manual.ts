import type { Clock } from '../domain/clock.ts';

/**
 * A clock that moves only when told (`--clock manual`, POST /_presently/clock). Timers due by the new time run,
 * in order, before `set` resolves; `set` then waits for `settle` so that the work those timers started is done.
 */
export interface ManualClock extends Clock {
  readonly mode: 'manual';
  /** Moves the clock to `to` (epoch ms; never backwards) and runs the timers due by then. */
  set(to: number): Promise<void>;
  advance(ms: number): Promise<void>;
  /** Registers work the clock waits for after firing timers (the scheduler's catch-up). */
  onSettle(fn: () => Promise<void>): void;
}

export function manualClock(start: number): ManualClock {
  let current = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const settlers: Array<() => Promise<void>> = [];
  const clock: ManualClock = {
    mode: 'manual',
    now: () => current,
    at(at, fn) {
      if (at <= current) {
        queueMicrotask(fn);
        return () => {};
      }
      const id = seq++;
      timers.set(id, { at, fn });
      return () => {
        timers.delete(id);
      };
    },
    async set(to) {
      if (to > current) current = to;
      const due = [...timers.entries()].filter(([, t]) => t.at <= current).sort((a, b) => a[1].at - b[1].at);
      for (const [id, t] of due) {
        timers.delete(id);
        t.fn();
      }
      for (const settle of settlers) await settle();
    },
    advance(ms) {
      return clock.set(current + ms);
    },
    onSettle(fn) {
      settlers.push(fn);
    },
  };
  return clock;
}
