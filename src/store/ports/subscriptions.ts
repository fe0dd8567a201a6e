/**
 * The subscriptions port. Backends implement SubscriptionStorage, whose only conditional write is
 * compareAndSetSubscription; the read–decide–write loop over it (updateSubscription) is written once, in the
 * wrapper (../guarded.ts), so rules such as the lifecycle's exactly-once reauthorisation notice
 * (src/notifications/reauthorization.ts) are pure functions that no backend repeats.
 */
import type { NewDelivery, Subscription } from '../../domain/subscription.ts';

/** The filter of listSubscriptions. */
export interface SubscriptionFilter {
  tenantId: string;
  applicationId?: string;
  creatorId?: string;
}

/** Which subscriptions countSubscriptions counts: a tenant's, or one application's in a tenant. */
export interface SubscriptionCount {
  tenantId: string;
  applicationId?: string;
}

/** One creator's subscriptions of one application in a tenant: what GET /subscriptions pages through. */
export interface SubscriptionOwner {
  tenantId: string;
  applicationId: string;
  creatorId: string;
}

/** A position in the (createdAt, id) order of listSubscriptionPage: the last subscription of the page before. */
export interface SubscriptionCursor {
  createdAt: number;
  id: string;
}

/**
 * Given the subscription as stored, the one to store instead, or null to change nothing. Must be pure: it is run
 * again on the newer subscription when another writer got in first.
 */
export type SubscriptionUpdate = (current: Subscription) => Subscription | null;

export interface SubscriptionStorage {
  /** Creates or replaces a subscription. */
  putSubscription(subscription: Subscription): Promise<void>;
  getSubscription(id: string): Promise<Subscription | null>;
  /** Also removes its pending deliveries. Returns false when there was none. */
  deleteSubscription(id: string): Promise<boolean>;
  /** A tenant's subscriptions, optionally only one application's and/or one creator's. */
  listSubscriptions(filter: SubscriptionFilter): Promise<Subscription[]>;
  /**
   * How many subscriptions are stored for a tenant, or for one application in it (expired ones the lifecycle has not
   * removed yet included). Costs no read of the subscriptions themselves.
   */
  countSubscriptions(filter: SubscriptionCount): Promise<number>;
  /**
   * Up to `limit` of one creator's subscriptions of one application, in (createdAt, id) order, starting after
   * `after` (from the first when null). Reads only what it returns (and, on redis, the application's others in that
   * range), so a page costs the same however many pages come before it.
   */
  listSubscriptionPage(owner: SubscriptionOwner, after: SubscriptionCursor | null, limit: number): Promise<Subscription[]>;
  /**
   * How many of one creator's subscriptions of one application are still live at `now` (expire after it), counting
   * no further than `upTo`: the check of a raised per-user cap, which needs neither the subscriptions nor their user
   * lists (sqlite counts in the database; redis reads the pages it needs).
   */
  countLiveSubscriptions(owner: SubscriptionOwner, now: number, upTo: number): Promise<number>;
  /**
   * The subscriptions that watch a user, in id order. Read-only: a backend may hand out the objects it caches (the
   * fan-out reads this for every change, and a copy of 800 subscriptions of 650 users each was most of its cost).
   */
  subscriptionsForUser(tenantId: string, userId: string): Promise<ReadonlyArray<Readonly<Subscription>>>;
  /** Subscriptions whose expiresAt is at or before `at`, earliest first. */
  subscriptionsExpiringBy(at: number, limit: number): Promise<Subscription[]>;
  /** The earliest expiresAt of any subscription, or null. */
  nextSubscriptionExpiry(): Promise<number | null>;
  /**
   * The conditional write: stores `next` (same id) only if the subscription is still exactly `expected` (as read
   * by getSubscription), then enqueues `enqueue`. Resolves to true when this call stored it; false, changing and
   * enqueuing nothing, when it changed or is gone. Of several callers racing from one `expected`, exactly one wins.
   * Write and enqueue are one transaction where the backend allows it (sqlite); otherwise the write comes first, so
   * a process dying between the two loses those deliveries rather than sending them twice (redis).
   */
  compareAndSetSubscription(expected: Subscription, next: Subscription, enqueue?: readonly NewDelivery[]): Promise<boolean>;
}

export interface SubscriptionsPort extends SubscriptionStorage {
  /**
   * Applies `fn` to the stored subscription and stores the result with compareAndSetSubscription, reading again
   * and re-running `fn` when another writer got in first; when it stored something, enqueues `enqueue` as
   * compareAndSetSubscription does. Resolves to the stored subscription, or null when there is no such subscription
   * or `fn` returned null (nothing changed, nothing enqueued).
   */
  updateSubscription(id: string, fn: SubscriptionUpdate, enqueue?: readonly NewDelivery[]): Promise<Subscription | null>;
}
