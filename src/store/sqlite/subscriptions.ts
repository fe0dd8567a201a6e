/**
 * The subscriptions port on SQLite: one row per subscription (indexed fields in columns, the rest in `data`), and
 * one `subscription_users` row per watched user for the fan-out. The compare-and-set and its enqueue are one
 * IMMEDIATE transaction, so a crash can neither lose what it enqueues nor let it happen twice.
 */
import { isDeepStrictEqual } from 'node:util';
import type Database from 'better-sqlite3';
import type { NewDelivery, Subscription } from '../../domain/subscription.ts';
import { encodeList, joinSubscription, splitSubscription } from '../codec.ts';
import type {
  SubscriptionCount, SubscriptionCursor, SubscriptionFilter, SubscriptionOwner, SubscriptionStorage,
} from '../ports/subscriptions.ts';
import type { SqliteDeliveries } from './deliveries.ts';

interface SubscriptionRow { id: string; tenant_id: string; application_id: string; creator_id: string; expires_at: number; data: string }
interface SubscriptionParams {
  id: string; tenantId: string; applicationId: string; creatorId: string; expiresAt: number; createdAt: number; data: string; userIds: string;
}

const toSubscription = (r: SubscriptionRow): Subscription => joinSubscription(
  { id: r.id, tenantId: r.tenant_id, applicationId: r.application_id, creatorId: r.creator_id, expiresAt: r.expires_at }, r.data);

function subscriptionParams(s: Subscription): SubscriptionParams {
  const { columns, data } = splitSubscription(s);
  return { ...columns, createdAt: s.createdAt, data, userIds: encodeList(s.userIds) };
}

/** A copy the caller may change without touching the cached one (userIds is the only part that is not a value). */
const copy = (s: Subscription): Subscription => ({ ...s, userIds: [...s.userIds] });

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
    // OR IGNORE: a resource that names a user twice watches them once.
    insertUsers: db.prepare<[SubscriptionParams]>(
      `INSERT OR IGNORE INTO subscription_users (tenant_id, user_id, subscription_id)
       SELECT @tenantId, value, @id FROM json_each(@userIds)`,
    ),
    deleteUsers: db.prepare<[string]>('DELETE FROM subscription_users WHERE subscription_id = ?'),
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
    // One statement per combination of filters, so each uses as much of subscriptions_owner as it can.
    list: {
      all: list(''),
      app: list(' AND application_id = @applicationId'),
      creator: list(' AND creator_id = @creatorId'),
      appCreator: list(' AND application_id = @applicationId AND creator_id = @creatorId'),
    },
    // One primary-key range of subscription_users, read from the index alone.
    idsForUser: db.prepare<[string, string], string>(
      'SELECT subscription_id FROM subscription_users WHERE tenant_id = ? AND user_id = ? ORDER BY subscription_id',
    ).pluck(),
    expiringBy: db.prepare<[number, number], SubscriptionRow>(
      `SELECT ${COLUMNS} FROM subscriptions WHERE expires_at <= ? ORDER BY expires_at, id LIMIT ?`,
    ),
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

  constructor(db: Database.Database, deliveries: SqliteDeliveries) {
    const s = (this.stmt = prepare(db));
    const write = (subscription: Subscription) => {
      const params = subscriptionParams(subscription);
      s.upsert.run(params);
      s.deleteUsers.run(params.id);
      s.insertUsers.run(params);
    };
    const put = db.transaction(write);
    this.txPut = (subscription) => put.immediate(subscription);
    const del = db.transaction((id: string): boolean => {
      s.deleteDeliveries.run(id);
      s.deleteUsers.run(id);
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

  /** The cached subscription (not a copy), read from the database on a miss. */
  private cached(id: string): Subscription | null {
    let s = this.cache.get(id);
    if (!s) {
      const row = this.stmt.get.get(id);
      if (!row) return null;
      this.cache.set(id, (s = toSubscription(row)));
    }
    return s;
  }

  async putSubscription(subscription: Subscription): Promise<void> {
    this.cache.delete(subscription.id);
    this.txPut(subscription);
  }

  async getSubscription(id: string): Promise<Subscription | null> {
    const s = this.cached(id);
    return s && copy(s);
  }

  async deleteSubscription(id: string): Promise<boolean> {
    this.cache.delete(id);
    return this.txDelete(id);
  }

  async compareAndSetSubscription(expected: Subscription, next: Subscription, enqueue?: readonly NewDelivery[]): Promise<boolean> {
    this.cache.delete(expected.id);
    return this.txCompareAndSet(expected, next, enqueue);
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

  async listSubscriptionPage(owner: SubscriptionOwner, after: SubscriptionCursor | null, limit: number): Promise<Subscription[]> {
    // Nothing sorts before (-1, ''): createdAt is an epoch instant.
    const from = after ?? { createdAt: -1, id: '' };
    return this.stmt.page.all({ ...owner, createdAt: from.createdAt, id: from.id, limit }).map(toSubscription);
  }

  async subscriptionsForUser(tenantId: string, userId: string): Promise<Subscription[]> {
    const result: Subscription[] = [];
    for (const id of this.stmt.idsForUser.all(tenantId, userId)) {
      // Always found: a subscription and its subscription_users rows are written and deleted together.
      const s = this.cached(id);
      if (s) result.push(copy(s));
    }
    return result;
  }

  async subscriptionsExpiringBy(at: number, limit: number): Promise<Subscription[]> {
    return this.stmt.expiringBy.all(at, limit).map(toSubscription);
  }

  async nextSubscriptionExpiry(): Promise<number | null> {
    return this.stmt.nextExpiry.get() ?? null;
  }
}
