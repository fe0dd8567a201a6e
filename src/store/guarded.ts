/**
 * The wrapper around every backend: the rules every store follows, written once, so a backend implements only the
 * storage itself.
 *
 * - Outages: an error the backend recognises as an outage (StoreBackend.isOutage) is rethrown as StoreUnavailable,
 *   which HTTP answers with 503 and Retry-After; nothing above the store knows a driver's errors.
 * - Guards and limits: a `limit` of 0 or less asks for nothing, and gets [] without a call; `keep` is at least 1.
 * - Empty input: an empty list of ids or deliveries changes nothing and costs no call.
 * - The read–decide–write loop of updateSubscription, over the backend's compare-and-set (src/platform/retry.ts).
 * - Time: a backend over the network (StoreBackend.timeoutMs) answers every call within its timeout, queues and retry
 *   loops included, or the call is an outage.
 */
import type { Delivery, NewDelivery, Subscription } from '../domain/subscription.ts';
import type { PresenceRecord } from '../domain/types.ts';
import type { SharedClockBackend } from '../platform/clock/shared.ts';
import { StoreUnavailable } from './errors.ts';
import type { Store, StoreBackend, StoreReadiness, User } from './ports/index.ts';
import type { DeliveryReschedule } from './ports/deliveries.ts';
import type {
  SubscriptionCount, SubscriptionCursor, SubscriptionFilter, SubscriptionOwner, SubscriptionUpdate,
} from './ports/subscriptions.ts';
import { CONFLICT, retryOnConflict } from '../platform/retry.ts';

/**
 * The most users putUsers hands a backend in one call: one SQLite transaction (tens of ms of the event loop), or one
 * round of pipelined Redis scripts well within the call's timeout.
 */
export const BULK_USERS = 2000;

/** The name the wrapper gives a backend in StoreUnavailable (it reaches users in the 503 message). */
const BACKEND_NAMES: Record<Store['kind'], string> = { sqlite: 'SQLite', memory: 'memory', redis: 'Redis' };

export class GuardedStore<B extends StoreBackend = StoreBackend> implements Store {
  readonly kind: Store['kind'];
  readonly facts: Store['facts'];
  readonly notices: Store['notices'];

  constructor(readonly backend: B) {
    this.kind = backend.kind;
    this.facts = backend.facts;
    this.notices = backend.notices;
    if (backend.clock) {
      const clock = this.guardClock(backend.clock);
      this.sharedClock = () => clock;
    }
    const page = backend.presence.snapshotPage?.bind(backend.presence);
    if (page) this.snapshotPage = async (after, limit) => (limit > 0 ? this.call(() => page(after, Math.floor(limit))) : []);
    const watch = backend.presence.watchChanges?.bind(backend.presence);
    if (watch) this.watchChanges = watch;
    const memory = backend.memoryParts?.bind(backend);
    if (memory) this.memoryParts = memory;
    const users = backend.presence.userPage?.bind(backend.presence);
    if (users) this.userPage = async (cursor, limit) => this.call(() => users(cursor, Math.max(1, Math.floor(limit))));
  }

  sharedClock?: () => SharedClockBackend;
  /** Only when the backend has it (./ports/index.ts StoreHandle). */
  memoryParts?: Store['memoryParts'];
  /** Only when the backend has it (./ports/presence.ts): the sole-writer backends. */
  snapshotPage?: Store['snapshotPage'];
  /** Only when the backend has it: a shared store that tells changes (./ports/presence.ts). */
  watchChanges?: Store['watchChanges'];
  userPage?: Store['userPage'];

  /** Runs a backend call, turning an outage into StoreUnavailable; bounded by the backend's timeoutMs, if any. */
  private async call<T>(run: () => Promise<T>): Promise<T> {
    const ms = this.backend.timeoutMs;
    try {
      return await (ms === undefined ? run() : this.bounded(run, ms));
    } catch (err) {
      if (!(err instanceof StoreUnavailable) && this.backend.isOutage(err)) throw new StoreUnavailable(BACKEND_NAMES[this.kind], err);
      throw err;
    }
  }

