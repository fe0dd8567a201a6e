/**
 * `--auth oidc` token verification (docs/operations/auth.md): the token's header is checked before anything is
 * fetched or computed (no `alg: none`, no HMAC, no key locations in the header), its issuer must be configured (a
 * `{tenantid}` template matched against `tid`), its signature must verify with a key that issuer publishes, its
 * lifetime must hold with at most 5 minutes of clock skew, its audience and tenant must be allowed. Every refusal is
 * a 401 naming the reason; a token whose issuer's keys are not loaded yet is a 503 with `Retry-After`. Verified
 * tokens are cached (../tokenCache.ts) and the caller's tenant and user are made known on first use.
 */
import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { Clock } from '../../platform/clock/clock.ts';
import { TokenCache } from '../tokenCache.ts';
import { AuthError, type Principal } from '../types.ts';
import { checkAudience, joseErrorToAuthError, principalFromClaims, readBearer, type TokenVerifier } from '../verify.ts';
import type { KeyRing } from './keyRing.ts';

/** Entra ID's own validators allow 5 minutes of skew; so does Presently, and no more. */
export const OIDC_CLOCK_TOLERANCE_SECONDS = 300;

/** Asymmetric signatures only: a symmetric one would need a secret shared with the provider. */
export const ALLOWED_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** Header parameters that point at keys; a token names its key by `kid` only, in the issuer's published set. */
const KEY_LOCATION_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

/** What a first-use hook learns of the caller besides the principal. */
export interface CallerProfile {
  displayName?: string;
  userPrincipalName?: string;
}

export type FirstUse = (principal: Principal, profile: CallerProfile) => Promise<void>;

export interface OidcVerifierOptions {
  keys: KeyRing;
  clock: Clock;
  audiences: readonly string[];
  /** Allowed tenant ids, lower-case; empty: any. */
  tenants: readonly string[];
  /** Called for every token verified (not for cached ones); looked up on each call, so it can be set later. */
  firstUse: () => FirstUse | null;
}

export interface OidcVerifier extends TokenVerifier {
  /** Forgets verified tokens (after a key set dropped keys: their tokens are checked again). */
  clearCache(): void;
}

const invalid = (message: string) => new AuthError(401, 'InvalidAuthenticationToken', message);

export function oidcVerifier(opts: OidcVerifierOptions): OidcVerifier {
  const cache = new TokenCache(OIDC_CLOCK_TOLERANCE_SECONDS * 1000);
  const tenants = new Set(opts.tenants);
  return {
    clearCache: () => cache.clear(),
    known: (authorization) => (authorization === undefined ? undefined : cache.get(authorization, opts.clock.now())),
    async verify(authorization) {
      const now = opts.clock.now();
      // Looked up by the whole header: a header verified before skips even its parsing (src/auth/tokenCache.ts).
      const cached = authorization === undefined ? undefined : cache.get(authorization, now);
      if (cached) return cached;
      const token = readBearer(authorization);
      checkHeader(token);
      const unverified = decodeUnverified(token);
      const iss = typeof unverified.iss === 'string' ? unverified.iss : '';
      const tid = typeof unverified.tid === 'string' ? unverified.tid : undefined;
      const provider = opts.keys.match(iss, tid);
      if (!provider) {
        throw invalid(`Invalid issuer. The token's issuer '${iss.slice(0, 200)}'${tid === undefined ? '' : ` (tenant '${tid.slice(0, 64)}')`} is not one this server trusts.`);
      }
      if (!provider.ready) throw provider.unavailable();
      let claims: JWTPayload;
      try {
        ({ payload: claims } = await jwtVerify(token, provider.getKey, {
          algorithms: ALLOWED_ALGS, issuer: iss, currentDate: new Date(now),
          clockTolerance: OIDC_CLOCK_TOLERANCE_SECONDS, requiredClaims: ['exp'],
        }));
      } catch (err) {
        throw joseErrorToAuthError(err);
      }
      checkAudience(claims, opts.audiences);
      const principal = principalFromClaims(claims);
      if (tenants.size > 0 && !tenants.has(principal.tenantId)) {
        throw invalid(`Access token validation failure. Tokens of tenant '${principal.tenantId}' are not accepted by this server.`);
      }
      await opts.firstUse()?.(principal, profileOf(claims));
      cache.set(authorization!, principal, claims.exp!, claims.nbf);
      return principal;
    },
  };
}

/** The refusals decided by the header alone, before any key is looked up. */
function checkHeader(token: string): void {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw invalid('Access token validation failure. Invalid token format: the header is not a JSON object.');
  }
  const alg = typeof header.alg === 'string' ? header.alg : '';
  if (alg.toLowerCase() === 'none') throw invalid("Access token validation failure. The token is unsigned (alg 'none'); unsigned tokens are refused.");
  if (/^HS/i.test(alg)) {
    throw invalid(`Access token validation failure. The token is HMAC-signed (alg '${alg}'); only signatures by the issuer's published public keys are accepted.`);
  }
  for (const name of KEY_LOCATION_HEADERS) {
    if (name in header) {
      throw invalid(`Access token validation failure. The token's header carries '${name}'; keys named in a token are never fetched or trusted.`);
    }
  }
  if (!ALLOWED_ALGS.includes(alg)) {
    throw invalid(`Access token validation failure. Invalid signature algorithm '${alg.slice(0, 20)}': accepted are ${ALLOWED_ALGS.join(', ')}.`);
  }
}

function decodeUnverified(token: string): JWTPayload {
  try {
    return decodeJwt(token);
  } catch {
    throw invalid('Access token validation failure. Invalid token format: the payload is not a JSON object.');
  }
}

/** Display name and UPN as Entra ID sets them: `name`, and `preferred_username` (v2) or `upn` (v1). */
function profileOf(claims: JWTPayload): CallerProfile {
  const text = (name: string) => (typeof claims[name] === 'string' && claims[name] !== '' ? (claims[name] as string) : undefined);
  const displayName = text('name');
  const userPrincipalName = text('preferred_username') ?? text('upn') ?? text('unique_name');
  return { ...(displayName !== undefined ? { displayName } : {}), ...(userPrincipalName !== undefined ? { userPrincipalName } : {}) };
}
