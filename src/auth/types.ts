/**
 * Who is calling, as the presence API needs to know it (docs/api/permissions.md).
 */
export interface Principal {
  kind: 'delegated' | 'application';
  tenantId: string;
  /** The signed-in user's object id (`oid`), lower-case; delegated tokens only. */
  userId: string | null;
  /** The calling application (`appid` or `azp`), lower-case. */
  appId: string;
  /** Delegated scopes (`scp`), as sent. */
  scopes: ReadonlySet<string>;
  /** Application roles (`roles`), as sent. */
  roles: ReadonlySet<string>;
}

/** A refused request: 400, 401 or 403 with Graph's error code. The HTTP layer renders it. */
export class AuthError extends Error {
  constructor(
    readonly status: 400 | 401 | 403,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/**
 * Tokens cannot be checked right now (the identity provider's keys are not loaded): 503 with `Retry-After`. The HTTP
 * layer renders it.
 */
export class AuthUnavailable extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'AuthUnavailable';
  }
}
