/**
 * The only source of time. The system clock and the manual clock implement it (src/platform/clock/); the domain receives
 * `now` as an argument and never reads time itself.
 */
export interface Clock {
  readonly mode: 'system' | 'manual';
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Calls `fn` once the clock reaches `at` (epoch ms). Returns a cancel function. For the manual clock, timers fire
   * when the clock is moved past them.
   */
  at(at: number, fn: () => void): () => void;
}
