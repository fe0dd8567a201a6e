/**
 * Graph's presence throttling (presence-api.md §8, `--throttle graph`): per application per tenant, at most
 * `readLimit` reads (GET presence and getPresencesByUserId) and `limit` presence-service requests of any kind per
 * window; over either, `429 TooManyRequests` with `Retry-After`.
 *
 * Design — one place decides:
 * - `installThrottle` adds one `onRequest` hook, and only when throttling is on: with `--throttle off` nothing is
 *   installed, so the request path pays nothing at all.
 * - The hook counts routes under /v1.0 and /beta (presence, its actions, getPresencesByUserId, mailboxSettings and
 *   whatever else the API grows), never /_presently or /metrics, and never `$batch` itself: a batch runs each item
 *   through `app.inject`, so every item passes this hook and counts on its own, while the envelope does not.
 * - It runs before the body is read (a throttled request costs no parsing) and keys on the (tenant, app) of the
 *   *verified* token, so a forged token cannot spend another application's budget. It verifies with the routes' own
 *   verifier, whose cache of verified tokens makes the routes' own `verify` of the same header a map lookup, not a
 *   second signature check. A request whose token does not verify is not counted and passes on: the route answers it
 *   with the precise 401/403, so authentication still has one decider.
 * - Fixed windows per key, opened by the key's first request: exact, O(1) memory per key, and `Retry-After` is
 *   simply the time left in the window — when the next request will succeed. Refused requests do not count.
 * - Windows that have ended are swept at most once per window length, so memory holds only the keys active in the
 *   last two windows.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthError } from '../auth/types.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import type { Clock } from '../platform/clock/clock.ts';
import { GraphError } from './errors.ts';
import './types.ts';

export interface ThrottleLimits {
  /** Window length, ms. */
  windowMs: number;
  /** Reads (GET presence, getPresencesByUserId) per application per tenant per window. */
  readLimit: number;
  /** Presence-service requests of any kind per application per tenant per window. */
  limit: number;
}

/** Graph's documented limits: 1,500 reads and 10,000 requests per 30 s. */
export const GRAPH_LIMITS: ThrottleLimits = { windowMs: 30_000, readLimit: 1500, limit: 10_000 };

export type RequestKind = 'read' | 'other';

interface Window {
  /** Epoch ms when this window ends and the counts start again. */
  endsAt: number;
  reads: number;
  total: number;
}

/** The counters: pure, clock passed in, so they are testable on their own. */
export class Throttle {
  private readonly windows = new Map<string, Window>();
  private nextSweep = -Infinity;

  constructor(readonly limits: ThrottleLimits) {}

  /**
   * Counts one request of `kind` for (tenantId, appId) at `now`. Returns 0 when it may proceed, otherwise the whole
   * seconds (≥ 1) until a request of that kind would succeed; a refused request is not counted.
   */
  take(tenantId: string, appId: string, kind: RequestKind, now: number): number {
    if (now >= this.nextSweep) this.sweep(now);
    const key = `${tenantId} ${appId}`;
    let w = this.windows.get(key);
    if (!w || now >= w.endsAt) {
      w = { endsAt: now + this.limits.windowMs, reads: 0, total: 0 };
      this.windows.set(key, w);
    }
    if (w.total >= this.limits.limit || (kind === 'read' && w.reads >= this.limits.readLimit)) {
      return Math.max(1, Math.ceil((w.endsAt - now) / 1000));
    }
    w.total++;
    if (kind === 'read') w.reads++;
    return 0;
  }

  /** How many (tenant, app) keys are held (for tests and diagnostics). */
  get size(): number {
    return this.windows.size;
  }

  private sweep(now: number): void {
    for (const [key, w] of this.windows) if (now >= w.endsAt) this.windows.delete(key);
    this.nextSweep = now + this.limits.windowMs;
  }
}

const API_ROUTE = /^\/(?:v1\.0|beta)\//i;
const BATCH_ROUTE = /\/\$batch$/i;
const PRESENCE_GET = /\/(?:presence|presences\/:[^/]+)$/i;
const READ_MANY = /\/getPresencesByUserId$/i;

/**
 * What a request to route `url` (as registered, e.g. `/v1.0/users/:id/presence`) with `method` counts as: a read, any
 * other presence-service request, or nothing (not the presence API, or the `$batch` envelope).
 */
export function classify(method: string, url: string | undefined): RequestKind | null {
  if (url === undefined || !API_ROUTE.test(url) || BATCH_ROUTE.test(url)) return null;
  if ((method === 'GET' || method === 'HEAD') && PRESENCE_GET.test(url)) return 'read';
  if (method === 'POST' && READ_MANY.test(url)) return 'read';
  return 'other';
}

export function tooManyRequests(retryAfter: number): GraphError {
  return new GraphError(429, 'TooManyRequests', `Too many requests. Retry after ${retryAfter} seconds.`, { 'Retry-After': String(retryAfter) });
}

export interface ThrottleDeps {
  clock: Clock;
  verifier: TokenVerifier;
  limits: ThrottleLimits;
}

/** Installs the throttling hook (call only when throttling is on). Returns the counters. */
export function installThrottle(app: FastifyInstance, deps: ThrottleDeps): Throttle {
  const { clock, verifier } = deps;
  const throttle = new Throttle(deps.limits);
  // Routes are few and fixed; remember each (method, route)'s kind rather than matching on every request.
  const kinds = new Map<string, RequestKind | null>();
  const kindOf = (request: FastifyRequest): RequestKind | null => {
    const url = request.routeOptions.url;
    const cacheKey = `${request.method} ${url ?? ''}`;
    let kind = kinds.get(cacheKey);
    if (kind === undefined) {
      kind = classify(request.method, url);
      if (url !== undefined) kinds.set(cacheKey, kind);
    }
    return kind;
  };

  app.addHook('onRequest', async (request) => {
    const kind = kindOf(request);
    if (kind === null) return;
    let principal;
    try {
      principal = await verifier.verify(request.headers.authorization);
    } catch (err) {
      if (err instanceof AuthError) return; // not counted; the route answers with the precise error
      throw err;
    }
    request.principal = principal;
    const retryAfter = throttle.take(principal.tenantId, principal.appId, kind, clock.now());
    if (retryAfter > 0) throw tooManyRequests(retryAfter);
  });
  return throttle;
}
