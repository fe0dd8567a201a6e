/**
 * The server's clock as the page knows it: the last `now` the server gave (session, board, a `clock` event, a clock
 * move) and, on the system clock, the time elapsed in the page since. The manual clock stands still until moved.
 * Countdowns read `serverNow()`, and `useServerNow()` re-renders a component once a second.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ClockState } from '../api/types.ts';
import { Store } from '../lib/store.ts';

interface KnownClock {
  mode: ClockState['mode'];
  /** The server's time when it was read. */
  serverMs: number;
  /** performance.now() when it was read. */
  readAt: number;
}

export const clock = new Store<KnownClock>({ mode: 'system', serverMs: 0, readAt: 0 });

export function setClock(state: ClockState): void {
  const serverMs = Date.parse(state.now);
  if (Number.isNaN(serverMs)) return;
  clock.set({ mode: state.mode, serverMs, readAt: performance.now() });
}

/** A `now` read from the server without its mode (the board's): keeps the known mode. */
export function setServerNow(now: string): void {
  setClock({ mode: clock.get().mode, now });
}

export function serverNow(known: KnownClock = clock.get()): number {
  return known.mode === 'manual' ? known.serverMs : known.serverMs + (performance.now() - known.readAt);
}

const tickers = new Set<() => void>();
let interval: ReturnType<typeof setInterval> | null = null;

/** One timer for the whole page, running while anything shows a countdown. */
function onTick(listener: () => void): () => void {
  tickers.add(listener);
  interval ??= setInterval(() => tickers.forEach((tick) => tick()), 1000);
  return () => {
    tickers.delete(listener);
    if (tickers.size === 0 && interval !== null) {
      clearInterval(interval);
      interval = null;
    }
  };
}

/** The server's time, re-rendered each second and whenever the clock is moved. */
export function useServerNow(): number {
  const [now, setNow] = useState(() => serverNow());
  useEffect(() => {
    const refresh = () => setNow(serverNow());
    const offClock = clock.subscribe(refresh);
    const offTick = onTick(refresh);
    return () => {
      offClock();
      offTick();
    };
  }, []);
  return now;
}
