/**
 * The `scope` parameter as Entra ID reads it for Microsoft Graph: `{resource}/{permission}` or a bare permission
 * (Graph's), `{resource}/.default` for everything granted, and the OpenID Connect scopes (`openid`, `profile`,
 * `email`, `offline_access`), which ask for an ID token and a refresh token and never appear in `scp`.
 */
import { invalidGrant, OAuthError } from './errors.ts';

export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;

export interface RequestedScopes {
  /** `.default` was asked for. */
  isDefault: boolean;
  /** Permissions named one by one (not `.default`), as sent (case kept). */
  named: string[];
  /** The OpenID Connect scopes asked for, lower-case. */
  oidc: Set<string>;
}

const invalidScope = (aadsts: number, message: string) => new OAuthError('invalid_scope', aadsts, message);

/** Parses `scope`; `resources` are the Graph resource identifiers of the cloud (its root URL and app id). */
export function parseScopes(scope: string | undefined, resources: readonly string[]): RequestedScopes {
  const result: RequestedScopes = { isDefault: false, named: [], oidc: new Set() };
  const parts = (scope ?? '').split(/\s+/).filter((s) => s !== '');
  if (parts.length > 100) throw invalidScope(70011, 'The provided value for the input parameter \'scope\' has more than 100 scopes.');
  for (const part of parts) {
    const lower = part.toLowerCase();
    if ((OIDC_SCOPES as readonly string[]).includes(lower)) {
      result.oidc.add(lower);
      continue;
    }
    const slash = part.lastIndexOf('/');
    const resource = slash === -1 ? null : part.slice(0, slash).replace(/\/+$/, '');
    const permission = slash === -1 ? part : part.slice(slash + 1);
    if (resource !== null && !resources.some((r) => r.replace(/\/+$/, '').toLowerCase() === resource.toLowerCase())) {
      throw invalidScope(500011, `The resource principal named ${resource.slice(0, 200)} was not found in the tenant. This authority issues tokens for Microsoft Graph only (${resources[0]}).`);
    }
    if (!/^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/.test(permission)) {
      throw invalidScope(70011, `The provided value for the input parameter 'scope' is not valid. The scope '${part.slice(0, 200)}' is not valid.`);
    }
    if (permission.toLowerCase() === '.default') result.isDefault = true;
    else if (!result.named.some((n) => n.toLowerCase() === permission.toLowerCase())) result.named.push(permission);
  }
  return result;
}

/** Client credentials: exactly `{resource}/.default`, as Entra requires. */
export function requireDefaultScope(scopes: RequestedScopes, raw: string | undefined): void {
  if (!scopes.isDefault || scopes.named.length > 0 || raw === undefined || !raw.includes('/')) {
    throw invalidScope(1002012,
      `The provided value for scope ${(raw ?? '').slice(0, 200)} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
  }
}

/**
 * The delegated permissions a user's token gets: with `.default` (or no Graph scope), all those consented for the app; else the ones
 * named, each of which must be consented (AADSTS65001 otherwise).
 */
export function delegatedScopes(scopes: RequestedScopes, consented: readonly string[], appId: string): string[] {
  // Only OpenID Connect scopes (or none): Graph with what was consented, as Entra does.
  if (scopes.isDefault || scopes.named.length === 0) return [...consented];
  const granted: string[] = [];
  for (const name of scopes.named) {
    const match = consented.find((c) => c.toLowerCase() === name.toLowerCase());
    if (match === undefined) {
      throw invalidGrant(65001,
        `The user or administrator has not consented to use the application with ID '${appId}'. Send an interactive authorization request for this user and resource. The permission '${name.slice(0, 200)}' is not among the delegated permissions registered for the app (PUT /_presently/apps/${appId}).`);
    }
    granted.push(match);
  }
  return granted;
}
