/**
 * The store as small role ports. Each consumer is typed by the port(s) it uses; `Store` is their composition, what
 * openStore (../index.ts) returns: a backend (StoreBackend) behind the wrapper (../guarded.ts) that applies the
 * common rules once — argument guards, empty-input short cuts, the conflict-retry loop, and outages turned into
 * StoreUnavailable (../errors.ts). docs/contributing/store.md explains the whole and how to add a backend.
 */
import type { SharedClockBackend } from '../../platform/clock/shared.ts';
import type { DeliveryQueuePort } from './deliveries.ts';
import type { DirectoryPort } from './directory.ts';
import type { EndpointHealthPort } from './endpoints.ts';
import type { MetaPort } from './meta.ts';
import type { OutboxPort } from './outbox.ts';
import type { PresencePort } from './presence.ts';
import type { RateLimitPort } from './rateLimits.ts';
import type { SubscriptionStorage, SubscriptionsPort } from './subscriptions.ts';

export type { DeliveryQueuePort, DeliveryReschedule } from './deliveries.ts';
export type { App, DirectoryPort, Tenant, User } from './directory.ts';
export type { EndpointHealthPort, EndpointSample } from './endpoints.ts';
export type { MetaPort } from './meta.ts';
export type { OutboxPort } from './outbox.ts';
export type { PresenceKey, PresencePort, PresenceSnapshot, PresenceUpdate, PresenceWatcher } from './presence.ts';
export type { RateLimitPort } from './rateLimits.ts';
export type {
  SubscriptionCount, SubscriptionCursor, SubscriptionFilter, SubscriptionOwner, SubscriptionStorage, SubscriptionUpdate, SubscriptionsPort,
} from './subscriptions.ts';

/**
 * Facts about how a store is deployed. Only the composition root (src/server.ts) reads them, to choose the options
 * it gives the features (read cache, dispatch strategy, due-index polling); features never branch on the backend.
 */
export interface StoreFacts {
  /**
   * True when this process is the store's only writer (sqlite, memory): everything written goes through it, so it
   * may keep what it reads in memory. False when several nodes share the store (redis).
   */
  readonly soleWriter: boolean;
}

/** The shared clock port: where a manual clock shared by every node keeps its time (src/platform/clock/shared.ts). */
export interface SharedClockPort {
  /** Only stores shared by several nodes (redis) have it; with the others, the manual clock lives in the process. */
  sharedClock?(): SharedClockBackend;
}

/**
 * Whether a store can serve: it answers and takes writes, and (a shared one) still holds the data it opened. A ready
 * store may have `warnings`: what does not stop it serving but needs the operator (a presence journal whose snapshots
 * fail).
 */
export type StoreReadiness = { ready: true; warnings?: readonly string[] } | { ready: false; problem: string };

/** What every store has besides its ports. */
export interface StoreHandle {
  readonly kind: 'sqlite' | 'memory' | 'redis';
  readonly facts: StoreFacts;
  /** True when the backend answers. */
  ping(): Promise<boolean>;
  /**
   * What /_presently/ready reports: a write probe (a database that went read-only, full or bad is not ready), and on a
   * shared store the check that it still holds the data it was opened on (docs/operations/storage.md). Never rejects.
   */
  readiness(): Promise<StoreReadiness>;
  close(): Promise<void>;
  /** What the store found and did as it opened that the operator should read (printed at start), if anything. */
  readonly notices?: readonly string[];
  /**
   * What the store holds in this process's memory, in bytes by part (/metrics `presently_store_memory_bytes`): only a
   * store that keeps every record in memory (the presence journal) has it, and an empty object means nothing held.
   */
  memoryParts?(): Readonly<Record<string, number>>;
}

/** Every port together: what openStore returns and what the composition root hands out. */
export interface Store extends StoreHandle, MetaPort, DirectoryPort, PresencePort, OutboxPort, SubscriptionsPort,
  DeliveryQueuePort, EndpointHealthPort, RateLimitPort, SharedClockPort {
  /** Every store answers it; one whose backend has no lease release (a shared one) answers 0. */
  releaseDeliveryLeases(): Promise<number>;
}

/**
 * What a backend implements: one object per port (so each lives in a file of its own), and how to recognise its
 * outages. The wrapper (../guarded.ts) turns it into a Store.
 */
export interface StoreBackend extends StoreHandle {
  readonly meta: MetaPort;
  readonly directory: DirectoryPort;
  readonly presence: PresencePort;
  readonly outbox: OutboxPort;
  readonly subscriptions: SubscriptionStorage;
  readonly deliveries: DeliveryQueuePort;
  readonly endpoints: EndpointHealthPort;
  readonly rateLimits: RateLimitPort;
  readonly clock?: SharedClockBackend;
  /**
   * For a backend over the network: the longest any call may take, queues and retries included, before the wrapper
   * answers it as an outage (StoreUnavailable). Undefined for a backend that never waits (in process).
   */
  readonly timeoutMs?: number;
  /**
   * True when `err` means the backend cannot be reached or does not answer (refused, reset, timed out): the
   * wrapper rethrows it as StoreUnavailable, so nothing above the store knows a driver's errors.
   */
  isOutage(err: unknown): boolean;
}
