/** Errors every Store implementation raises the same way, so callers need not know the backend. */

/** putUser was given a user principal name that another user already has (UPNs are unique, ignoring case). */
export class UpnTaken extends Error {
  constructor(readonly userPrincipalName: string) {
    super(`Another user already has the user principal name '${userPrincipalName}'.`);
    this.name = 'UpnTaken';
  }
}

/**
 * True when the backend cannot be reached or does not answer: the caller should answer 503 with Retry-After, not
 * wait and not 500. Recognises the errors ioredis raises (refused, reset, timed out, cluster down).
 */
export function isStoreUnavailable(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string } | null;
  if (!e || typeof e !== 'object') return false;
  return e.name === 'MaxRetriesPerRequestError'
    || e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || e.code === 'EPIPE'
    || /Command timed out|Connection is closed|Stream isn't writeable|ClusterAllFailedError|Failed to refresh slots cache/.test(e.message ?? '');
}
