/**
 * The manual clock shared by every node of a scale-out deployment (`--store redis --clock manual`): the time lives in
 * the store, so every node sees the same time, and `POST /_presently/clock` on any node moves it for all.
 *
 * `Clock.now()` is synchronous, so each node keeps a local copy of the shared time, brought up to date
 *   (a) at start: the stored time is read; when there is none, the start time is stored unless another node stores
 *       one first (set-if-absent), so all nodes agree on one. The time is part of the shared data: a node joining
 *       running ones, or a deployment restarted on the same data, continues from the stored time;
 *   (b) when the backend announces a move (Redis pub/sub), and every `pollMs` (real time) as a safety net for an
 *       announcement lost to a reconnect;
 *   (c) when this node moves it, and when it answers a read of the clock (`sync`: GET /_presently/clock and info).
 * Every update fires this node's timers due by then. Only the node that was asked to move the clock settles (runs
 * the scheduler, lifecycle, dispatcher and deliverer to completion) before answering: the due work is in the store,
 * so one node can do all of it. Other nodes may take part (their timers fired too); what they take is committed
 * atomically, except the POSTs of deliveries they claimed, which the settling deliverer waits for by their leases
 * (Deliverer.settle) — so the move answers once everything due is done, whichever node did it.
 *
 * The window: between a move and its announcement reaching another node (pub/sub latency, a millisecond or so on a
 * LAN; up to `pollMs` if the announcement is lost), that node's copy lags the shared time. It is harmless: a read
 * there computes the view at the lagging time, which is a view that was true a moment ago (and a record whose due
 * instant passed is caught up by the next read or transition at the new time); a write there is stamped that much
 * earlier, as if it had come in just before the move (the update still applies to the latest committed record, so
 * nothing committed at the new time is lost); timed transitions are made by
 * optimistic commits on the record's revision, so a node acting on a lagging copy and the settling node never both
 * make a transition — each is made exactly once, by whichever commits first; deliveries are claimed with leases, so
 * each is sent by one node. The moving node's own answer, and its settle, use the new time.
 */
import type { ManualClock } from './manual.ts';
import { manualCore } from './manual.ts';
import { CONFLICT, retryOnConflict } from '../retry.ts';

/** Where a shared manual clock keeps its time (implemented by the Redis store). */
export interface SharedClockBackend {
  /** The shared time (epoch ms), or null when none is stored yet. */
  read(): Promise<number | null>;
  /** Stores `start` unless a time is stored already; resolves to the stored time. */
  init(start: number): Promise<number>;
  /**
   * Moves the shared time to `to` unless it is already there or later (never backwards) and announces the move to
   * the subscribers. With `from`, only when the stored time is exactly `from` (compare-and-set). Resolves to the
   * stored time afterwards, and whether this call moved it.
   */
  advanceTo(to: number, from?: number): Promise<{ now: number; moved: boolean }>;
  /** Calls `onChange` with the new time whenever any node moves it. Resolves to an unsubscribe function. */
  subscribe(onChange: (now: number) => void): Promise<() => Promise<void>>;
}

export interface SharedClockOptions {
  /** Real-time safety net: how often the shared time is read without an announcement (0: never). */
  pollMs?: number;
  /** A failed read of the shared time (the poll); the copy keeps its value. */
  onError?: (err: unknown) => void;
}

/** update's compare-and-set gives up after losing this many times in a row to other nodes' moves. */
const MAX_CONFLICTS = 100;
export const SHARED_CLOCK_POLL_MS = 1000;

/** The real-time safety net: reads the shared time every `pollMs` without an announcement; null when off. */
function startPolling(refresh: () => Promise<number>, opts: SharedClockOptions): NodeJS.Timeout | null {
  const every = opts.pollMs ?? SHARED_CLOCK_POLL_MS;
  if (every <= 0) return null;
  const poll = setInterval(() => void refresh().catch((err: unknown) => opts.onError?.(err)), every);
  poll.unref();
  return poll;
}

export async function sharedManualClock(
  backend: SharedClockBackend, start: number, opts: SharedClockOptions = {},
): Promise<ManualClock> {
  const core = manualCore(await backend.init(start));
  let closed = false;
  const unsubscribe = await backend.subscribe((now) => {
    if (!closed) core.observe(now);
  });
  const refresh = async (): Promise<number> => {
    const now = await backend.read();
    if (now !== null && !closed) core.observe(now);
    return core.now();
  };
  try {
    // A move made between init and subscribe was announced to nobody here.
    await refresh();
  } catch (err) {
    await unsubscribe();
    throw err;
  }
  const poll = startPolling(refresh, opts);

  const clock: ManualClock = {
    mode: 'manual',
    now: core.now,
    at: core.at,
    async set(to) {
      const { now } = await backend.advanceTo(to);
      core.observe(now);
      await core.settle();
    },
    advance(ms) {
      return clock.update((now) => now + ms);
    },
    async update(to) {
      await retryOnConflict('moving the shared clock', async () => {
        const from = await refresh();
        const target = to(from);
        if (target <= from) return;
        const result = await backend.advanceTo(target, from);
        core.observe(result.now);
        return result.moved ? undefined : CONFLICT;
      }, MAX_CONFLICTS);
      await core.settle();
    },
    sync: refresh,
    onSettle: core.onSettle,
    async close() {
      if (closed) return;
      closed = true;
      if (poll) clearInterval(poll);
      await unsubscribe();
    },
  };
  return clock;
}