  /**
   * `run`, or StoreUnavailable once `ms` have passed without its answer. The driver's own timeout is per command; this
   * one is per call, so a call that waits behind other commands, a reconnection or a retry loop still answers in time.
   */
  private bounded<T>(run: () => Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StoreUnavailable(BACKEND_NAMES[this.kind], new Error(`no answer within ${ms} ms`))), ms);
      const settle = () => clearTimeout(timer);
      try {
        run().then(resolve, reject).finally(settle);
      } catch (err) {
        settle();
        reject(err);
      }
    });
  }

  private guardClock(clock: SharedClockBackend): SharedClockBackend {
    return {
      read: () => this.call(() => clock.read()),
      init: (start) => this.call(() => clock.init(start)),
      advanceTo: (to, from) => this.call(() => clock.advanceTo(to, from)),
      subscribe: (onChange) => this.call(() => clock.subscribe(onChange)),
    };
  }

  ping(): Promise<boolean> {
    return this.backend.ping();
  }

  /** The backend's readiness, an outage or a time-out included as a problem: never rejects. */
  async readiness(): Promise<StoreReadiness> {
    try {
      return await this.call(() => this.backend.readiness());
    } catch (err) {
      return { ready: false, problem: (err as Error).message };
    }
  }

  close(): Promise<void> {
    return this.backend.close();
  }

  // ---- meta ----

  getMeta(key: string) { return this.call(() => this.backend.meta.getMeta(key)); }

  async getMetas(keys: readonly string[]): ReturnType<Store['getMetas']> {
    if (keys.length === 0) return new Map();
    return this.call(() => this.backend.meta.getMetas([...new Set(keys)]));
  }

  setMeta(key: string, value: string) { return this.call(() => this.backend.meta.setMeta(key, value)); }
  setMetaIfAbsent(key: string, value: string) { return this.call(() => this.backend.meta.setMetaIfAbsent(key, value)); }

  // ---- directory ----

  putTenant(...a: Parameters<Store['putTenant']>) { return this.call(() => this.backend.directory.putTenant(...a)); }
  getTenant(id: string) { return this.call(() => this.backend.directory.getTenant(id)); }
  listTenants() { return this.call(() => this.backend.directory.listTenants()); }
  deleteTenant(id: string) { return this.call(() => this.backend.directory.deleteTenant(id)); }
  putUser(...a: Parameters<Store['putUser']>) { return this.call(() => this.backend.directory.putUser(...a)); }

  /** In chunks of BULK_USERS, one after the other: each chunk is one backend call, bounded by the timeout on its own. */
  async putUsers(users: readonly User[], initial: PresenceRecord): Promise<boolean[]> {
    const created: boolean[] = [];
    for (let i = 0; i < users.length; i += BULK_USERS) {
      const chunk = users.slice(i, i + BULK_USERS);
      created.push(...await this.call(() => this.backend.directory.putUsers(chunk, initial)));
    }
    return created;
  }

  getUser(tenantId: string, userId: string) { return this.call(() => this.backend.directory.getUser(tenantId, userId)); }
  findUserByUpn(upn: string) { return this.call(() => this.backend.directory.findUserByUpn(upn)); }
  listUsers(tenantId: string) { return this.call(() => this.backend.directory.listUsers(tenantId)); }
  async listUserPage(tenantId: string, after: string | null, limit: number): Promise<User[]> {
    if (!(limit >= 1)) return [];
    return this.call(() => this.backend.directory.listUserPage(tenantId, after, Math.floor(limit)));
  }
  countUsers(tenantId: string) { return this.call(() => this.backend.directory.countUsers(tenantId)); }
  deleteUser(tenantId: string, userId: string) { return this.call(() => this.backend.directory.deleteUser(tenantId, userId)); }
  putApp(...a: Parameters<Store['putApp']>) { return this.call(() => this.backend.directory.putApp(...a)); }
  getApp(id: string) { return this.call(() => this.backend.directory.getApp(id)); }
  listApps() { return this.call(() => this.backend.directory.listApps()); }
  deleteApp(id: string) { return this.call(() => this.backend.directory.deleteApp(id)); }

  // ---- presence ----

  getPresence(tenantId: string, userId: string) { return this.call(() => this.backend.presence.getPresence(tenantId, userId)); }

  async getPresences(tenantId: string, userIds: readonly string[]): ReturnType<Store['getPresences']> {
    if (userIds.length === 0) return new Map();
    return this.call(() => this.backend.presence.getPresences(tenantId, [...new Set(userIds)]));
  }

  async getSnapshots(tenantId: string, userIds: readonly string[]): ReturnType<Store['getSnapshots']> {
    if (userIds.length === 0) return new Map();
    return this.call(() => this.backend.presence.getSnapshots(tenantId, [...new Set(userIds)]));
  }

  updatePresence(...a: Parameters<Store['updatePresence']>) { return this.call(() => this.backend.presence.updatePresence(...a)); }

  async dueUsers(now: number, limit: number): ReturnType<Store['dueUsers']> {
    if (!(limit > 0)) return [];
    return this.call(() => this.backend.presence.dueUsers(now, Math.floor(limit)));
  }

  nextDueAt() { return this.call(() => this.backend.presence.nextDueAt()); }

  // ---- outbox ----

  async readChanges(limit: number): ReturnType<Store['readChanges']> {
    if (!(limit > 0)) return [];
    return this.call(() => this.backend.outbox.readChanges(Math.floor(limit)));
  }

  async dispatchChanges(eventIds: readonly string[], deliveries: readonly NewDelivery[]): Promise<boolean> {
    if (eventIds.length === 0) return false;
    return this.call(() => this.backend.outbox.dispatchChanges(eventIds, deliveries));
  }

  // ---- subscriptions ----

  putSubscription(s: Subscription) { return this.call(() => this.backend.subscriptions.putSubscription(s)); }
  getSubscription(id: string) { return this.call(() => this.backend.subscriptions.getSubscription(id)); }
  deleteSubscription(id: string) { return this.call(() => this.backend.subscriptions.deleteSubscription(id)); }
  listSubscriptions(filter: SubscriptionFilter) { return this.call(() => this.backend.subscriptions.listSubscriptions(filter)); }
  countSubscriptions(filter: SubscriptionCount) { return this.call(() => this.backend.subscriptions.countSubscriptions(filter)); }

  async countLiveSubscriptions(owner: SubscriptionOwner, now: number, upTo: number): Promise<number> {
    if (!(upTo >= 1)) return 0;
    return this.call(() => this.backend.subscriptions.countLiveSubscriptions(owner, now, Math.floor(upTo)));
  }

  async listSubscriptionPage(owner: SubscriptionOwner, after: SubscriptionCursor | null, limit: number): Promise<Subscription[]> {
    if (!(limit > 0)) return [];
    return this.call(() => this.backend.subscriptions.listSubscriptionPage(owner, after, Math.floor(limit)));
  }

  subscriptionsForUser(tenantId: string, userId: string) {
    return this.call(() => this.backend.subscriptions.subscriptionsForUser(tenantId, userId));
  }

  async subscriptionsExpiringBy(at: number, limit: number): Promise<Subscription[]> {
    if (!(limit > 0)) return [];
    return this.call(() => this.backend.subscriptions.subscriptionsExpiringBy(at, Math.floor(limit)));
  }

  nextSubscriptionExpiry() { return this.call(() => this.backend.subscriptions.nextSubscriptionExpiry()); }

  async compareAndSetSubscription(expected: Subscription, next: Subscription, enqueue?: readonly NewDelivery[]): Promise<boolean> {
    if (next.id !== expected.id) throw new Error(`compareAndSetSubscription: cannot change a subscription's id (${expected.id} → ${next.id})`);
    return this.call(() => this.backend.subscriptions.compareAndSetSubscription(expected, next, enqueue?.length ? enqueue : undefined));
  }

  /** One call however many rounds it loses: the backend's timeout bounds the whole loop, not each round. */
  updateSubscription(id: string, fn: SubscriptionUpdate, enqueue?: readonly NewDelivery[]): Promise<Subscription | null> {
    return this.call(() => retryOnConflict(`updateSubscription of ${id}`, async () => {
      const current = await this.getSubscription(id);
      if (current === null) return null;
      const next = fn(current);
      if (next === null) return null;
      return (await this.compareAndSetSubscription(current, next, enqueue)) ? next : CONFLICT;
    }));
  }

  // ---- delivery queue ----

  async enqueueDeliveries(deliveries: readonly NewDelivery[]): Promise<void> {
    if (deliveries.length > 0) await this.call(() => this.backend.deliveries.enqueueDeliveries(deliveries));
  }

  async claimDeliveries(now: number, limit: number, leaseMs: number): Promise<Delivery[]> {
    if (!(limit > 0)) return [];
    return this.call(() => this.backend.deliveries.claimDeliveries(now, Math.floor(limit), leaseMs));
  }

  async completeDeliveries(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.call(() => this.backend.deliveries.completeDeliveries([...new Set(ids)]));
  }

  rescheduleDelivery(id: string, nextAttemptAt: number, attempt: number) {
    return this.call(() => this.backend.deliveries.rescheduleDelivery(id, nextAttemptAt, attempt));
  }

  async rescheduleDeliveries(items: readonly DeliveryReschedule[]): Promise<void> {
    if (items.length > 0) await this.call(() => this.backend.deliveries.rescheduleDeliveries(items));
  }

  /** 0 on a backend without it (a shared one): other nodes' leases are left to run out. */
  async releaseDeliveryLeases(): Promise<number> {
    const deliveries = this.backend.deliveries;
    return deliveries.releaseDeliveryLeases ? this.call(() => deliveries.releaseDeliveryLeases!()) : 0;
  }

  nextDeliveryAt() { return this.call(() => this.backend.deliveries.nextDeliveryAt()); }
  countDeliveries() { return this.call(() => this.backend.deliveries.countDeliveries()); }
  countLeasedDeliveries(now: number) { return this.call(() => this.backend.deliveries.countLeasedDeliveries(now)); }

  // ---- endpoint health ----

  recordEndpointDuration(url: string, durationMs: number, at: number, keep: number) {
    const kept = Math.max(1, Math.floor(keep) || 1);
    return this.call(() => this.backend.endpoints.recordEndpointDuration(url, durationMs, at, kept));
  }

  endpointDurations(url: string) { return this.call(() => this.backend.endpoints.endpointDurations(url)); }
  takeEndpointTurn(url: string, now: number, until: number) {
    return this.call(() => this.backend.endpoints.takeEndpointTurn(url, now, until));
  }

  // ---- rate limits ----

  takeRate(key: string, limits: Readonly<Record<string, number>>, now: number, windowMs: number) {
    return this.call(() => this.backend.rateLimits.takeRate(key, limits, now, windowMs));
  }
}
