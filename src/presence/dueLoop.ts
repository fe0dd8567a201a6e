/**
 * The due-index loop: wakes at the earliest due instant in the store, makes the transitions of every user due by
 * then, and sleeps until the next one. Writes that create an earlier due instant wake it sooner (`wake`).
 * With the manual clock, moving the clock runs the loop to completion before the move returns.
 */
import type { Clock } from '../platform/clock/clock.ts';
import type { PresenceService } from './service.ts';
import type { Store } from '../store/types.ts';
import { Alarm } from '../platform/loops/alarm.ts';
import { SingleFlight } from '../platform/loops/singleFlight.ts';

const BATCH = 500;
/**
 * With a store shared by several nodes, another node may store a due instant this one never hears of (and die
 * before making the transition): every node then also looks at the due index this often (real time).
 */
export const SHARED_STORE_POLL_MS = 1000;

export class Scheduler {
  private readonly alarm: Alarm;
  private readonly flight: SingleFlight;
  private stopped = false;
  private poll: NodeJS.Timeout | null = null;
  /** Transitions made since start (for tests and metrics). */
  transitions = 0;

  constructor(
    private readonly store: Store,
    private readonly presence: PresenceService,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.alarm = new Alarm(clock, () => void this.runDue());
    this.flight = new SingleFlight(() => this.drain(), { onError: this.onError, after: () => this.rearm() });
  }

  /** Starts the loop: anything that fell due while the server was down happens now. */
  async start(): Promise<void> {
    this.stopped = false;
    this.alarm.open();
    await this.runDue();
    if (!this.store.exclusive && !this.poll) {
      this.poll = setInterval(() => void this.rearm(), SHARED_STORE_POLL_MS);
      this.poll.unref();
    }
  }

  /** Stops the loop; resolves when a run in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    this.alarm.close();
    await this.flight.idle();
  }

  /** A due instant was just stored: arm for it if it is earlier than what we wait for. */
  wake(dueAt: number): void {
    if (this.stopped) return;
    if (this.alarm.armedFor === null || dueAt < this.alarm.armedFor) this.alarm.set(dueAt);
  }

  /** Runs every due transition now; resolves when none is due. Safe to call concurrently. */
  runDue(): Promise<void> {
    return this.flight.run();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const due = await this.store.dueUsers(this.clock.now(), BATCH);
      for (const { tenantId, userId } of due) {
        const t = await this.presence.catchUp(tenantId, userId);
        if (t?.changed) this.transitions++;
      }
      if (due.length < BATCH) return;
    }
  }

  private async rearm(): Promise<void> {
    if (this.stopped) return;
    try {
      const next = await this.store.nextDueAt();
      if (next === null) this.alarm.clear();
      else this.alarm.set(next);
    } catch (err) {
      this.onError(err);
    }
  }
}
