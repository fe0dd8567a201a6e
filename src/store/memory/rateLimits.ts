/**
 * The rate-limit port kept in this process's memory: for a store with one writer (sqlite, memory), where this
 * process sees every request, so no counter needs to be shared, and throttling costs no disk write per request. A
 * shared backend keeps the same counters in the store (redis/rateLimits.ts); the contract suite
 * (test/store/contract/rateLimits.ts) holds both to the same behaviour.
 */
import type { RateLimitPort } from '../ports/rateLimits.ts';

interface Window {
  /** When the window ends (epoch ms). */
  endsAt: number;
  counts: Record<string, number>;
}

export class LocalRateLimits implements RateLimitPort {
  private readonly windows = new Map<string, Window>();
  private nextSweep = -Infinity;

  async takeRate(key: string, limits: Readonly<Record<string, number>>, now: number, windowMs: number): Promise<number> {
    return this.take(key, limits, now, windowMs);
  }

  /** takeRate, synchronously. */
  take(key: string, limits: Readonly<Record<string, number>>, now: number, windowMs: number): number {
    if (now >= this.nextSweep) this.sweep(now, windowMs);
    let w = this.windows.get(key);
    if (!w || now >= w.endsAt) {
      w = { endsAt: now + windowMs, counts: {} };
      this.windows.set(key, w);
    }
    for (const name in limits) if ((w.counts[name] ?? 0) >= limits[name]!) return w.endsAt - now;
    for (const name in limits) w.counts[name] = (w.counts[name] ?? 0) + 1;
    return 0;
  }

  /** How many keys are held (for tests): only those whose window has not ended at the last sweep, and newer ones. */
  get size(): number {
    return this.windows.size;
  }

  /** Forgets the windows that have ended, at most once per window length: memory holds the last two windows' keys. */
  private sweep(now: number, windowMs: number): void {
    for (const [key, w] of this.windows) if (now >= w.endsAt) this.windows.delete(key);
    this.nextSweep = now + windowMs;
  }
}
