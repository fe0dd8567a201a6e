import type { Clock } from './clock.ts';

/** Longest single setTimeout Node allows; longer waits are chained. */
const MAX_TIMEOUT = 2 ** 31 - 1;

export function systemClock(): Clock {
  return {
    mode: 'system',
    now: () => Date.now(),
    at(at, fn) {
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        const wait = at - Date.now();
        if (wait <= 0) {
          timer = undefined;
          fn();
          return;
        }
        timer = setTimeout(arm, Math.min(wait, MAX_TIMEOUT));
        timer.unref();
      };
      arm();
      return () => {
        if (timer) clearTimeout(timer);
      };
    },
  };
}
