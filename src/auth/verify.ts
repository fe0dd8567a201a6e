/**
 * Token verification (docs/api/permissions.md, docs/operations/auth.md). Every failure is an AuthError: 401
 * `InvalidAuthenticationToken` with a message naming the check that failed, or 403 for personal Microsoft accounts.
 */
import { createLocalJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../platform/clock/clock.ts';
import { isGuid } from '../platform/json/validate.ts';
import { DEV_ALG, type DevIssuer } from './devIssuer.ts';
import { issuerTenant } from './issuerBase.ts';
import { TokenCache } from './tokenCache.ts';
import { AuthError, type Principal } from './types.ts';

export interface TokenVerifier {
  /** `authorization` is the raw `Authorization` header (or undefined when absent). */
  verify(authorization: string | undefined): Promise<Principal>;
  /**
   * The caller of a header verified before and still valid, without waiting; undefined otherwise (verify then says
   * why, or verifies it). What `verify` would resolve to at once (an express lane, src/http/front.ts).
   */
  known(authorization: string | undefined): Principal | undefined;
}

/**
 * Allowed skew, in seconds, between the token's `exp`/`nbf` and the server clock. Entra ID's own validators allow
 * 5 minutes; one minute is enough for a local server and keeps `expiresIn`-based tests predictable: a token is
 * refused once the clock is more than 60 s past its `exp`, or more than 60 s before its `nbf`.
 */
export const CLOCK_TOLERANCE_SECONDS = 60;

/** The tenant id of personal Microsoft accounts (MSA), which the presence API does not serve. */
export const MSA_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

const INVALID = 'InvalidAuthenticationToken';

function invalid(message: string): AuthError {
  return new AuthError(401, INVALID, message);
}

/** The bearer token of an `Authorization` header, or a 401 AuthError. */
export function readBearer(authorization: string | undefined): string {
  const header = (authorization ?? '').trim();
  if (header === '') throw invalid('Access token is empty.');
  const match = /^(\S+)(?:\s+(.*))?$/s.exec(header);
  const scheme = match?.[1] ?? '';
  const token = (match?.[2] ?? '').trim();
  if (scheme.toLowerCase() !== 'bearer') {
    // A bare JWT without a scheme is a common mistake; say so.
    if (token === '' && scheme.split('.').length === 3) {
      throw invalid('Access token validation failure. Invalid token format: the Authorization header must be "Bearer <token>".');
    }
    throw invalid(`Access token validation failure. Invalid token format: the Authorization scheme must be Bearer, not '${scheme.slice(0, 20)}'.`);
  }
  if (token === '') throw invalid('Access token is empty.');
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) {
    throw invalid('Access token validation failure. Invalid token format.');
  }
  return token;
}

/** Maps an error thrown by jose's jwtVerify to the AuthError a client sees. Non-jose errors are rethrown. */
export function joseErrorToAuthError(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof errors.JWTExpired) return invalid('Lifetime validation failed, the token is expired.');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return invalid('Lifetime validation failed, the token is not yet valid (nbf).');
    if (err.claim === 'exp' && err.reason === 'missing') return invalid('Lifetime validation failed, the token has no expiry (exp).');
    if (err.claim === 'exp' || err.claim === 'iat' || err.claim === 'nbf') {
      return invalid(`Lifetime validation failed, the '${err.claim}' claim is invalid.`);
    }
    return invalid(`Access token validation failure. The '${err.claim}' claim is invalid.`);
  }
  if (err instanceof errors.JWKSNoMatchingKey) {
    return invalid('Access token validation failure. Invalid signature: the token was not signed by a key this server trusts.');
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return invalid('Access token validation failure. Invalid signature.');
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return invalid('Access token validation failure. Invalid signature algorithm: only RS256 signatures are accepted.');
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) {
    return invalid('Access token validation failure. Invalid token format.');
  }
  if (err instanceof errors.JOSEError) return invalid('Access token validation failure.');
  throw err;
}

