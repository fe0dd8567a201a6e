/** Which ioredis errors mean Redis is away (the wrapper turns them into StoreUnavailable: a 503, not a 500). */

/** The longest a store call waits for Redis before it is answered as an outage (a 503). */
export const TIMEOUT_MS = 1500;

/**
 * Raised instead of sending a write whose caller has been answered already (its call outlived TIMEOUT_MS while
 * queued): a write answered 503 should not be made afterwards.
 */
export class CallerGaveUp extends Error {
  constructor(what: string) {
    super(`Command timed out: ${what} not sent, its caller was answered 503 already`);
    this.name = 'CallerGaveUp';
  }
}

/** True for the errors ioredis raises when Redis cannot be reached or does not answer: refused, reset, timed out, cluster down. */
export function isRedisOutage(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string } | null;
  if (!e || typeof e !== 'object') return false;
  return e.name === 'MaxRetriesPerRequestError'
    || e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || e.code === 'EPIPE'
    || /Command timed out|Connection is closed|Stream isn't writeable|ClusterAllFailedError|Failed to refresh slots cache/.test(e.message ?? '');
}
