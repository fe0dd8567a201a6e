/**
 * `GET /{tenant}/oauth2/v2.0/authorize` shows the sign-in page (./signInPage.ts); the page POSTs the chosen user back
 * to the same URL, which sends the browser to the app's redirect URI with a code (./codes.ts), or an error. PKCE with
 * S256 is required [P: d-authority-pkce]. Until the client and its redirect URI are known good, errors are shown on a
 * page; after, they go back to the app, as Entra ID does.
 */
import { isGuid } from '../platform/json/validate.ts';
import type { User } from '../store/types.ts';
import type { AuthorityDeps } from './context.ts';
import { OAuthError, invalidRequest, missingParameter } from './errors.ts';
import { redirectAllowed, type ResponseMode } from './redirects.ts';
import type { Registration } from './registrations.ts';
import { delegatedScopes, parseScopes, type RequestedScopes } from './scopes.ts';
import { requireUserInTenant } from './tenants.ts';

/** The parameters the page carries through its form. */
export const CARRIED = ['client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce',
  'code_challenge', 'code_challenge_method', 'login_hint', 'prompt'] as const;

export interface AuthorizeClient {
  registration: Registration;
  redirectUri: string;
  responseMode: ResponseMode;
  state: string | undefined;
}

export interface AuthorizeRequest extends AuthorizeClient {
  scopes: RequestedScopes;
  codeChallenge: string;
  nonce: string | null;
  loginHint: string | undefined;
  prompt: string | undefined;
}

/** The app and where to send the browser back; an error here is shown on a page, never redirected. */
export async function readClient(deps: AuthorityDeps, params: Record<string, string>): Promise<AuthorizeClient> {
  const clientId = params.client_id;
  if (!clientId) throw missingParameter('client_id');
  const registration = isGuid(clientId) ? await deps.registrations.get(clientId) : null;
  if (!registration) {
    throw new OAuthError('unauthorized_client', 700016, `Application with identifier '${clientId.slice(0, 100)}' was not found in the directory.`);
  }
  const redirectUri = params.redirect_uri;
  if (!redirectUri) throw missingParameter('redirect_uri');
  if (!redirectAllowed(registration.redirectUris, redirectUri)) {
    throw invalidRequest(50011, `The redirect URI '${redirectUri.slice(0, 300)}' specified in the request does not match the redirect URIs configured for the application '${registration.appId}'. Registered: ${registration.redirectUris.join(', ') || 'none'}.`);
  }
  const mode = params.response_mode ?? 'query';
  if (!['query', 'fragment', 'form_post'].includes(mode)) throw invalidRequest(900144, `The response_mode '${mode.slice(0, 40)}' is not supported: use query, fragment or form_post.`);
  return { registration, redirectUri, responseMode: mode as ResponseMode, state: params.state };
}

/** The rest of the request; an error here goes back to the app. */
export function readRequest(deps: AuthorityDeps, client: AuthorizeClient, params: Record<string, string>): AuthorizeRequest {
  if (params.response_type !== 'code') {
    throw new OAuthError('unsupported_response_type', 700054, `The response_type '${(params.response_type ?? '').slice(0, 40)}' is not supported: this authority issues authorization codes only (response_type=code).`);
  }
  const codeChallenge = params.code_challenge;
  if (!codeChallenge) throw invalidRequest(9002325, "Proof Key for Code Exchange is required: send 'code_challenge' with 'code_challenge_method=S256'.");
  if (params.code_challenge_method !== 'S256') {
    throw invalidRequest(9002326, `The code_challenge_method '${(params.code_challenge_method ?? 'plain').slice(0, 20)}' is not supported: use S256.`);
  }
  if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) throw invalidRequest(9002327, 'The code_challenge must be the base64url SHA-256 of the code_verifier (43 characters).');
  const scopes = parseScopes(params.scope, deps.resources);
  delegatedScopes(scopes, client.registration.scopes, client.registration.appId);
  return { ...client, scopes, codeChallenge, nonce: params.nonce ?? null, loginHint: params.login_hint, prompt: params.prompt };
}

/** At most this many users are on the sign-in page; past it, the page offers a search by user name. */
export const MAX_LISTED = 500;

/** The users the sign-in page lists, the hinted one (if any) among them, and how many there are in all. */
export interface ListedUsers {
  users: User[];
  total: number;
  /** `login_hint` named no user of these tenants. */
  hintMissing: boolean;
}

/**
 * The users the page lists: the tenant's, or every tenant's at `common`/`organizations`, at most MAX_LISTED of them
 * (the first in id order: a page of the directory, so a tenant of a million users costs what one of 500 does), plus
 * the `login_hint` user wherever they are.
 */
export async function usersFor(deps: AuthorityDeps, tenant: string, loginHint: string | undefined): Promise<ListedUsers> {
  const tenantIds = isGuid(tenant) ? [tenant.toLowerCase()] : (await deps.store.listTenants()).map((t) => t.id);
  const total = (await Promise.all(tenantIds.map((t) => deps.store.countUsers(t)))).reduce((a, n) => a + n, 0);
  const users: User[] = [];
  for (const t of tenantIds) {
    if (users.length >= MAX_LISTED) break;
    users.push(...await deps.store.listUserPage(t, null, MAX_LISTED - users.length));
  }
  const hinted = loginHint ? await deps.store.findUserByUpn(loginHint) : null;
  const found = hinted !== null && tenantIds.includes(hinted.tenantId);
  if (found && !users.some((u) => u.tenantId === hinted.tenantId && u.id === hinted.id)) users.unshift(hinted);
  return { users, total, hintMissing: Boolean(loginHint) && !found };
}

/** The chosen user signs in: a code for the app. `login` is `{tenantId}:{userId}` from the page. */
export async function signIn(deps: AuthorityDeps, tenant: string, req: AuthorizeRequest, login: string, base: string): Promise<string> {
  const [tid = '', oid = ''] = login.split(':');
  const user = isGuid(tid) && isGuid(oid) ? await deps.store.getUser(tid.toLowerCase(), oid.toLowerCase()) : null;
  if (!user) throw invalidRequest(50034, 'The selected user account does not exist in the directory.');
  requireUserInTenant(user, tenant);
  return deps.codes.issue({
    appId: req.registration.appId,
    tenantId: user.tenantId,
    userId: user.id,
    redirectUri: req.redirectUri,
    scopes: delegatedScopes(req.scopes, req.registration.scopes, req.registration.appId),
    oidc: [...req.scopes.oidc],
    codeChallenge: req.codeChallenge,
    nonce: req.nonce,
    base,
  });
}
