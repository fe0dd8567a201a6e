/**
 * The store contract. One implementation per backend (sqlite/, later redis/), one shared test suite
 * (test/store/contract.ts) run against each. Operations are named for what the product needs, not for SQL.
 */
import type { SharedClockBackend } from '../platform/clock/shared.ts';
import type { PresenceRecord } from '../domain/types.ts';
import type { Transition } from '../domain/record.ts';
import type { ChangeEvent, Delivery, NewDelivery, Subscription } from '../domain/subscription.ts';

export interface Tenant {
  id: string;
  displayName: string;
}

export interface User {
  tenantId: string;
  /** Object id: a lower-case GUID. */
  id: string;
  displayName: string;
  userPrincipalName: string;
}

export interface App {
  /** Application (client) id: a lower-case GUID. */
  id: string;
  displayName: string;
}

/** What a read needs: the published view. Exact while `dueAt` is null or still ahead. */
export type PresenceSnapshot = Pick<PresenceRecord, 'view' | 'sequenceNumber' | 'dueAt'>;

export interface PresenceKey {
  tenantId: string;
  userId: string;
}

/** One POST to a webhook endpoint, for the slow-endpoint rule (src/notifications/deliverer.ts). */
/** One delivery put back in the queue: tried next at `nextAttemptAt`, with `attempt` tries made. */
export interface DeliveryReschedule {
  id: string;
  nextAttemptAt: number;
  attempt: number;
}

export interface EndpointSample {
  /** When it was recorded (the server Clock, epoch ms). */
  at: number;
  /** How long the POST took (real time, ms). */
  ms: number;
}

/**
 * `fn` receives the current record and returns the transition to store, or null to change nothing. It must be
 * pure: a backend may call it more than once (optimistic retries). The returned record is committed atomically
 * together with its due instant before the promise resolves.
 */
export type PresenceUpdate = (current: PresenceRecord) => Transition | null;

export interface Store {
  readonly kind: 'sqlite' | 'memory' | 'redis';
  /**
   * True when this process is the store's only writer (sqlite, memory): everything written goes through this
   * process, so callers may keep what they read in memory. False for shared stores (redis).
   */
  readonly exclusive: boolean;

  /** True when the backend answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;

  /** Small named values: schema flags, the dev signing key, "demo seeded". */
  getMeta(key: string): Promise<string | null>;
  setMeta(key: string, value: string): Promise<void>;
  /** Sets the value only if the key has none; returns the value that is stored afterwards. */
  setMetaIfAbsent(key: string, value: string): Promise<string>;

  putTenant(tenant: Tenant): Promise<void>;
  getTenant(id: string): Promise<Tenant | null>;
  listTenants(): Promise<Tenant[]>;

  /**
   * Creates the user with `initial` as their presence record, or updates the name and UPN of an existing user (their
   * presence is kept). Returns true when the user was created. UPNs are unique across all tenants, ignoring case:
   * rejects with UpnTaken (./errors.ts), changing nothing, when another user has the UPN.
   */
  putUser(user: User, initial: PresenceRecord): Promise<boolean>;
  getUser(tenantId: string, userId: string): Promise<User | null>;
  /** Case-insensitive. */
  findUserByUpn(upn: string): Promise<User | null>;
  listUsers(tenantId: string): Promise<User[]>;
  /** Removes the user and their presence. Returns false when there was no such user. */
  deleteUser(tenantId: string, userId: string): Promise<boolean>;

  putApp(app: App): Promise<void>;
  getApp(id: string): Promise<App | null>;
  listApps(): Promise<App[]>;

  /** The full record of a user, or null when the tenant has no such user. */
  getPresence(tenantId: string, userId: string): Promise<PresenceRecord | null>;
  /** Snapshots of the users that exist, keyed by user id; missing ids are absent from the map. */
  getSnapshots(tenantId: string, userIds: readonly string[]): Promise<Map<string, PresenceSnapshot>>;
  /**
   * Atomically applies `fn` to the user's record. Resolves to the committed transition, to null when `fn` returned
   * null, or to undefined when the user does not exist.
   */
  updatePresence(tenantId: string, userId: string, fn: PresenceUpdate): Promise<Transition | null | undefined>;

  /** Users whose `dueAt` is at or before `now`, earliest first. */
  dueUsers(now: number, limit: number): Promise<PresenceKey[]>;
  /** The earliest `dueAt` of any user, or null. */
  nextDueAt(): Promise<number | null>;

  // ---- Change notifications (notifications.md) ----
  //
  // updatePresence appends a ChangeEvent (the outbox) in the same atomic update whenever the committed transition
  // has `changed` true. Deleting a user leaves their undispatched events in place.

  /** The oldest undispatched change events, in commit order. */
  readChanges(limit: number): Promise<ChangeEvent[]>;
  /**
   * Atomically removes the given change events and enqueues the deliveries they produced. Events already removed
   * (by another dispatcher) are ignored; their deliveries are still enqueued only if at least one id was removed
   * by this call — so two dispatchers racing on the same events do not both enqueue. Two calls on overlapping but
   * different sets of events may both enqueue: callers racing on one outbox dispatch one event per call.
   */
  dispatchChanges(eventIds: readonly string[], deliveries: readonly NewDelivery[]): Promise<boolean>;

