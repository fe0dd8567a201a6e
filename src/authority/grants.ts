/**
 * `POST /{tenant}/oauth2/v2.0/token`: the grants of the dev authority — `client_credentials` (a secret or a
 * certificate assertion), `password` (test scripts: every user's password is the documented dev password
 * [P: d-authority-passwords]), `authorization_code` with PKCE (./authorize.ts issues the codes) and
 * `refresh_token`. Errors are Entra's (./errors.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isGuid } from '../platform/json/validate.ts';
import { authenticateClient, presentedCredentials } from './clientAuth.ts';
import { tokenEndpointOf, type AuthorityDeps, type TokenRequest } from './context.ts';
import { OAuthError, invalidGrant, invalidRequest, missingParameter } from './errors.ts';
import { appTokenResponse, readRefreshToken, userTokenResponse, type TokenResponse } from './issuance.ts';
import type { Registration } from './registrations.ts';
import { delegatedScopes, parseScopes, requireDefaultScope } from './scopes.ts';
import { isMultiTenant, requireUserInTenant } from './tenants.ts';

/** [P: d-authority-passwords] The password of every user in dev mode, for the password grant. */
export const DEV_USER_PASSWORD = 'Dev~Presently.User.Password';

type Grant = (deps: AuthorityDeps, req: TokenRequest, registration: Registration) => Promise<TokenResponse>;

const GRANTS: Record<string, Grant> = {
  client_credentials: clientCredentials,
  password,
  authorization_code: authorizationCode,
  refresh_token: refreshToken,
};

