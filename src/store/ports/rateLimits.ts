/**
 * The rate-limit port: fixed-window counters for throttling, shared by every node on the store, so N nodes allow what
 * one does. Only counting: which requests count, under which key and with what limits is the throttle's decision
 * (src/http/throttle.ts).
 */

export interface RateLimitPort {
  /**
   * Counts one against each counter named in `limits`, in `key`'s current window — all of them or none: when any of
   * them has reached its limit, nothing is counted. A window is opened by the first call at or after the end of the
   * previous one (the server Clock's `now`, epoch ms) and lasts `windowMs`; counters start at 0 in each window.
   * Resolves to 0 when counted, else to the ms left until the window ends (> 0), when a call would be counted again.
   */
  takeRate(key: string, limits: Readonly<Record<string, number>>, now: number, windowMs: number): Promise<number>;
}