  /** Creates or replaces a subscription. */
  putSubscription(subscription: Subscription): Promise<void>;
  getSubscription(id: string): Promise<Subscription | null>;
  /** Also removes its pending deliveries. Returns false when there was none. */
  deleteSubscription(id: string): Promise<boolean>;
  /** A tenant's subscriptions, optionally only one application's and/or one creator's. */
  listSubscriptions(filter: { tenantId: string; applicationId?: string; creatorId?: string }): Promise<Subscription[]>;
  /** The subscriptions that watch a user. */
  subscriptionsForUser(tenantId: string, userId: string): Promise<Subscription[]>;
  /** Subscriptions whose expiresAt is at or before `at`, earliest first. */
  subscriptionsExpiringBy(at: number, limit: number): Promise<Subscription[]>;
  /** The earliest expiresAt of any subscription, or null. */
  nextSubscriptionExpiry(): Promise<number | null>;
  /**
   * The conditional write that makes a subscription's `reauthorizationRequired` notice exactly-once over every node
   * (src/notifications/lifecycle.ts): sets its `reauthorizationNotifiedAt` to `at` — changing nothing else — only if the
   * subscription exists, still expires at `expiresAt`, and has no notice recorded at or after `since` (its
   * reauthorizationNotifiedAt is null or earlier: `since` is where the current lifetime's notice window starts), then
   * enqueues `notice`, if given. Resolves to true when this call set it; false when it changed and enqueued nothing.
   * Of several callers racing on one lifetime, exactly one gets true.
   * Mark and enqueue are one transaction where the backend allows it (sqlite); otherwise the mark comes first, so a
   * process dying between the two loses that one notice rather than sending it twice (redis: see there).
   */
  markReauthorizationNotified(id: string, expiresAt: number, at: number, since: number, notice?: NewDelivery): Promise<boolean>;

  enqueueDeliveries(deliveries: readonly NewDelivery[]): Promise<void>;
  /**
   * Deliveries due by `now` that nobody holds, earliest first; each returned one is leased until now + leaseMs (not
   * returned again before that unless completed or rescheduled).
   */
  claimDeliveries(now: number, limit: number, leaseMs: number): Promise<Delivery[]>;
  /** Removes deliveries that were sent (or dropped). */
  completeDeliveries(ids: readonly string[]): Promise<void>;
  /** Releases a delivery for another attempt at `nextAttemptAt`. */
  rescheduleDelivery(id: string, nextAttemptAt: number, attempt: number): Promise<void>;
  /**
   * `rescheduleDelivery` for many deliveries in one call (one transaction, or one pipelined round trip): a deliverer
   * putting back an endpoint's held items must not make one store call per item.
   */
  rescheduleDeliveries(items: readonly DeliveryReschedule[]): Promise<void>;
  /**
   * Ends every delivery lease at once (their deliveries become claimable now), resolving to how many there were. Only
   * for a store exclusive to one process: at start nothing can hold a lease but the process that died before it.
   */
  releaseDeliveryLeases?(): Promise<number>;
  /** The earliest nextAttemptAt of any delivery (leased ones count from their lease end), or null. */
  nextDeliveryAt(): Promise<number | null>;
  /** How many deliveries are queued. */
  countDeliveries(): Promise<number>;
  /**
   * How many deliveries due by `now` are leased at `now`: claimed by a deliverer (this node's or another's) and not
   * yet completed or rescheduled. The manual clock's settle waits for those of other nodes. Its cost may grow with
   * the deliveries not yet due.
   */
  countLeasedDeliveries(now: number): Promise<number>;

  // ---- Webhook endpoints (the deliverer's slow-endpoint rule, shared by every node on the store) ----
  //
  // The store only keeps the data; the rule (what counts as slow, when an endpoint is throttled or dropped, how old a
  // sample may be) is the deliverer's. Endpoints are keyed by their URL, exactly.

  /**
   * Appends the duration of a POST to the endpoint's samples, keeping only its latest `keep` (at least 1); resolves
   * to the kept samples, in the order they were recorded (oldest first).
   */
  recordEndpointDuration(url: string, durationMs: number, at: number, keep: number): Promise<EndpointSample[]>;
  /** The endpoint's kept samples, oldest first; [] for an endpoint never recorded. */
  endpointDurations(url: string): Promise<EndpointSample[]>;
  /**
   * The turn of a throttled endpoint (one POST per period, over all nodes): when the endpoint's current turn ends at
   * or before `now` (or it has none), a new one is taken, ending at `until`. Resolves to whether this call took it,
   * and when the endpoint's current turn ends.
   */
  takeEndpointTurn(url: string, now: number, until: number): Promise<{ taken: boolean; until: number }>;

  /**
   * Where a manual clock shared by every node keeps its time (src/platform/clock/shared.ts). Only stores shared by several
   * nodes (redis) have it; with the others, the manual clock lives in the process.
   */
  sharedClock?(): SharedClockBackend;
}
