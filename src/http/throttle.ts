/**
 * Graph's presence throttling (docs/api/throttling.md, `--throttle graph`): per application per tenant, at most
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
 * - Fixed windows per key, opened by the key's first request: exact, and `Retry-After` is simply the time left in
 *   the window — when the next request will succeed. Refused requests do not count.
 * - The counters are the store's (RateLimitPort), so every node on a shared store (Redis) counts against one budget:
 *   N nodes allow what one does. A single-writer store (SQLite, memory) counts in process memory, no disk write.
 * - When the store cannot count (StoreUnavailable), the request is answered 503 with Retry-After like any request
 *   whose store is away — not let through: it would wait out a second timeout on the same store, and an outage would
 *   lift the limits ([P: d-throttle-store-down]).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthError } from '../auth/types.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import type { Clock } from '../platform/clock/clock.ts';
import type { RateLimitPort } from '../store/ports/rateLimits.ts';
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

/** The policy over the store's counters: which counters a request of each kind takes, and Retry-After. */
export class Throttle {
  /** Per kind, the counters it counts against: every request the overall one, a read also the reads'. */
  private readonly counters: Record<RequestKind, Readonly<Record<string, number>>>;

  constructor(readonly limits: ThrottleLimits, private readonly store: RateLimitPort) {
    this.counters = { read: { total: limits.limit, reads: limits.readLimit }, other: { total: limits.limit } };
  }

  /**
   * Counts one request of `kind` for (tenantId, appId) at `now`. Resolves to 0 when it may proceed, otherwise the
   * whole seconds (≥ 1) until a request of that kind would succeed; a refused request is not counted.
   */
  async take(tenantId: string, appId: string, kind: RequestKind, now: number): Promise<number> {
    const { windowMs } = this.limits;
    const waitMs = await this.store.takeRate(`${tenantId}/${appId}`, this.counters[kind], now, windowMs);
    // Nodes' clocks may disagree a little about when a shared window opened: never say more than one window.
    return waitMs > 0 ? Math.max(1, Math.ceil(Math.min(waitMs, windowMs) / 1000)) : 0;
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
  /** Where the counters are kept: the store, so that nodes sharing it share them. */
  store: RateLimitPort;
  limits: ThrottleLimits;
}

/** Installs the throttling hook (call only when throttling is on). Returns the counters. */
export function installThrottle(app: FastifyInstance, deps: ThrottleDeps): Throttle {
  const { clock, verifier } = deps;
  const throttle = new Throttle(deps.limits, deps.store);
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
    const retryAfter = await throttle.take(principal.tenantId, principal.appId, kind, clock.now());
    if (retryAfter > 0) throw tooManyRequests(retryAfter);
  });
  return throttle;
}
