import type { Clock } from './clock.ts';

/**
 * A clock that moves only when told (`--clock manual`, POST /_presently/clock). Timers due by the new time run,
 * in order, before `set` resolves; `set` then waits for `settle` so that the work those timers started is done.
 *
 * `manualClock` keeps the time in this process. With a shared store, `sharedManualClock` (./shared.ts) keeps it in
 * the store, so every node sees the same time; both implement this interface.
 */
export interface ManualClock extends Clock {
  readonly mode: 'manual';
  /** Moves the clock to `to` (epoch ms; never backwards) and runs the timers due by then. */
  set(to: number): Promise<void>;
  advance(ms: number): Promise<void>;
  /**
   * Moves the clock to `to(now)`, `now` being its current time (never backwards), then runs the due timers and
   * settles, as `set`. `to` may throw to refuse the move (nothing changes). On a shared clock `now` is the shared
   * time and the move is a compare-and-set, retried when another node moved the clock meanwhile — so concurrent
   * `advance`s on several nodes all count, as they do on one node.
   */
  update(to: (now: number) => number): Promise<void>;
  /**
   * Brings this process's copy of the time up to date (a shared clock reads the shared time; timers it makes due
   * run) and resolves to it. A local clock is always up to date.
   */
  sync(): Promise<number>;
  /** Registers work the clock waits for after firing timers (the scheduler's catch-up). */
  onSettle(fn: () => Promise<void>): void;
  /** Stops following the shared time (a shared clock); nothing to do for a local one. */
  close(): Promise<void>;
}

/**
 * The timer bookkeeping both manual clocks share: the local copy of the time, the timers waiting for it, and the
 * settlers. `observe` moves the copy forward (never back) and fires the timers due by then, earliest first.
 */
export interface ManualCore {
  now(): number;
  at(at: number, fn: () => void): () => void;
  observe(to: number): void;
  settle(): Promise<void>;
  onSettle(fn: () => Promise<void>): void;
}

export function manualCore(start: number): ManualCore {
  let current = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const settlers: Array<() => Promise<void>> = [];
  return {
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
    observe(to) {
      if (to > current) current = to;
      const due = [...timers.entries()].filter(([, t]) => t.at <= current).sort((a, b) => a[1].at - b[1].at);
      for (const [id, t] of due) {
        timers.delete(id);
        t.fn();
      }
    },
    async settle() {
      for (const settle of settlers) await settle();
    },
    onSettle(fn) {
      settlers.push(fn);
    },
  };
}

/** The manual clock of one process (sqlite and memory stores). */
export function manualClock(start: number): ManualClock {
  const core = manualCore(start);
  const clock: ManualClock = {
    mode: 'manual',
    now: core.now,
    at: core.at,
    async set(to) {
      // Synchronous up to the settle: a second move made meanwhile starts from this one's time.
      core.observe(to);
      await core.settle();
    },
    advance(ms) {
      return clock.set(core.now() + ms);
    },
    update(to) {
      let target: number;
      try {
        target = to(core.now());
      } catch (err) {
        return Promise.reject(err as Error);
      }
      return clock.set(target);
    },
    sync: async () => core.now(),
    onSettle: core.onSettle,
    close: async () => {},
  };
  return clock;
}
