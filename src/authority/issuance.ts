/**
 * Token responses as Entra ID's v2 token endpoint gives them. Access tokens are the ones `/_presently/tokens` issues
 * (DevIssuer.issue); user flows add an ID token (`openid`), a refresh token (`offline_access`) and `client_info`
 * (asked for by MSAL with `client_info=1`).
 */
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { DEV_ALG } from '../auth/devIssuer.ts';
import type { User } from '../store/types.ts';
import type { AuthorityDeps } from './context.ts';
import { invalidGrant } from './errors.ts';
import type { Registration } from './registrations.ts';

export const ACCESS_TOKEN_LIFETIME = 3600;
/** [P: d-authority-codes] Refresh tokens live 24 hours of the server clock. */
export const REFRESH_TOKEN_LIFETIME = 24 * 3600;
/** The audience of refresh tokens: nothing else accepts them (Graph routes refuse them as a wrong audience). */
export const REFRESH_AUDIENCE = 'urn:presently:authority:refresh-token';

export interface TokenResponse {
  token_type: 'Bearer';
  scope?: string;
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  client_info?: string;
}

/** Client credentials: the application permissions granted to the app. */
export async function appTokenResponse(deps: AuthorityDeps, registration: Registration, tenantId: string, base: string): Promise<TokenResponse> {
  const issued = await deps.issuer.issue({
    tenantId, userId: null, appId: registration.appId, roles: registration.roles, audience: deps.audience, issuerBase: base,
    expiresIn: ACCESS_TOKEN_LIFETIME,
  });
  return { token_type: 'Bearer', expires_in: issued.expires_in, ext_expires_in: issued.expires_in, access_token: issued.access_token };
}

export interface UserGrant {
  user: User;
  appId: string;
  scopes: string[];
  oidc: ReadonlySet<string>;
  base: string;
  nonce?: string | null;
  clientInfo: boolean;
}

/** A user's tokens: access token with `scp`, and the ID and refresh tokens the OpenID Connect scopes ask for. */
export async function userTokenResponse(deps: AuthorityDeps, grant: UserGrant): Promise<TokenResponse> {
  const { user, appId, scopes, oidc, base } = grant;
  const issued = await deps.issuer.issue({
    tenantId: user.tenantId, userId: user.id, appId, scopes, audience: deps.audience, issuerBase: base,
    upn: user.userPrincipalName, name: user.displayName, expiresIn: ACCESS_TOKEN_LIFETIME,
  });
  const response: TokenResponse = {
    token_type: 'Bearer',
    scope: [...scopes, ...oidc].join(' '),
    expires_in: issued.expires_in,
    ext_expires_in: issued.expires_in,
    access_token: issued.access_token,
  };
  const iat = Math.floor(deps.clock.now() / 1000);
  const iss = deps.issuer.issuerFor(user.tenantId, base);
  if (oidc.has('offline_access')) {
    response.refresh_token = await deps.issuer.sign({
      aud: REFRESH_AUDIENCE, iss, iat, nbf: iat, exp: iat + REFRESH_TOKEN_LIFETIME, tid: user.tenantId, oid: user.id, azp: appId,
      scp: scopes.join(' '), oidc: [...oidc].join(' '), uti: randomBytes(16).toString('base64url'),
    });
  }
  if (oidc.has('openid')) response.id_token = await deps.issuer.sign(idTokenClaims(grant, iss, iat));
  if (grant.clientInfo) response.client_info = Buffer.from(JSON.stringify({ uid: user.id, utid: user.tenantId })).toString('base64url');
  return response;
}

function idTokenClaims({ user, appId, nonce, oidc }: UserGrant, iss: string, iat: number): JWTPayload {
  return {
    aud: appId, iss, iat, nbf: iat, exp: iat + ACCESS_TOKEN_LIFETIME, ver: '2.0',
    tid: user.tenantId, oid: user.id, sub: user.id,
    ...(oidc.has('profile') ? { name: user.displayName, preferred_username: user.userPrincipalName } : {}),
    ...(oidc.has('email') ? { email: user.userPrincipalName } : {}),
    ...(nonce ? { nonce } : {}),
    uti: randomBytes(16).toString('base64url'),
  };
}

export interface RefreshClaims {
  tid: string;
  oid: string;
  azp: string;
  scopes: string[];
  oidc: string[];
}

/** The claims of a refresh token this authority issued, checked against the server clock; invalid_grant otherwise. */
export async function readRefreshToken(deps: AuthorityDeps, token: string): Promise<RefreshClaims> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, createLocalJWKSet(deps.issuer.jwks()), {
      algorithms: [DEV_ALG], audience: REFRESH_AUDIENCE, currentDate: new Date(deps.clock.now()), requiredClaims: ['exp'],
    }));
  } catch (err) {
    const expired = (err as { code?: string }).code === 'ERR_JWT_EXPIRED';
    throw expired
      ? invalidGrant(700082, 'The refresh token has expired due to inactivity.')
      : invalidGrant(9002313, 'Invalid request. Request is malformed or invalid: the refresh token is not one this authority issued.');
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    tid: str(payload.tid), oid: str(payload.oid), azp: str(payload.azp),
    scopes: str(payload.scp).split(' ').filter(Boolean), oidc: str(payload.oidc).split(' ').filter(Boolean),
  };
}
