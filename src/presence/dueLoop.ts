/**
 * The due-index loop: wakes at the earliest due instant in the store, makes the transitions of every user due by
 * then, and sleeps until the next one. Writes that create an earlier due instant wake it sooner (`wake`, on the
 * dueChanged event). With the manual clock, moving the clock runs the loop to completion before the move returns.
 * The loop shell (alarm, single flight, safety interval) is src/platform/loops/backgroundLoop.ts.
 */
import type { Clock } from '../platform/clock/clock.ts';
import type { PresenceService } from './service.ts';
import type { Store } from '../store/types.ts';
import { BackgroundLoop } from '../platform/loops/backgroundLoop.ts';
import { yieldToIo } from '../platform/loops/yieldToIo.ts';

const BATCH = 500;
/**
 * With a store shared by several nodes, another node may store a due instant this one never hears of (and die
 * before making the transition): every node then also looks at the due index this often (real time).
 */
export const SHARED_STORE_POLL_MS = 1000;

export interface SchedulerOptions {
  /** How often (real time) to look at the due index for instants no event reported (0: never; a shared store). */
  pollMs?: number;
  onError?: (err: unknown) => void;
}

export class Scheduler {
  private readonly loop: BackgroundLoop;
  /** Transitions made since start (for tests and metrics). */
  transitions = 0;

  constructor(
    private readonly store: Store,
    private readonly presence: PresenceService,
    private readonly clock: Clock,
    opts: SchedulerOptions = {},
  ) {
    this.loop = new BackgroundLoop({
      clock, pass: () => this.drain(), nextAt: () => this.store.nextDueAt(),
      safetyIntervalMs: opts.pollMs ?? 0, safety: 'rearm', ...(opts.onError ? { onError: opts.onError } : {}),
    });
  }

  /** Starts the loop: anything that fell due while the server was down happens now. */
  start(): Promise<void> {
    return this.loop.start();
  }

  /** Stops the loop; resolves when a run in progress has finished. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** A due instant was just stored: arm for it if it is earlier than what we wait for. */
  wake(dueAt: number): void {
    this.loop.wakeAt(dueAt);
  }

  /** Runs every due transition now; resolves when none is due. Safe to call concurrently. */
  runDue(): Promise<void> {
    return this.loop.run();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const due = await this.store.dueUsers(this.clock.now(), BATCH);
      for (const { tenantId, userId } of due) {
        const t = await this.presence.catchUp(tenantId, userId);
        if (t?.changed) this.transitions++;
      }
      if (due.length < BATCH) return;
      await yieldToIo();
    }
  }
}
