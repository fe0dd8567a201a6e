/**
 * The "dev" token issuer (docs/operations/auth.md): one RS256 key pair, kept in the store so that every node sharing the store
 * signs and verifies with the same key, and tokens shaped like Entra ID v1 access tokens for Microsoft Graph.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload } from 'jose';
import type { Clock } from '../platform/clock/clock.ts';
import type { Store } from '../store/types.ts';

/** Meta key under which the private signing key (a JWK, JSON) is stored. */
export const DEV_SIGNING_KEY_META = 'auth.devSigningKey';
export const DEV_ALG = 'RS256';
/**
 * The issuer base of tokens made without a request to take the server's address from (`presently token`, webhook
 * validation tokens) [P: d-dev-token-issuer].
 */
export const DEFAULT_ISSUER_BASE = 'https://presently.local';

export interface IssueRequest {
  tenantId: string;
  /** The signed-in user's object id for a delegated token; null for an application token. */
  userId: string | null;
  appId: string;
  /** Delegated scopes (`scp`). */
  scopes?: string[];
  /** App roles (`roles`). */
  roles?: string[];
  /** Lifetime in seconds; default 3600. */
  expiresIn?: number;
  audience: string;
  upn?: string;
  name?: string;
  /**
   * The server's base URL as the client reached it (src/auth/issuerBase.ts); `iss` is `{issuerBase}/{tid}/v2.0`.
   * Default: DEFAULT_ISSUER_BASE.
   */
  issuerBase?: string;
}

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

type CryptoKeyLike = Awaited<ReturnType<typeof importJWK>>;

export class DevIssuer {
  private constructor(
    private readonly privateKey: CryptoKeyLike,
    private readonly publicJwk: JWK,
    /** The key id (the JWK SHA-256 thumbprint of the public key). */
    readonly kid: string,
    private readonly clock: Clock,
  ) {}

  /**
   * Loads the signing key from the store, creating it on first use: on a store without one, `initialKey` (a private
   * JWK as JSON, from newDevSigningKey, or the promise of one already being generated) or a new one is stored first.
   * `setMetaIfAbsent` makes concurrent first loads (several nodes on one store) agree on whichever key was stored first.
   */
  static async load(store: Store, clock: Clock, initialKey?: string | Promise<string>): Promise<DevIssuer> {
    let stored = await store.getMeta(DEV_SIGNING_KEY_META);
    if (stored === null) stored = await store.setMetaIfAbsent(DEV_SIGNING_KEY_META, await (initialKey ?? newDevSigningKey()));
    const jwk = parseStoredKey(stored);
    const privateKey = await importJWK({ ...jwk, alg: DEV_ALG }, DEV_ALG);
    const { kty, n, e, kid } = jwk;
    const publicJwk: JWK = { kty, n, e, kid, alg: DEV_ALG, use: 'sig' };
    return new DevIssuer(privateKey, publicJwk, kid, clock);
  }

  /** The `iss` of this server's tokens for a tenant: `{base}/{tid}/v2.0`, as Entra ID's v2 issuer [P: d-dev-token-issuer]. */
  issuerFor(tenantId: string, base: string = DEFAULT_ISSUER_BASE): string {
    return `${base}/${tenantId}/v2.0`;
  }

  /** The public key set, as served at `/_presently/keys`. */
  jwks(): { keys: JWK[] } {
    return { keys: [{ ...this.publicJwk }] };
  }

  /** Signs arbitrary claims with the dev key (RS256, `kid` header). `issue` is the normal way to make a token. */
  async sign(claims: JWTPayload): Promise<string> {
    return new SignJWT(claims).setProtectedHeader({ alg: DEV_ALG, typ: 'JWT', kid: this.kid }).sign(this.privateKey);
  }

  /** A token shaped like an Entra ID v1 Graph access token, stamped with the server's clock. */
  async issue(req: IssueRequest): Promise<IssuedToken> {
    const expiresIn = req.expiresIn ?? 3600;
    const iat = Math.floor(this.clock.now() / 1000);
    const tenantId = req.tenantId.toLowerCase();
    const appId = req.appId.toLowerCase();
    const claims: JWTPayload & Record<string, unknown> = {
      aud: req.audience,
      iss: this.issuerFor(tenantId, req.issuerBase),
      iat,
      nbf: iat,
      exp: iat + expiresIn,
      tid: tenantId,
      appid: appId,
      azp: appId,
      appidacr: '0',
      ver: '1.0',
      uti: randomBytes(16).toString('base64url'),
    };
    if (req.userId !== null) {
      const userId = req.userId.toLowerCase();
      claims.idtyp = 'user';
      claims.oid = userId;
      claims.sub = userId;
      claims.scp = (req.scopes ?? []).join(' ');
      if (req.roles && req.roles.length > 0) claims.roles = [...req.roles];
      if (req.upn !== undefined) {
        claims.upn = req.upn;
        claims.unique_name = req.upn;
      }
      if (req.name !== undefined) claims.name = req.name;
    } else {
      claims.idtyp = 'app';
      claims.sub = appId;
      claims.roles = [...(req.roles ?? [])];
    }
    return { access_token: await this.sign(claims), token_type: 'Bearer', expires_in: expiresIn };
  }
}

function parseStoredKey(stored: string): JWK & { kid: string } {
  try {
    const jwk = JSON.parse(stored) as unknown;
    if (jwk === null || typeof jwk !== 'object') throw new Error('not a JSON object');
    const { kty, d, kid } = jwk as JWK;
    if (kty !== 'RSA' || typeof d !== 'string' || typeof kid !== 'string') throw new Error('not an RSA private JWK with a kid');
    return jwk as JWK & { kid: string };
  } catch (err) {
    throw new Error(`The stored dev signing key (meta '${DEV_SIGNING_KEY_META}') is unreadable: ${(err as Error).message}`);
  }
}

/** A new RS256 signing key, as the private JWK (JSON) the store keeps. */
export async function newDevSigningKey(): Promise<string> {
  return JSON.stringify(await newPrivateJwk());
}

async function newPrivateJwk(): Promise<JWK> {
  const { privateKey, publicKey } = await generateKeyPair(DEV_ALG, { extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint({ kty: pub.kty, n: pub.n, e: pub.e } as JWK);
  return { ...(await exportJWK(privateKey)), kid, alg: DEV_ALG, use: 'sig' };
}
