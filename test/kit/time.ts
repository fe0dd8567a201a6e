/**
 * Waiting in tests. Time-driven behaviour is tested with the manual clock (POST /_presently/clock), never by
 * sleeping; what remains is waiting for something another process or a socket does: `eventually` polls for it with a
 * deadline, `sleep` is for the few checks that nothing more happens within a short real-time window.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';

/** Resolves after `ms` of real time (at once for `ms` ≤ 0). */
export function sleep(ms: number): Promise<void> {
  return delay(Math.max(0, ms));
}

/**
 * Polls `read` until `pred` holds of its value, for at most `ms` of real time; resolves to that value, or fails
 * naming `what` and the last value read.
 */
export async function eventually<T>(read: () => T | Promise<T>, pred: (v: T) => boolean, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (pred(v)) return v;
    if (Date.now() > until) assert.fail(`${what}: still ${describe(v)} after ${ms} ms`);
    await sleep(5);
  }
}

/** Waits until `cond()` holds, for at most `ms` of real time. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  await eventually(cond, Boolean, ms, what);
}

function describe(v: unknown): string {
  try {
    const text = JSON.stringify(v);
    return text.length > 500 ? `${text.slice(0, 500)}…` : text;
  } catch {
    return String(v);
  }
}
