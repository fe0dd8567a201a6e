/**
 * When a failed notification is tried again: exponential back-off with jitter (1 s, 2 s, 4 s … capped at 10 min,
 * ±50 %) on the server Clock, never later than 4 hours after the item was made; after that it is dropped. A
 * throttled endpoint's items wait at least its 10-minute turn; a dropping endpoint's are dropped at once.
 */
import type { Delivery } from '../domain/subscription.ts';
import type { DeliveryReschedule } from '../store/types.ts';
import { THROTTLE_WAIT_MS, type EndpointState } from './endpointHealth.ts';

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 10 * 60_000;
export const MAX_AGE_MS = 4 * 60 * 60_000;

/**
 * The wait before attempt `attempt + 1` after `attempt` failed tries (attempt ≥ 1): 1 s, 2 s, 4 s … capped at
 * 10 minutes, times a jitter factor in [0.5, 1.5).
 */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  return Math.floor(exp * (0.5 + random()));
}

/**
 * When a failed item is tried next, or null to drop it: never later than `maxAge` after it was created, and dropped
 * once that has passed.
 */
export function nextAttempt(
  d: Pick<Delivery, 'attempt' | 'createdAt'>, failedAttempt: number, now: number,
  opts: { random?: () => number; minWaitMs?: number; maxAgeMs?: number } = {},
): number | null {
  const deadline = d.createdAt + (opts.maxAgeMs ?? MAX_AGE_MS);
  if (now >= deadline) return null;
  const wait = Math.max(backoffDelay(failedAttempt, opts.random), opts.minWaitMs ?? 0);
  return Math.min(now + wait, deadline);
}

/**
 * After a failed POST of `items` to an endpoint now in `state`: the items tried again (and when), and those dropped.
 * One jitter draw per POST, so the items of a batch stay together, in order, for their next try.
 */
export function planRetries(
  items: readonly Delivery[], state: EndpointState, now: number,
  opts: { random?: () => number; maxAgeMs?: number } = {},
): { retries: DeliveryReschedule[]; dropped: Delivery[] } {
  const retries: DeliveryReschedule[] = [];
  const dropped: Delivery[] = [];
  const jitter = (opts.random ?? Math.random)();
  for (const d of items) {
    const at = state === 'dropping' ? null : nextAttempt(d, d.attempt + 1, now, {
      random: () => jitter, maxAgeMs: opts.maxAgeMs ?? MAX_AGE_MS, minWaitMs: state === 'throttled' ? THROTTLE_WAIT_MS : 0,
    });
    if (at === null) dropped.push(d);
    else retries.push({ id: d.id, nextAttemptAt: at, attempt: d.attempt + 1 });
  }
  return { retries, dropped };
}
