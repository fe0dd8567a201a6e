/**
 * The `validationTokens` of rich notifications (docs/notifications/resource-data.md): one JWT per (app, tenant) in a POST, so that a
 * receiver can check the notification came from the server it subscribed with.
 *
 * Graph's tokens are Entra ID v2.0 app-only tokens issued to the "Microsoft Graph Change Tracking" service
 * principal: `aud` = the subscribing app's id, `iss` = `https://login.microsoftonline.com/{tid}/v2.0`, `tid`,
 * `iat`/`nbf`/`exp`, `azp` = `0bf30f3b-4a52-48df-9a82-234910c4a086` with `azpacr` "2", `oid`/`sub` (the service
 * principal), `uti`, `ver` "2.0". Microsoft tells receivers to check expiry, signature, audience, and that the caller
 * identity is that change-tracking app id (`azp` in v2.0 tokens, `appid` in v1.0 ones).
 *
 * Presently mirrors that shape, signed by its own dev issuer key (RS256, `kid`; keys published at its JWKS URL) with
 * `iss` = `issuer.issuerFor(tid)`. It carries both `azp` and `appid` = the Graph change-tracking app id, so a
 * receiver written for either token version accepts it once pointed at Presently's JWKS and issuer.
 */
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { DEV_ALG, type DevIssuer } from '../auth/devIssuer.ts';

/** The app id of "Microsoft Graph Change Tracking", the publisher identity Graph puts in validation tokens. */
export const GRAPH_CHANGE_TRACKING_APP_ID = '0bf30f3b-4a52-48df-9a82-234910c4a086';

export const DEFAULT_VALIDATION_TOKEN_LIFETIME_SECONDS = 3600;

export interface ValidationTokenOptions {
  /** The subscribing application: the token's audience. */
  appId: string;
  tenantId: string;
  /** Epoch milliseconds. */
  now: number;
  /** Default 3600. */
  lifetimeSeconds?: number;
}

export async function validationToken(issuer: DevIssuer, opts: ValidationTokenOptions): Promise<string> {
  const lifetime = opts.lifetimeSeconds ?? DEFAULT_VALIDATION_TOKEN_LIFETIME_SECONDS;
  if (!Number.isInteger(lifetime) || lifetime <= 0) throw new RangeError(`lifetimeSeconds must be a positive integer, got ${lifetime}`);
  const tid = opts.tenantId.toLowerCase();
  const iat = Math.floor(opts.now / 1000);
  return issuer.sign({
    aud: opts.appId.toLowerCase(),
    iss: issuer.issuerFor(tid),
    iat,
    nbf: iat,
    exp: iat + lifetime,
    azp: GRAPH_CHANGE_TRACKING_APP_ID,
    azpacr: '2',
    appid: GRAPH_CHANGE_TRACKING_APP_ID,
    appidacr: '2',
    idtyp: 'app',
    // Graph's oid/sub are the change-tracking service principal's object id in the tenant; Presently has no such
    // object, so it uses the app id.
    oid: GRAPH_CHANGE_TRACKING_APP_ID,
    sub: GRAPH_CHANGE_TRACKING_APP_ID,
    tid,
    uti: randomBytes(16).toString('base64url'),
    ver: '2.0',
  });
}

export interface VerifyValidationTokenOptions {
  /** The receiving app's id (the expected audience). */
  appId: string;
  tenantId: string;
  /** The expected `iss`: Presently's `issuerFor(tenantId)`, `https://{host}/{tenantId}/v2.0` for the dev issuer. */
  issuer: string;
  /** Epoch milliseconds. */
  now: number;
  /** Allowed clock skew; default 0. */
  clockToleranceSeconds?: number;
}

/**
 * What a receiver does with each validation token: verifies the RS256 signature against the published key set, the
 * lifetime at `now`, `iss`, `aud`, `tid`, and that the publisher (`azp`) is the Graph change-tracking app id.
 * Resolves to the claims; rejects (jose's errors, or an Error naming the claim) otherwise.
 */
export async function verifyValidationToken(token: string, jwks: JSONWebKeySet, opts: VerifyValidationTokenOptions): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
    algorithms: [DEV_ALG],
    issuer: opts.issuer,
    audience: opts.appId.toLowerCase(),
    currentDate: new Date(opts.now),
    clockTolerance: opts.clockToleranceSeconds ?? 0,
    requiredClaims: ['iss', 'aud', 'iat', 'nbf', 'exp', 'tid', 'azp'],
  });
  if (payload.tid !== opts.tenantId.toLowerCase()) throw new Error(`validation token: unexpected "tid" claim ${String(payload.tid)}`);
  if (payload.azp !== GRAPH_CHANGE_TRACKING_APP_ID) throw new Error(`validation token: unexpected "azp" claim ${String(payload.azp)}`);
  return payload;
}
