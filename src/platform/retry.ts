/**
 * The one conflict-retry loop. Optimistic writes (a Redis presence commit checked against the revision it read, a
 * compare-and-set of a subscription, a move of the shared manual clock) lose when another writer commits first; the
 * loser reads again and re-runs its pure decision on what the winner wrote, after a short jittered back-off that
 * grows with each loss, so writers racing on one key spread out instead of colliding again.
 */

/** Give up after this many commits lost in a row (by default): something is writing the same key without pause. */
export const MAX_CONFLICTS = 50;

/** Another writer committed first too many times in a row: the update gave up. */
export class TooManyConflicts extends Error {
  constructor(what: string, attempts: number) {
    super(`${what}: another writer committed first ${attempts} times in a row; gave up`);
    this.name = 'TooManyConflicts';
  }
}

/** What an attempt returns when another writer committed first and it must be tried again. */
export const CONFLICT: unique symbol = Symbol('conflict');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it returns something other than CONFLICT; throws TooManyConflicts (naming `what`) after `max`
 * conflicts in a row. The first retry follows at once (up to 1 ms), later ones wait up to 2, 4 … 50 ms.
 */
export async function retryOnConflict<T>(
  what: string, attempt: () => Promise<T | typeof CONFLICT>, max = MAX_CONFLICTS,
): Promise<T> {
  for (let conflicts = 0; ; conflicts++) {
    const result = await attempt();
    if (result !== CONFLICT) return result;
    if (conflicts + 1 >= max) throw new TooManyConflicts(what, max);
    await sleep(Math.random() * Math.min(50, 2 ** Math.min(conflicts, 6)));
  }
}
