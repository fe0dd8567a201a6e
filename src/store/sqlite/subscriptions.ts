/**
 * The subscriptions port on SQLite: one row per subscription (indexed fields in columns, the rest in `data`). The
 * fan-out index (which subscriptions watch a user) lives in memory, built from the rows at open and changed after
 * each committed write: this process is the only writer, and one row per watched user made each create of a
 * 650-user subscription write ~650 pages (see migration 4). The compare-and-set and its enqueue are one IMMEDIATE
 * transaction, so a crash can neither lose what it enqueues nor let it happen twice.
 */
import { isDeepStrictEqual } from 'node:util';
import type Database from 'better-sqlite3';
import type { NewDelivery, Subscription } from '../../domain/subscription.ts';
import { joinSubscription, splitSubscription } from '../codec.ts';
import type {
  SubscriptionCount, SubscriptionCursor, SubscriptionFilter, SubscriptionOwner, SubscriptionStorage,
} from '../ports/subscriptions.ts';
import type { SqliteDeliveries } from './deliveries.ts';

interface SubscriptionRow { id: string; tenant_id: string; application_id: string; creator_id: string; expires_at: number; data: string }
interface SubscriptionParams {
  id: string; tenantId: string; applicationId: string; creatorId: string; expiresAt: number; createdAt: number; data: string;
}

const toSubscription = (r: SubscriptionRow): Subscription => joinSubscription(
  { id: r.id, tenantId: r.tenant_id, applicationId: r.application_id, creatorId: r.creator_id, expiresAt: r.expires_at }, r.data);

function subscriptionParams(s: Subscription): SubscriptionParams {
  const { columns, data } = splitSubscription(s);
  return { ...columns, createdAt: s.createdAt, data };
}

/** A copy the caller may change without touching the cached one (userIds is the only part that is not a value). */
const copy = (s: Subscription): Subscription => ({ ...s, userIds: [...s.userIds] });
/** What the cache holds: subscriptionsForUser hands these out as they are, so nobody may change them. */
const frozen = (s: Subscription): Subscription => {
  Object.freeze(s.userIds);
  return Object.freeze(s);
};

const COLUMNS = 'id, tenant_id, application_id, creator_id, expires_at, data';

function prepare(db: Database.Database) {
  const list = (where: string) => db.prepare<[SubscriptionFilter], SubscriptionRow>(
    `SELECT ${COLUMNS} FROM subscriptions WHERE tenant_id = @tenantId${where} ORDER BY id`);
  return {
    upsert: db.prepare<[SubscriptionParams]>(
      `INSERT INTO subscriptions (id, tenant_id, application_id, creator_id, expires_at, created_at, data)
       VALUES (@id, @tenantId, @applicationId, @creatorId, @expiresAt, @createdAt, @data)
       ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, application_id = excluded.application_id,
         creator_id = excluded.creator_id, expires_at = excluded.expires_at, created_at = excluded.created_at, data = excluded.data`,
    ),
    deleteDeliveries: db.prepare<[string]>('DELETE FROM deliveries WHERE subscription_id = ?'),
    delete: db.prepare<[string]>('DELETE FROM subscriptions WHERE id = ?'),
    get: db.prepare<[string], SubscriptionRow>(`SELECT ${COLUMNS} FROM subscriptions WHERE id = ?`),
    // Both read subscriptions_owner alone.
    countTenant: db.prepare<[string], number>('SELECT count(*) FROM subscriptions WHERE tenant_id = ?').pluck(),
    countApp: db.prepare<[string, string], number>('SELECT count(*) FROM subscriptions WHERE tenant_id = ? AND application_id = ?').pluck(),
    // One range of subscriptions_owner, from just after the cursor.
    page: db.prepare<[SubscriptionOwner & { createdAt: number; id: string; limit: number }], SubscriptionRow>(
      `SELECT ${COLUMNS} FROM subscriptions
       WHERE tenant_id = @tenantId AND application_id = @applicationId AND creator_id = @creatorId AND (created_at, id) > (@createdAt, @id)
       ORDER BY created_at, id LIMIT @limit`,
    ),
    // The owner's index, then expires_at from each row: no JSON parsed.
    countLive: db.prepare<[SubscriptionOwner & { now: number; upTo: number }], number>(
      `SELECT count(*) FROM (SELECT 1 FROM subscriptions
       WHERE tenant_id = @tenantId AND application_id = @applicationId AND creator_id = @creatorId AND expires_at > @now
       LIMIT @upTo)`,
    ).pluck(),
    // One statement per combination of filters, so each uses as much of subscriptions_owner as it can.
    list: {
      all: list(''),
      app: list(' AND application_id = @applicationId'),
      creator: list(' AND creator_id = @creatorId'),
      appCreator: list(' AND application_id = @applicationId AND creator_id = @creatorId'),
    },
    // What the fan-out index is built from: each subscription's tenant and watched users, nothing else parsed.
    watched: db.prepare<[], { id: string; tenant_id: string; users: string }>(
      "SELECT id, tenant_id, json_extract(data, '$.userIds') AS users FROM subscriptions",
    ),
    // Ids only, from the index: the subscriptions come from the cache (the lifecycle asks every pass).
    idsExpiringBy: db.prepare<[number, number], string>(
      'SELECT id FROM subscriptions WHERE expires_at <= ? ORDER BY expires_at, id LIMIT ?',
    ).pluck(),
    nextExpiry: db.prepare<[], number | null>('SELECT min(expires_at) FROM subscriptions').pluck(),
  };
}

