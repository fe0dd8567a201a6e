/**
 * Turns for slices of background work (a fan-out chunk, a claim, a POST's preparation), one slice at a time, that let
 * requests go first. Node accepts one new connection per turn of the event loop, so a request that arrives while
 * many connections wait to be accepted waits as many turns, and every background slice run in those turns adds to
 * its wait: a burst of writes fanned out to many subscriptions kept /health waiting for hundreds of milliseconds
 * although no single slice was long. So while requests come in (one arrived in the last `quietMs`), slices are
 * spaced by a rest a few times their own length, which bounds background work to a small share of the loop; when
 * none do, the next slice runs on the next turn, at full speed.
 *
 * That share must not be too small to keep up: work that is behind (the dispatcher reading a full batch of changes,
 * so more wait) says so (`behind`), and for the next BEHIND_MS its slices rest only as long as themselves, half of the
 * loop instead of a quarter. Without it a slow machine's dispatcher fell behind for good at 1,000 writes a second with
 * a quarter of the loop idle (BENCHMARKS.md, 2026-12-07 00:00; decision d-pacer-behind in docs/decisions.md).
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
  /** The rest factor while some work is behind (see `behind`). */
  behindRestFactor?: number;
}

/** How long a `behind` lasts (ms): the dispatcher says it again at each full batch it reads. */
export const BEHIND_MS = 1_000;

export class Pacer {
  private readonly quietMs: number;
  private readonly restFactor: number;
  private readonly minRestMs: number;
  private readonly maxRestMs: number;
  private readonly minSliceMs: number;
  private readonly waiting: Array<() => void> = [];
  /** A release is scheduled, or a slice is running. */
  private busy = false;
  private readonly behindRestFactor: number;
  private lastRequestAt = -Infinity;
  private behindUntil = -Infinity;
  /** Slices that waited for a rest (tests, metrics). */
  rests = 0;
  /** The last rest given, and the slice it followed (ms; tests). */
  lastRest = { sliceMs: 0, restMs: 0 };

  constructor(opts: PacerOptions = {}) {
    this.quietMs = opts.quietMs ?? 20;
    this.restFactor = opts.restFactor ?? 3;
    this.minRestMs = opts.minRestMs ?? 2;
    this.maxRestMs = opts.maxRestMs ?? 20;
    this.minSliceMs = opts.minSliceMs ?? 0.5;
    this.behindRestFactor = opts.behindRestFactor ?? 1;
  }

  /** Some background work is behind (more is waiting than it did in its last pass): shorter rests for BEHIND_MS. */
  behind(): void {
    this.behindUntil = performance.now() + BEHIND_MS;
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
    const now = performance.now();
    if (lastSliceMs >= this.minSliceMs && now - this.lastRequestAt < this.quietMs) {
      this.rests++;
      const factor = now < this.behindUntil ? this.behindRestFactor : this.restFactor;
      const restMs = Math.min(this.maxRestMs, Math.max(this.minRestMs, lastSliceMs * factor));
      this.lastRest = { sliceMs: lastSliceMs, restMs };
      setTimeout(this.release, restMs);
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
