/**
 * The shell every background loop shares (the presence due loop, the dispatcher, the subscription lifecycle, the
 * deliverer): start and stop, one pass at a time (a wake during a pass makes it go once more), an alarm on the Clock
 * for the next instant the loop's work is due, re-armed after every pass, and a real-time safety interval that
 * covers what no wake reported (work another node sharing the store created, a wake lost to an error). A loop
 * brings only its pass and, if it has one, how to find its next instant.
 */
import { clearInterval, setInterval } from 'node:timers';
import type { Clock } from '../clock/clock.ts';
import { Alarm } from './alarm.ts';
import { SingleFlight } from './singleFlight.ts';

export interface BackgroundLoopOptions {
  clock: Clock;
  /** One pass of the loop's work. Errors go to `onError`. */
  pass: () => Promise<void>;
  /**
   * When the work is next due (a clock instant), asked after every pass: null when nothing is, undefined to leave
   * the alarm as it is. Without it the loop has no alarm (it runs when woken and on the safety interval).
   */
  nextAt?: () => Promise<number | null | undefined>;
  /** Real-time safety interval, milliseconds (0: none). */
  safetyIntervalMs?: number;
  /** What the safety interval does: a whole pass (default), or only look for the next instant again. */
  safety?: 'pass' | 'rearm';
  onError?: (err: unknown) => void;
}

export class BackgroundLoop {
  private stopped = true;
  private readonly alarm: Alarm;
  private readonly flight: SingleFlight;
  private interval: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly opts: BackgroundLoopOptions) {
    this.alarm = new Alarm(opts.clock, () => void this.run());
    this.flight = new SingleFlight(opts.pass, {
      onError: (err) => opts.onError?.(err),
      stopped: () => this.stopped,
      ...(opts.nextAt ? { after: () => this.rearm() } : {}),
    });
  }

  /** True between start and stop. */
  get running(): boolean {
    return !this.stopped;
  }

  /** True while a pass (or its re-arm) is in progress. */
  get busy(): boolean {
    return this.flight.busy;
  }

  /** Starts the loop and makes a first pass (what fell due while the server was down happens now). */
  async start(): Promise<void> {
    this.stopped = false;
    this.alarm.open();
    const every = this.opts.safetyIntervalMs ?? 0;
    if (every > 0 && !this.interval) {
      const safety = this.opts.safety === 'rearm' ? () => this.rearm() : () => this.run();
      this.interval = setInterval(() => void safety(), every);
      this.interval.unref();
    }
    await this.run();
  }

  /** Stops waking; resolves when a pass in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.interval) clearInterval(this.interval);
    this.interval = null;
    this.alarm.close();
    await this.flight.idle();
  }

  /** Makes a pass now, or once more after the one in progress; resolves when it is done. */
  run(): Promise<void> {
    return this.flight.run();
  }

  /** Resolves when the pass in progress, if any, has finished. */
  idle(): Promise<void> {
    return this.flight.idle();
  }

  /** Work falls due at `at`: arm for it if that is earlier than what the loop waits for. */
  wakeAt(at: number): void {
    if (this.stopped) return;
    if (this.alarm.armedFor === null || at < this.alarm.armedFor) this.alarm.set(at);
  }

  /** Arms the alarm for the next instant the loop's work is due. */
  async rearm(): Promise<void> {
    if (this.stopped || !this.opts.nextAt) return;
    try {
      const next = await this.opts.nextAt();
      if (next === undefined) return;
      if (next === null) {
        this.alarm.clear();
      } else if (next <= this.opts.clock.now()) {
        // Still due after a pass (work it could not finish): go again on the next turn of the event loop, so such a
        // loop cannot keep requests, timers and sockets waiting as an alarm firing at once would.
        this.alarm.clear();
        setImmediate(() => void this.run());
      } else {
        this.alarm.set(next);
      }
    } catch (err) {
      this.opts.onError?.(err);
    }
  }
}