export class SqliteSubscriptions implements SubscriptionStorage {
  private readonly stmt: ReturnType<typeof prepare>;
  private readonly txPut: (subscription: Subscription) => void;
  private readonly txDelete: (id: string) => boolean;
  private readonly txCompareAndSet: (expected: Subscription, next: Subscription, enqueue?: readonly NewDelivery[]) => boolean;
  /**
   * Parsed subscriptions by id, filled as they are read and kept in step by every write here (this process is the
   * only writer). A subscription carries up to 650 user ids, twice (userIds and resource): for a user with 1,000
   * watchers, parsing them on every change took ~175 ms of blocked event loop (notifications.bench.ts). Callers
   * always get copies.
   */
  private readonly cache = new Map<string, Subscription>();
  private readonly watchers = new WatcherIndex();

  constructor(db: Database.Database, deliveries: SqliteDeliveries) {
    const s = (this.stmt = prepare(db));
    for (const row of s.watched.iterate()) this.watchers.add(row.id, row.tenant_id, JSON.parse(row.users) as string[]);
    const write = (subscription: Subscription) => {
      s.upsert.run(subscriptionParams(subscription));
    };
    const put = db.transaction(write);
    this.txPut = (subscription) => put.immediate(subscription);
    const del = db.transaction((id: string): boolean => {
      s.deleteDeliveries.run(id);
      return s.delete.run(id).changes > 0;
    });
    this.txDelete = (id) => del.immediate(id);
    const cas = db.transaction((expected: Subscription, next: Subscription, enqueue?: readonly NewDelivery[]): boolean => {
      const row = s.get.get(expected.id);
      if (!row || !isDeepStrictEqual(toSubscription(row), expected)) return false;
      write(next);
      if (enqueue) deliveries.insert(enqueue);
      return true;
    });
    this.txCompareAndSet = (expected, next, enqueue) => cas.immediate(expected, next, enqueue);
  }

  /** The cached subscription (not a copy, frozen), read from the database on a miss. */
  private cached(id: string): Subscription | null {
    let s = this.cache.get(id);
    if (!s) {
      const row = this.stmt.get.get(id);
      if (!row) return null;
      this.cache.set(id, (s = frozen(toSubscription(row))));
    }
    return s;
  }

  /** After a committed write: the fan-out index and the cache follow. */
  private replaced(old: Subscription | null, now: Subscription | null): void {
    const id = (old ?? now)!.id;
    if (old) this.watchers.remove(id, old.tenantId, old.userIds);
    this.cache.delete(id);
    if (now) {
      this.watchers.add(id, now.tenantId, now.userIds);
      this.cache.set(id, frozen(copy(now)));
    }
  }

  async putSubscription(subscription: Subscription): Promise<void> {
    const old = this.cached(subscription.id);
    this.cache.delete(subscription.id);
    this.txPut(subscription);
    this.replaced(old, subscription);
  }

  async getSubscription(id: string): Promise<Subscription | null> {
    const s = this.cached(id);
    return s && copy(s);
  }

  async deleteSubscription(id: string): Promise<boolean> {
    const old = this.cached(id);
    this.cache.delete(id);
    const deleted = this.txDelete(id);
    if (old) this.replaced(old, null);
    return deleted;
  }

  async compareAndSetSubscription(expected: Subscription, next: Subscription, enqueue?: readonly NewDelivery[]): Promise<boolean> {
    this.cache.delete(expected.id);
    const stored = this.txCompareAndSet(expected, next, enqueue);
    // Stored over exactly `expected`: that is what the index held.
    if (stored) this.replaced(expected, next);
    return stored;
  }