/** 401 unless the token's `aud` (a string or an array) names one of `audiences`. */
export function checkAudience(claims: JWTPayload, audiences: readonly string[]): void {
  const aud = claims.aud;
  const values = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
  if (!values.some((a) => audiences.includes(a))) {
    const got = values.length === 0 ? 'none' : values.map((a) => `'${a}'`).join(', ');
    throw invalid(`Invalid audience. The token's audience is ${got}; expected one of: ${audiences.join(', ')}.`);
  }
}

function claimString(claims: JWTPayload, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The caller as the permission checks need it, from already verified claims. Delegated when the token is not an app
 * token (`idtyp` is not `app`) and carries `scp` (or says `idtyp: user`); it then needs `oid`. Otherwise application.
 * Personal Microsoft accounts are refused with 403.
 */
export function principalFromClaims(claims: JWTPayload): Principal {
  const tid = claimString(claims, 'tid');
  if (tid === undefined) throw invalid("Access token validation failure. The token has no 'tid' (tenant) claim.");
  const tenantId = tid.toLowerCase();
  if (tenantId === MSA_TENANT_ID) {
    throw new AuthError(403, 'Forbidden', 'Presence is available only for work or school accounts: personal Microsoft accounts are not supported.');
  }
  const appIdClaim = claimString(claims, 'appid') ?? claimString(claims, 'azp') ?? claimString(claims, 'client_id');
  if (appIdClaim === undefined) throw invalid("Access token validation failure. The token has no 'appid' or 'azp' claim.");
  const idtyp = claimString(claims, 'idtyp');
  const scp = typeof claims.scp === 'string' ? claims.scp : undefined;
  const delegated = idtyp !== 'app' && (scp !== undefined || idtyp === 'user');
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string' && r !== '') : [];
  if (!delegated) {
    return { kind: 'application', tenantId, userId: null, appId: appIdClaim.toLowerCase(), scopes: new Set(), roles: new Set(roles) };
  }
  const oid = claimString(claims, 'oid');
  if (oid === undefined) throw invalid("Access token validation failure. A delegated token must carry an 'oid' (user object id) claim.");
  return {
    kind: 'delegated',
    tenantId,
    userId: oid.toLowerCase(),
    appId: appIdClaim.toLowerCase(),
    scopes: new Set((scp ?? '').split(/\s+/).filter((s) => s !== '')),
    roles: new Set(roles),
  };
}

/**
 * Verifies tokens issued by the dev issuer: RS256 signature with the issuer's key, lifetime against `clock` (with
 * CLOCK_TOLERANCE_SECONDS of skew), audience in `audiences`, issuer `{base}/{tid}/v2.0` naming the token's tenant.
 */
export function devVerifier(issuer: DevIssuer, clock: Clock, audiences: string[]): TokenVerifier {
  const keys = createLocalJWKSet(issuer.jwks());
  const cache = new TokenCache(CLOCK_TOLERANCE_SECONDS * 1000);
  const known = (authorization: string | undefined) => (authorization === undefined ? undefined : cache.get(authorization, clock.now()));
  return {
    known,
    async verify(authorization) {
      // Looked up by the whole header: a header verified before skips even its parsing (docs/operations/auth.md).
      const cached = known(authorization);
      if (cached) return cached;
      const token = readBearer(authorization);
      let claims: JWTPayload;
      try {
        ({ payload: claims } = await jwtVerify(token, keys, {
          algorithms: [DEV_ALG],
          currentDate: new Date(clock.now()),
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ['exp'],
        }));
      } catch (err) {
        throw joseErrorToAuthError(err);
      }
      checkAudience(claims, audiences);
      const tid = claimString(claims, 'tid');
      if (tid === undefined || !isGuid(tid)) throw invalid("Access token validation failure. The token has no valid 'tid' (tenant) claim.");
      // [P: d-dev-token-issuer] The base is the address the client reached this server at; the tenant must match.
      if (issuerTenant(claims.iss) !== tid.toLowerCase()) {
        const expected = issuer.issuerFor(tid.toLowerCase(), '{server}');
        throw invalid(`Invalid issuer. The token's issuer is '${String(claims.iss)}'; expected '${expected}' for tenant '${tid}'.`);
      }
      const principal = principalFromClaims(claims);
      cache.set(authorization!, principal, claims.exp!, claims.nbf);
      return principal;
    },
  };
}
