/** Which ioredis errors mean Redis is away (the wrapper turns them into StoreUnavailable: a 503, not a 500). */

/** True for the errors ioredis raises when Redis cannot be reached or does not answer: refused, reset, timed out, cluster down. */
export function isRedisOutage(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string } | null;
  if (!e || typeof e !== 'object') return false;
  return e.name === 'MaxRetriesPerRequestError'
    || e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || e.code === 'EPIPE'
    || /Command timed out|Connection is closed|Stream isn't writeable|ClusterAllFailedError|Failed to refresh slots cache/.test(e.message ?? '');
}
