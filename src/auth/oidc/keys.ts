/**
 * One issuer's signing keys (docs/operations/auth.md): discovered once, fetched (./httpGet.ts) and used through
 * jose's `createLocalJWKSet`, and kept until Presently fetches them again — on the refresh interval, or when a token
 * names a key the set lacks (key rotation), at most once per cool-down, so tokens with made-up key ids cannot make
 * Presently hammer the provider. Every decision is made on Presently's Clock, so the manual clock drives them in
 * tests.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../../platform/clock/clock.ts';
import { AuthError, AuthUnavailable } from '../types.ts';
import { ProviderUnavailable, describeFetchError, fetchDiscovery, fetchJson } from './discovery.ts';
import type { IssuerSpec } from './issuers.ts';

export interface KeyTimings {
  /** Bound of each fetch, ms. */
  timeoutMs: number;
  /** Least time between two fetches caused by unknown key ids, ms. */
  cooldownMs: number;
  /** How often a loaded key set is fetched again, ms. */
  refreshMs: number;
}

/** Back-off after failed attempts: 1 s, 2 s, 4 s … at most a minute. */
export function backoffMs(failures: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, failures - 1));
}

export interface KeyStatus {
  issuer: string;
  ready: boolean;
  /** Key ids of the loaded set. */
  keys: string[];
  /** Why the keys are not (or could not be re-) loaded; null after a successful fetch. */
  problem: string | null;
  /** ISO instant of the last successful fetch, or null. */
  loadedAt: string | null;
  /** ISO instant of the next attempt (load, retry or refresh). */
  nextAttemptAt: string;
}

export class ProviderKeys {
  private jwksUri: URL | null = null;
  private local: JWTVerifyGetKey | null = null;
  private loaded = false;
  private kids = new Set<string>();
  private loadedAt: number | null = null;
  /** The last fetch caused by an unknown key id, for the cool-down. */
  private lastUnknownKidFetch = -Infinity;
  private failures = 0;
  /** Why the last attempt failed; null when it succeeded. */
  problem: string | null = 'not fetched yet';
  /** Clock instant of the next attempt to load, retry or refresh. */
  nextAttemptAt: number;

  constructor(
    readonly spec: IssuerSpec,
    private readonly clock: Clock,
    private readonly timings: KeyTimings,
    private readonly hooks: {
      /** After a fetch that dropped key ids (tokens they signed must be checked again). */
      onKeysDropped: () => void;
      /** After an attempt outside the loop (an unknown key id) moved the next attempt. */
      onRescheduled: (at: number) => void;
    },
  ) {
    this.nextAttemptAt = clock.now();
  }

  get ready(): boolean {
    return this.loaded;
  }

  /** Seconds a client should wait before trying again while the keys are not loaded. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.nextAttemptAt - this.clock.now()) / 1000));
  }

  /** Discovery (once) and the key set; on failure the next attempt backs off. Never throws. */
  async attempt(): Promise<void> {
    try {
      await this.fetchKeys();
      this.failures = 0;
      this.problem = null;
      this.nextAttemptAt = this.clock.now() + this.timings.refreshMs;
    } catch (err) {
      this.failures++;
      this.problem = err instanceof ProviderUnavailable ? err.message : `the key set could not be fetched: ${describeFetchError(err, this.timings.timeoutMs)}`;
      this.nextAttemptAt = this.clock.now() + backoffMs(this.failures);
    }
  }

  private async fetchKeys(): Promise<void> {
    this.jwksUri ??= (await fetchDiscovery(this.spec, this.timings.timeoutMs)).jwksUri;
    const jwks = await fetchJson(this.jwksUri.href, this.timings.timeoutMs);
    if (!Array.isArray(jwks.keys)) throw new ProviderUnavailable(`the key set at ${this.jwksUri.href} has no 'keys' array`);
    this.local = createLocalJWKSet(jwks as unknown as JSONWebKeySet);
    const kids = new Set((jwks.keys as { kid?: unknown }[]).map((k) => (typeof k.kid === 'string' ? k.kid : '')));
    const dropped = [...this.kids].some((kid) => !kids.has(kid));
    this.kids = kids;
    this.loaded = true;
    this.loadedAt = this.clock.now();
    if (dropped) this.hooks.onKeysDropped();
  }

  /**
   * The key for jose's jwtVerify. A key id the set lacks fetches the set again unless one such fetch happened within
   * the cool-down; a key id still unknown after that is a 401 naming it.
   */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    if (this.local === null || !this.loaded) throw this.unavailable();
    try {
      return await this.local(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
    }
    const now = this.clock.now();
    if (now - this.lastUnknownKidFetch >= this.timings.cooldownMs) {
      this.lastUnknownKidFetch = now;
      await this.attempt();
      this.hooks.onRescheduled(this.nextAttemptAt);
      if (this.problem !== null) {
        throw new AuthUnavailable(`The signing keys of issuer '${this.spec.issuer}' could not be fetched again: ${this.problem}.`, this.retryAfterSeconds());
      }
      try {
        return await this.local(header, token);
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      }
    }
    throw new AuthError(401, 'InvalidAuthenticationToken',
      `Access token validation failure. Invalid signature: the signing key '${header.kid ?? '(no kid)'}' is not one that issuer '${this.spec.issuer}' publishes.`);
  };

  /** The 503 of a request whose issuer's keys are not loaded yet. */
  unavailable(): AuthUnavailable {
    return new AuthUnavailable(
      `Token validation is not available yet: the signing keys of issuer '${this.spec.issuer}' are not loaded (${this.problem ?? 'loading'}). Retry shortly.`,
      this.retryAfterSeconds(),
    );
  }

  status(): KeyStatus {
    return {
      issuer: this.spec.issuer,
      ready: this.loaded,
      keys: [...this.kids],
      problem: this.problem,
      loadedAt: this.loadedAt === null ? null : new Date(this.loadedAt).toISOString(),
      nextAttemptAt: new Date(this.nextAttemptAt).toISOString(),
    };
  }
}