export async function token(deps: AuthorityDeps, req: TokenRequest): Promise<TokenResponse> {
  const { params } = req;
  const grantType = params.grant_type;
  if (grantType === undefined || grantType === '') throw missingParameter('grant_type');
  const grant = GRANTS[grantType];
  if (!grant) {
    throw new OAuthError('unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType.slice(0, 100)}'. This authority supports: ${Object.keys(GRANTS).join(', ')}.`);
  }
  const clientId = params.client_id;
  if (clientId === undefined || clientId === '') throw missingParameter('client_id');
  const registration = isGuid(clientId) ? await deps.registrations.get(clientId) : null;
  if (!registration) {
    throw new OAuthError('unauthorized_client', 700016,
      `Application with identifier '${clientId.slice(0, 100)}' was not found in the directory. Register it with PUT /_presently/apps/{appId} or in the seed file.`);
  }
  return grant(deps, req, registration);
}

async function authenticate(deps: AuthorityDeps, req: TokenRequest, registration: Registration, required: boolean) {
  return authenticateClient(presentedCredentials(req.params, req.authorization), {
    registration, tokenEndpoint: tokenEndpointOf(req.base, req.tenant), now: deps.clock.now(),
  }, required);
}

async function clientCredentials(deps: AuthorityDeps, req: TokenRequest, registration: Registration): Promise<TokenResponse> {
  if (isMultiTenant(req.tenant)) {
    throw invalidRequest(50059, `No tenant-identifying information found in either the request or implied by any provided credentials: the client credentials grant needs a tenant id in the authority, not '${req.tenant}'.`);
  }
  await authenticate(deps, req, registration, true);
  requireDefaultScope(parseScopes(req.params.scope, deps.resources), req.params.scope);
  return appTokenResponse(deps, registration, req.tenant, req.base);
}

async function password(deps: AuthorityDeps, req: TokenRequest, registration: Registration): Promise<TokenResponse> {
  const { username, password: presented } = req.params;
  if (!username) throw missingParameter('username');
  if (presented === undefined) throw missingParameter('password');
  await authenticate(deps, req, registration, false);
  const scopes = parseScopes(req.params.scope, deps.resources);
  const user = await deps.store.findUserByUpn(username);
  if (!user) {
    throw invalidGrant(50034, `The user account ${username.slice(0, 200)} does not exist in the ${req.tenant} directory. To sign into this application, the account must be added to the directory.`);
  }
  requireUserInTenant(user, req.tenant);
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(DEV_USER_PASSWORD).digest();
  if (!timingSafeEqual(a, b)) throw invalidGrant(50126, 'Error validating credentials due to invalid username or password. In dev mode every user\'s password is the documented dev password.');
  return userTokenResponse(deps, {
    user, appId: registration.appId, scopes: delegatedScopes(scopes, registration.scopes, registration.appId), oidc: scopes.oidc,
    base: req.base, clientInfo: req.params.client_info === '1',
  });
}

async function authorizationCode(deps: AuthorityDeps, req: TokenRequest, registration: Registration): Promise<TokenResponse> {
  const { code, redirect_uri: redirectUri, code_verifier: verifier } = req.params;
  if (!code) throw missingParameter('code');
  if (!redirectUri) throw missingParameter('redirect_uri');
  await authenticate(deps, req, registration, false);
  const redeemed = deps.codes.redeem(code);
  if ('error' in redeemed) {
    if (redeemed.error === 'redeemed') throw invalidGrant(54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.');
    if (redeemed.error === 'expired') throw invalidGrant(70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.');
    throw invalidGrant(9002313, 'Invalid request. Request is malformed or invalid: the authorization code is not one this authority issued.');
  }
  const { grant } = redeemed;
  if (grant.appId !== registration.appId) throw invalidGrant(70000, 'Provided grant is invalid or malformed: the authorization code was issued to another application.');
  if (grant.redirectUri !== redirectUri) throw invalidGrant(50011, `The redirect URI '${redirectUri.slice(0, 300)}' does not match the redirect URI used to obtain the authorization code.`);
  if (!isMultiTenant(req.tenant) && req.tenant !== grant.tenantId) throw invalidGrant(70000, 'Provided grant is invalid or malformed: the authorization code was issued for another tenant.');
  if (!verifier) throw invalidRequest(9002325, "Proof Key for Code Exchange is required: the request body must contain the parameter 'code_verifier'.");
  if (createHash('sha256').update(verifier).digest('base64url') !== grant.codeChallenge) {
    throw invalidGrant(50148, 'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.');
  }
  const user = await deps.store.getUser(grant.tenantId, grant.userId);
  if (!user) throw invalidGrant(50034, `The user account ${grant.userId} no longer exists in the ${grant.tenantId} directory.`);
  return userTokenResponse(deps, {
    user, appId: registration.appId, scopes: grant.scopes, oidc: new Set(grant.oidc), base: req.base, nonce: grant.nonce,
    clientInfo: req.params.client_info === '1',
  });
}

async function refreshToken(deps: AuthorityDeps, req: TokenRequest, registration: Registration): Promise<TokenResponse> {
  const presented = req.params.refresh_token;
  if (!presented) throw missingParameter('refresh_token');
  await authenticate(deps, req, registration, false);
  const claims = await readRefreshToken(deps, presented);
  if (claims.azp !== registration.appId) throw invalidGrant(70000, 'Provided grant is invalid or malformed: the refresh token was issued to another application.');
  if (!isMultiTenant(req.tenant) && req.tenant !== claims.tid) throw invalidGrant(70000, 'Provided grant is invalid or malformed: the refresh token was issued for another tenant.');
  const user = await deps.store.getUser(claims.tid, claims.oid);
  if (!user) throw invalidGrant(50034, `The user account ${claims.oid} no longer exists in the ${claims.tid} directory.`);
  const asked = parseScopes(req.params.scope, deps.resources);
  // A refresh may narrow what was granted, never widen it.
  const scopes = delegatedScopes(asked, claims.scopes, registration.appId);
  const oidc = new Set(claims.oidc);
  return userTokenResponse(deps, { user, appId: registration.appId, scopes, oidc, base: req.base, clientInfo: req.params.client_info === '1' });
}

