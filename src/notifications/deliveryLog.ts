/**
 * The deliveries log (docs/notifications/testing.md): the most recent delivery attempts, in memory, for
 * `GET /_presently/deliveries` and for tests. One entry per POST (a batch of items to one endpoint), plus entries
 * for items dropped without a POST (expired or deleted subscription, endpoint over the slow limit, encryption
 * failure). Also keeps running totals for /metrics, and tells its listeners of each entry (the dashboard's stream).
 */

import type { Delivery } from '../domain/subscription.ts';

export type DeliveryOutcome = 'delivered' | 'retry' | 'dropped';

export interface DeliveryLogEntry {
  /** Clock time of the attempt's end (Graph's UTC format). */
  time: string;
  subscriptionIds: string[];
  url: string;
  kind: 'change' | 'lifecycle';
  /** Items in the POST (or dropped without one). */
  items: number;
  /** HTTP status; 0 when no response arrived, or no POST was made. */
  status: number;
  error: string | null;
  /** Real network time of the POST, milliseconds (0 when no POST was made). */
  latencyMs: number;
  /** 1 for a first try: the highest attempt number among the items. */
  attempt: number;
  /** `retry` when the POST failed and at least one item will be tried again; `dropped` when none will. */
  outcome: DeliveryOutcome;
  /** How many of the items were dropped (given up on) after this attempt. */
  dropped: number;
  /** The tenants of the items. */
  tenantIds: string[];
  /** The users whose changes the items carry (none for lifecycle items). */
  userIds: string[];
  /** `retry`: when the items are tried next (the earliest, Graph's UTC format); otherwise null. */
  nextAttemptAt: string | null;
}

export interface DeliveryTotals {
  /** POSTs made. */
  posts: number;
  /** POSTs that failed (non-2xx, timeout, network error). */
  failedPosts: number;
  /** Items delivered (a 2xx within the timeout). */
  delivered: number;
  /** Items rescheduled after a failed POST. */
  retried: number;
  /** Items given up on, by reason. */
  dropped: Record<DropReason, number>;
}

export type DropReason = 'expired' | 'slowEndpoint' | 'subscriptionGone' | 'encryption';

/** A list of ids as the ring keeps it: one id as it is (most POSTs concern one subscription, tenant or user). */
type Ids = string | readonly string[];
const NO_IDS: readonly string[] = Object.freeze([]);

/**
 * An entry as the ring keeps it: its id lists as Ids. At 3,200 items a second over 400 endpoints a POST carries a few
 * items, so the ring's 1,000 entries last about two seconds, long enough for each to outlive the young generation.
 * Three arrays an entry made one of a 1-item POST 1,001 bytes; kept this way, 448 (BENCHMARKS.md, 2026-12-06 19:15).
 */
interface Kept extends Omit<DeliveryLogEntry, 'subscriptionIds' | 'tenantIds' | 'userIds'> {
  subscriptionIds: Ids;
  tenantIds: Ids;
  userIds: Ids;
}

const compact = (ids: readonly string[]): Ids => (ids.length === 0 ? NO_IDS : ids.length === 1 ? ids[0]! : ids);
const list = (ids: Ids): string[] => (typeof ids === 'string' ? [ids] : [...ids]);
const names = (ids: Ids, id: string): boolean => (typeof ids === 'string' ? ids === id : ids.includes(id));

export class DeliveryLog {
  private readonly ring: (Kept | undefined)[];
  private next = 0;
  private size = 0;
  private readonly listeners: Array<(entry: DeliveryLogEntry) => void> = [];
  readonly totals: DeliveryTotals = {
    posts: 0, failedPosts: 0, delivered: 0, retried: 0,
    dropped: { expired: 0, slowEndpoint: 0, subscriptionGone: 0, encryption: 0 },
  };

  constructor(readonly capacity = 1000) {
    this.ring = new Array<Kept | undefined>(capacity);
  }

  /** Items given up on without a POST, and why. */
  recordDrop(time: string, url: string, items: readonly Delivery[], reason: DropReason, error: string): void {
    if (items.length === 0) return;
    this.totals.dropped[reason] += items.length;
    this.add({
      time, subscriptionIds: unique(items.map((d) => d.subscriptionId)), url, kind: items[0]!.kind, items: items.length,
      status: 0, error, latencyMs: 0, attempt: Math.max(...items.map((d) => d.attempt)), outcome: 'dropped', dropped: items.length,
      ...concerned(items), nextAttemptAt: null,
    });
  }

  /**
   * One POST of `items` (not yet counted as attempted): delivered, or failed with `dropped` of them given up on (for
   * `reason`) and the rest to be tried again at `nextAttemptAt`.
   */
  recordPost(post: {
    time: string; url: string; items: readonly Delivery[]; status: number; error: string | null; latencyMs: number;
  } & ({ delivered: true } | { delivered: false; dropped: number; reason: DropReason; nextAttemptAt: string | null })): void {
    const { items } = post;
    this.totals.posts++;
    const entry = {
      time: post.time, subscriptionIds: unique(items.map((d) => d.subscriptionId)), url: post.url, kind: items[0]!.kind,
      items: items.length, status: post.status, error: post.error ?? (post.delivered ? null : `HTTP ${post.status}`),
      latencyMs: Math.round(post.latencyMs), attempt: Math.max(...items.map((d) => d.attempt)) + 1, ...concerned(items),
    };
    if (post.delivered) {
      this.totals.delivered += items.length;
      this.add({ ...entry, outcome: 'delivered', dropped: 0, nextAttemptAt: null });
      return;
    }
    this.totals.failedPosts++;
    this.totals.retried += items.length - post.dropped;
    this.totals.dropped[post.reason] += post.dropped;
    const all = post.dropped === items.length;
    this.add({ ...entry, outcome: all ? 'dropped' : 'retry', dropped: post.dropped, nextAttemptAt: all ? null : post.nextAttemptAt });
  }

  add(entry: DeliveryLogEntry): void {
    this.ring[this.next] = {
      time: entry.time, subscriptionIds: compact(entry.subscriptionIds), url: entry.url, kind: entry.kind,
      items: entry.items, status: entry.status, error: entry.error, latencyMs: entry.latencyMs, attempt: entry.attempt,
      outcome: entry.outcome, dropped: entry.dropped, tenantIds: compact(entry.tenantIds), userIds: compact(entry.userIds),
      nextAttemptAt: entry.nextAttemptAt,
    };
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    for (const listener of this.listeners) listener(entry);
  }

  /**
   * Calls `listener` with every entry from now on, synchronously as it is added (so it must be quick: it runs in
   * the deliverer's path). Returns a function that stops it.
   */
  onRecord(listener: (entry: DeliveryLogEntry) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  /** Oldest first (newest last), optionally only the entries that name a subscription. */
  entries(filter: { subscriptionId?: string } = {}): DeliveryLogEntry[] {
    const out: DeliveryLogEntry[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) {
      const e = this.ring[(start + i) % this.capacity]!;
      if (filter.subscriptionId !== undefined && !names(e.subscriptionIds, filter.subscriptionId)) continue;
      out.push({ ...e, subscriptionIds: list(e.subscriptionIds), tenantIds: list(e.tenantIds), userIds: list(e.userIds) });
    }
    return out;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.next = 0;
    this.size = 0;
  }
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** The tenants and users the items concern. */
function concerned(items: readonly Delivery[]): { tenantIds: string[]; userIds: string[] } {
  const users = new Set<string>();
  for (const d of items) if (d.userId !== null) users.add(d.userId);
  return { tenantIds: unique(items.map((d) => d.tenantId)), userIds: [...users] };
}
