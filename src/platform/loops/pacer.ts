/**
 * Turns for slices of background work (a fan-out chunk, a claim, a POST's preparation), one slice at a time, that let
 * requests go first. Node accepts one new connection per turn of the event loop, so a request that arrives while
 * many connections wait to be accepted waits as many turns, and every background slice run in those turns adds to
 * its wait: a burst of writes fanned out to many subscriptions kept /health waiting for hundreds of milliseconds
 * although no single slice was long. So while requests come in (one arrived in the last `quietMs`), slices are
 * spaced by a rest a few times their own length, which bounds background work to a small share of the loop; when
 * none do, the next slice runs on the next turn, at full speed.
 */
import { setImmediate, setTimeout } from 'node:timers';

export interface PacerOptions {
  /** How long after a request background work stays paced (ms). */
  quietMs?: number;
  /** While paced, the rest after a slice is this many times the slice, within [minRestMs, maxRestMs]. */
  restFactor?: number;
  minRestMs?: number;
  maxRestMs?: number;
  /** Slices shorter than this (ms) are followed by no rest. */
  minSliceMs?: number;
}

export class Pacer {
  private readonly quietMs: number;
  private readonly restFactor: number;
  private readonly minRestMs: number;
  private readonly maxRestMs: number;
  private readonly minSliceMs: number;
  private readonly waiting: Array<() => void> = [];
  /** A release is scheduled, or a slice is running. */
  private busy = false;
  private lastRequestAt = -Infinity;
  /** Slices that waited for a rest (tests, metrics). */
  rests = 0;

  constructor(opts: PacerOptions = {}) {
    this.quietMs = opts.quietMs ?? 20;
    this.restFactor = opts.restFactor ?? 3;
    this.minRestMs = opts.minRestMs ?? 2;
    this.maxRestMs = opts.maxRestMs ?? 20;
    this.minSliceMs = opts.minSliceMs ?? 0.5;
  }

  /** A request arrived: background work is paced for the next `quietMs`. */
  noteRequest(): void {
    this.lastRequestAt = performance.now();
  }

  /** Resolves when the caller's next slice may run: after the loop served I/O, and after a rest while requests come. */
  turn(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule(0);
    });
  }

  private schedule(lastSliceMs: number): void {
    if (this.busy || this.waiting.length === 0) return;
    this.busy = true;
    // A slice too short to matter (a write watched by a few subscriptions) is not paced: its fan-out goes at once.
    if (lastSliceMs >= this.minSliceMs && performance.now() - this.lastRequestAt < this.quietMs) {
      this.rests++;
      setTimeout(this.release, Math.min(this.maxRestMs, Math.max(this.minRestMs, lastSliceMs * this.restFactor)));
    } else {
      setImmediate(this.release);
    }
  }

  private readonly release = (): void => {
    const next = this.waiting.shift();
    if (!next) {
      this.busy = false;
      return;
    }
    const t0 = performance.now();
    next();
    // The slice runs in the microtasks after this callback: it has ended by the next macrotask.
    setImmediate(() => {
      this.busy = false;
      this.schedule(performance.now() - t0);
    });
  };
}
