/** Errors every Store raises the same way, whatever the backend, so callers need not know which one it is. */

/** putUser was given a user principal name that another user already has (UPNs are unique, ignoring case). */
export class UpnTaken extends Error {
  constructor(readonly userPrincipalName: string) {
    super(`Another user already has the user principal name '${userPrincipalName}'.`);
    this.name = 'UpnTaken';
  }
}

/**
 * The backend cannot be reached or does not answer (a connection refused, reset or timed out, a cluster down). The
 * caller should answer 503 with Retry-After, not wait and not 500. Raised by the wrapper (./guarded.ts) from the
 * errors the backend recognises as outages; the driver's own error is the `cause`.
 */
export class StoreUnavailable extends Error {
  constructor(readonly backend: string, cause: unknown) {
    super(`the ${backend} store is not reachable: ${(cause as Error | null)?.message ?? String(cause)}`, { cause });
    this.name = 'StoreUnavailable';
  }
}

export { TooManyConflicts } from '../platform/retry.ts';