  async listSubscriptions(filter: SubscriptionFilter): Promise<Subscription[]> {
    const { all, app, creator, appCreator } = this.stmt.list;
    const byApp = filter.applicationId !== undefined;
    const byCreator = filter.creatorId !== undefined;
    const stmt = byApp ? (byCreator ? appCreator : app) : (byCreator ? creator : all);
    return stmt.all(filter).map(toSubscription);
  }

  async countSubscriptions(filter: SubscriptionCount): Promise<number> {
    return filter.applicationId === undefined
      ? this.stmt.countTenant.get(filter.tenantId) ?? 0
      : this.stmt.countApp.get(filter.tenantId, filter.applicationId) ?? 0;
  }

  async countLiveSubscriptions(owner: SubscriptionOwner, now: number, upTo: number): Promise<number> {
    const { tenantId, applicationId, creatorId } = owner;
    return this.stmt.countLive.get({ tenantId, applicationId, creatorId, now, upTo }) ?? 0;
  }

  async listSubscriptionPage(owner: SubscriptionOwner, after: SubscriptionCursor | null, limit: number): Promise<Subscription[]> {
    // Nothing sorts before (-1, ''): createdAt is an epoch instant.
    const from = after ?? { createdAt: -1, id: '' };
    return this.stmt.page.all({ ...owner, createdAt: from.createdAt, id: from.id, limit }).map(toSubscription);
  }

  async subscriptionsForUser(tenantId: string, userId: string): Promise<ReadonlyArray<Readonly<Subscription>>> {
    // Always found: the index follows every committed write of this, the only writer. The cached objects themselves,
    // frozen (see cached()): no copy of each subscription's user list per change.
    const result: Subscription[] = [];
    for (const id of this.watchers.of(tenantId, userId)) {
      const s = this.cached(id);
      if (s) result.push(s);
    }
    return result;
  }

  /** True when some stored subscription (expired ones included, until deleted) watches the user. */
  watches(tenantId: string, userId: string): boolean {
    return this.watchers.has(tenantId, userId);
  }

  /** Copies of the (cached) subscriptions with these ids, in this order; ids with no subscription are skipped. */
  private copies(ids: readonly string[]): Subscription[] {
    const result: Subscription[] = [];
    for (const id of ids) {
      const s = this.cached(id);
      if (s) result.push(copy(s));
    }
    return result;
  }

  async subscriptionsExpiringBy(at: number, limit: number): Promise<Subscription[]> {
    return this.copies(this.stmt.idsExpiringBy.all(at, limit));
  }

  async nextSubscriptionExpiry(): Promise<number | null> {
    return this.stmt.nextExpiry.get() ?? null;
  }
}

/**
 * tenant → user → the ids of the subscriptions watching them (nested maps: no key string built per user), in id order.
 * A user watched by one subscription holds its id as it is, one watched by more a sorted array: a Set a user (two
 * objects, its table reserving slots) made 100,000 users' index 200,000 objects for every major collection to visit
 * (BENCHMARKS.md, the 100,000-user soak's stalls), where most users are watched by one to three subscriptions.
 */
class WatcherIndex {
  private readonly byTenant = new Map<string, Map<string, string | string[]>>();

  add(id: string, tenantId: string, userIds: readonly string[]): void {
    let users = this.byTenant.get(tenantId);
    if (!users) this.byTenant.set(tenantId, (users = new Map()));
    for (const u of userIds) {
      const ids = users.get(u);
      if (ids === undefined) users.set(u, id);
      else if (typeof ids === 'string') {
        if (ids !== id) users.set(u, ids < id ? [ids, id] : [id, ids]);
      } else {
        const at = sortedIndex(ids, id);
        if (ids[at] !== id) ids.splice(at, 0, id);
      }
    }
  }

  remove(id: string, tenantId: string, userIds: readonly string[]): void {
    const users = this.byTenant.get(tenantId);
    if (!users) return;
    for (const u of userIds) {
      const ids = users.get(u);
      if (ids === id) users.delete(u);
      else if (Array.isArray(ids)) {
        const at = sortedIndex(ids, id);
        if (ids[at] !== id) continue;
        ids.splice(at, 1);
        if (ids.length === 1) users.set(u, ids[0]!);
      }
    }
    if (users.size === 0) this.byTenant.delete(tenantId);
  }

  has(tenantId: string, userId: string): boolean {
    return this.byTenant.get(tenantId)?.has(userId) ?? false;
  }

  /** In id order, as the fan-out has always been. */
  of(tenantId: string, userId: string): readonly string[] {
    const ids = this.byTenant.get(tenantId)?.get(userId);
    return ids === undefined ? [] : typeof ids === 'string' ? [ids] : ids;
  }
}

/** Where `id` is, or would go, in the sorted `ids`. */
function sortedIndex(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
