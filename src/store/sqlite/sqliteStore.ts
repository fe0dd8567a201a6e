/**
 * The Store on SQLite (better-sqlite3): the embedded default, and — on ':memory:' — the in-memory store for tests.
 * better-sqlite3 is synchronous, so every operation runs to completion (its transaction committed) before the
 * promise it returns is created: a resolved write is a committed write.
 *
 * Webhook endpoint health (the slow-endpoint samples and throttle turns) is kept in this object, not in the database:
 * SQLite is exclusive to one process, so nobody else needs it, and it is what the deliverer kept in memory before it
 * moved into the store — forgotten on restart, as an endpoint's health an hour old is anyway.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Transition } from '../../domain/record.ts';
import type { PresenceFacts, PresenceRecord, PresenceView } from '../../domain/types.ts';
import type { ChangeEvent, Delivery, NewDelivery, Subscription } from '../../domain/subscription.ts';
import { UpnTaken } from '../errors.ts';
import type { App, DeliveryReschedule, EndpointSample, PresenceKey, PresenceSnapshot, PresenceUpdate, Store, Tenant, User } from '../types.ts';
import { migrate } from './migrations.ts';

interface NameRow { id: string; display_name: string }
interface UserRow { tenant_id: string; id: string; display_name: string; upn: string }
interface PresenceRow { facts: string; view: string; seq: string; due_at: number | null }
/** Read with .raw(): arrays skip building a keyed object per row, measurably faster for hundreds of rows. */
type SnapshotRow = [userId: string, view: string, seq: string, dueAt: number | null];
interface PresenceParams { tenantId: string; userId: string; facts: string; view: string; seq: string; dueAt: number | null }

interface ChangeRow { id: number; tenant_id: string; user_id: string; seq: string; view: string; at: number }
interface ChangeParams { tenantId: string; userId: string; seq: string; view: string; at: number }

/** The columns of a subscription; everything else is in `data`. */
type SubscriptionColumns = 'id' | 'tenantId' | 'applicationId' | 'creatorId' | 'expiresAt';
type SubscriptionData = Omit<Subscription, SubscriptionColumns>;
interface SubscriptionRow { id: string; tenant_id: string; application_id: string; creator_id: string; expires_at: number; data: string }
interface SubscriptionParams {
  id: string; tenantId: string; applicationId: string; creatorId: string; expiresAt: number; data: string; userIds: string;
}
interface SubscriptionFilterParams { tenantId: string; applicationId?: string; creatorId?: string }

interface DeliveryRow {
  id: number; subscription_id: string; tenant_id: string; kind: Delivery['kind']; url: string; item: string;
  resource_view: string | null; user_id: string | null; attempt: number; next_attempt_at: number; created_at: number;
}
interface DeliveryParams {
  subscriptionId: string; tenantId: string; kind: string; url: string; item: string; resourceView: string | null;
  userId: string | null; attempt: number; nextAttemptAt: number; createdAt: number;
}

const toTenant = (r: NameRow): Tenant => ({ id: r.id, displayName: r.display_name });
const toApp = (r: NameRow): App => ({ id: r.id, displayName: r.display_name });
const toUser = (r: UserRow): User => ({
  tenantId: r.tenant_id, id: r.id, displayName: r.display_name, userPrincipalName: r.upn,
});
const toRecord = (r: PresenceRow): PresenceRecord => ({
  facts: JSON.parse(r.facts) as PresenceFacts,
  view: JSON.parse(r.view) as PresenceView,
  sequenceNumber: r.seq,
  dueAt: r.due_at,
});
const presenceParams = (tenantId: string, userId: string, record: PresenceRecord): PresenceParams => ({
  tenantId,
  userId,
  facts: JSON.stringify(record.facts),
  view: JSON.stringify(record.view),
  seq: record.sequenceNumber,
  dueAt: record.dueAt,
});

const toChange = (r: ChangeRow): ChangeEvent => ({
  id: String(r.id),
  tenantId: r.tenant_id,
  userId: r.user_id,
  sequenceNumber: r.seq,
  view: JSON.parse(r.view) as PresenceView,
  at: r.at,
});

const toSubscription = (r: SubscriptionRow): Subscription => ({
  ...(JSON.parse(r.data) as SubscriptionData),
  id: r.id,
  tenantId: r.tenant_id,
  applicationId: r.application_id,
  creatorId: r.creator_id,
  expiresAt: r.expires_at,
});
/** A copy the caller may change without touching the cached one (userIds is the only part that is not a value). */
const copySubscription = (s: Subscription): Subscription => ({ ...s, userIds: [...s.userIds] });
function subscriptionParams(subscription: Subscription): SubscriptionParams {
  const { id, tenantId, applicationId, creatorId, expiresAt, ...data } = subscription;
  return {
    id, tenantId, applicationId, creatorId, expiresAt, data: JSON.stringify(data), userIds: JSON.stringify(data.userIds),
  };
}

const toDelivery = (r: DeliveryRow): Delivery => ({
  id: String(r.id),
  subscriptionId: r.subscription_id,
  tenantId: r.tenant_id,
  kind: r.kind,
  url: r.url,
  item: JSON.parse(r.item) as Record<string, unknown>,
  resourceView: r.resource_view === null ? null : JSON.parse(r.resource_view) as PresenceView,
  userId: r.user_id,
  attempt: r.attempt,
  nextAttemptAt: r.next_attempt_at,
  createdAt: r.created_at,
});
const deliveryParams = (d: NewDelivery): DeliveryParams => ({
  subscriptionId: d.subscriptionId,
  tenantId: d.tenantId,
  kind: d.kind,
  url: d.url,
  item: JSON.stringify(d.item),
  resourceView: d.resourceView === null ? null : JSON.stringify(d.resourceView),
  userId: d.userId,
  attempt: d.attempt,
  nextAttemptAt: d.nextAttemptAt,
  createdAt: d.createdAt,
});

/** The row id behind a store-assigned id, or null for an id this store cannot have handed out (it matches no row). */
function rowId(id: string): number | null {
  const n = /^[1-9][0-9]*$/.test(id) ? Number(id) : NaN;
  return Number.isSafeInteger(n) ? n : null;
}

/** Store-assigned ids as one JSON array of row ids, for `IN (SELECT value FROM json_each(?))`. */
function rowIds(ids: readonly string[]): string {
  return JSON.stringify(ids.map(rowId).filter((n) => n !== null));
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Every statement the store runs, prepared once when it opens. */
function prepare(db: Database.Database) {
  return {
    ping: db.prepare('SELECT 1'),

    getMeta: db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck(),
    setMeta: db.prepare<[string, string]>(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    insertMetaIfAbsent: db.prepare<[string, string]>(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING',
    ),

    putTenant: db.prepare<[string, string]>(
      'INSERT INTO tenants (id, display_name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name',
    ),
    getTenant: db.prepare<[string], NameRow>('SELECT id, display_name FROM tenants WHERE id = ?'),
    listTenants: db.prepare<[], NameRow>('SELECT id, display_name FROM tenants ORDER BY id'),

    updateUser: db.prepare<[{ tenantId: string; id: string; displayName: string; upn: string; upnLower: string }]>(
      `UPDATE users SET display_name = @displayName, upn = @upn, upn_lower = @upnLower
       WHERE tenant_id = @tenantId AND id = @id`,
    ),
    insertUser: db.prepare<[{ tenantId: string; id: string; displayName: string; upn: string; upnLower: string }]>(
      `INSERT INTO users (tenant_id, id, display_name, upn, upn_lower)
       VALUES (@tenantId, @id, @displayName, @upn, @upnLower)`,
    ),
    getUser: db.prepare<[string, string], UserRow>(
      'SELECT tenant_id, id, display_name, upn FROM users WHERE tenant_id = ? AND id = ?',
    ),
    findUserByUpn: db.prepare<[string], UserRow>(
      'SELECT tenant_id, id, display_name, upn FROM users WHERE upn_lower = ?',
    ),
    listUsers: db.prepare<[string], UserRow>(
      'SELECT tenant_id, id, display_name, upn FROM users WHERE tenant_id = ? ORDER BY id',
    ),
    deleteUser: db.prepare<[string, string]>('DELETE FROM users WHERE tenant_id = ? AND id = ?'),

    putApp: db.prepare<[string, string]>(
      'INSERT INTO apps (id, display_name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name',
    ),
    getApp: db.prepare<[string], NameRow>('SELECT id, display_name FROM apps WHERE id = ?'),
    listApps: db.prepare<[], NameRow>('SELECT id, display_name FROM apps ORDER BY id'),

    insertPresence: db.prepare<[PresenceParams]>(
      `INSERT INTO presence (tenant_id, user_id, facts, view, seq, due_at)
       VALUES (@tenantId, @userId, @facts, @view, @seq, @dueAt)`,
    ),
    updatePresence: db.prepare<[PresenceParams]>(
      `UPDATE presence SET facts = @facts, view = @view, seq = @seq, due_at = @dueAt
       WHERE tenant_id = @tenantId AND user_id = @userId`,
    ),
    deletePresence: db.prepare<[string, string]>('DELETE FROM presence WHERE tenant_id = ? AND user_id = ?'),
    getPresence: db.prepare<[string, string], PresenceRow>(
      'SELECT facts, view, seq, due_at FROM presence WHERE tenant_id = ? AND user_id = ?',
    ),
    // The ids travel as one JSON array, so one prepared statement serves any number of them: one primary-key
    // lookup per id. For 650 of 10,000 users this beat a loop of single-row lookups (see getSnapshots.bench.ts).
    getSnapshots: db.prepare<[string, string], SnapshotRow>(
      `SELECT user_id, view, seq, due_at FROM presence
       WHERE tenant_id = ? AND user_id IN (SELECT value FROM json_each(?))`,
    ).raw(),

    // `due_at IS NOT NULL` lets SQLite use the partial index; ordering by the whole index key (the primary key is
    // part of every index of a WITHOUT ROWID table) makes ties come out in a stable order without a sort.
    dueUsers: db.prepare<[number, number], { tenant_id: string; user_id: string }>(
      `SELECT tenant_id, user_id FROM presence
       WHERE due_at IS NOT NULL AND due_at <= ?
       ORDER BY due_at, tenant_id, user_id LIMIT ?`,
    ),
    nextDueAt: db.prepare<[], number | null>('SELECT min(due_at) FROM presence WHERE due_at IS NOT NULL').pluck(),

    insertChange: db.prepare<[ChangeParams]>(
      'INSERT INTO changes (tenant_id, user_id, seq, view, at) VALUES (@tenantId, @userId, @seq, @view, @at)',
    ),
    readChanges: db.prepare<[number], ChangeRow>(
      'SELECT id, tenant_id, user_id, seq, view, at FROM changes ORDER BY id LIMIT ?',
    ),
    deleteChanges: db.prepare<[string]>('DELETE FROM changes WHERE id IN (SELECT value FROM json_each(?))'),

    upsertSubscription: db.prepare<[SubscriptionParams]>(
      `INSERT INTO subscriptions (id, tenant_id, application_id, creator_id, expires_at, data)
       VALUES (@id, @tenantId, @applicationId, @creatorId, @expiresAt, @data)
       ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, application_id = excluded.application_id,
         creator_id = excluded.creator_id, expires_at = excluded.expires_at, data = excluded.data`,
    ),
    // OR IGNORE: a resource that names a user twice watches them once.
    insertSubscriptionUsers: db.prepare<[SubscriptionParams]>(
      `INSERT OR IGNORE INTO subscription_users (tenant_id, user_id, subscription_id)
       SELECT @tenantId, value, @id FROM json_each(@userIds)`,
    ),
    deleteSubscriptionUsers: db.prepare<[string]>('DELETE FROM subscription_users WHERE subscription_id = ?'),
    deleteSubscriptionDeliveries: db.prepare<[string]>('DELETE FROM deliveries WHERE subscription_id = ?'),
    deleteSubscription: db.prepare<[string]>('DELETE FROM subscriptions WHERE id = ?'),
    getSubscription: db.prepare<[string], SubscriptionRow>(
      'SELECT id, tenant_id, application_id, creator_id, expires_at, data FROM subscriptions WHERE id = ?',
    ),
    // One statement per combination of filters, so each uses as much of subscriptions_tenant as it can.
    listSubscriptions: {
      all: db.prepare<[SubscriptionFilterParams], SubscriptionRow>(
        `SELECT id, tenant_id, application_id, creator_id, expires_at, data FROM subscriptions
         WHERE tenant_id = @tenantId ORDER BY id`,
      ),
      app: db.prepare<[SubscriptionFilterParams], SubscriptionRow>(
        `SELECT id, tenant_id, application_id, creator_id, expires_at, data FROM subscriptions
         WHERE tenant_id = @tenantId AND application_id = @applicationId ORDER BY id`,
      ),
      creator: db.prepare<[SubscriptionFilterParams], SubscriptionRow>(
        `SELECT id, tenant_id, application_id, creator_id, expires_at, data FROM subscriptions
         WHERE tenant_id = @tenantId AND creator_id = @creatorId ORDER BY id`,
      ),
      appCreator: db.prepare<[SubscriptionFilterParams], SubscriptionRow>(
        `SELECT id, tenant_id, application_id, creator_id, expires_at, data FROM subscriptions
         WHERE tenant_id = @tenantId AND application_id = @applicationId AND creator_id = @creatorId ORDER BY id`,
      ),
    },
    // One primary-key range of subscription_users, read from the index alone.
    subscriptionIdsForUser: db.prepare<[string, string], string>(
      'SELECT subscription_id FROM subscription_users WHERE tenant_id = ? AND user_id = ? ORDER BY subscription_id',
    ).pluck(),
    subscriptionsExpiringBy: db.prepare<[number, number], SubscriptionRow>(
      `SELECT id, tenant_id, application_id, creator_id, expires_at, data FROM subscriptions
       WHERE expires_at <= ? ORDER BY expires_at, id LIMIT ?`,
    ),
    nextSubscriptionExpiry: db.prepare<[], number | null>('SELECT min(expires_at) FROM subscriptions').pluck(),

    insertDelivery: db.prepare<[DeliveryParams]>(
      `INSERT INTO deliveries (subscription_id, tenant_id, kind, url, item, resource_view, user_id, attempt,
         next_attempt_at, leased_until, created_at)
       VALUES (@subscriptionId, @tenantId, @kind, @url, @item, @resourceView, @userId, @attempt, @nextAttemptAt, NULL,
         @createdAt)`,
    ),
    // Walks deliveries_next_attempt_at from the earliest; only the deliveries in flight are skipped over.
    dueDeliveries: db.prepare<[{ now: number; limit: number }], DeliveryRow>(
      `SELECT id, subscription_id, tenant_id, kind, url, item, resource_view, user_id, attempt, next_attempt_at,
         created_at
       FROM deliveries
       WHERE next_attempt_at <= @now AND (leased_until IS NULL OR leased_until <= @now)
       ORDER BY next_attempt_at, id LIMIT @limit`,
    ),
    leaseDeliveries: db.prepare<[number, string]>(
      'UPDATE deliveries SET leased_until = ? WHERE id IN (SELECT value FROM json_each(?))',
    ),
    deleteDeliveries: db.prepare<[string]>('DELETE FROM deliveries WHERE id IN (SELECT value FROM json_each(?))'),
    rescheduleDelivery: db.prepare<[number, number, number]>(
      'UPDATE deliveries SET next_attempt_at = ?, attempt = ?, leased_until = NULL WHERE id = ?',
    ),
    releaseDeliveryLeases: db.prepare<[]>('UPDATE deliveries SET leased_until = NULL WHERE leased_until IS NOT NULL'),
    // Written exactly as deliveries_ready_at is defined, so this is one index lookup, not a scan.
    nextDeliveryAt: db.prepare<[], number | null>(
      'SELECT min(max(next_attempt_at, coalesce(leased_until, 0))) FROM deliveries',
    ).pluck(),
    countDeliveries: db.prepare<[], number>('SELECT count(*) FROM deliveries').pluck(),
    countLeasedDeliveries: db.prepare<{ now: number }, number>(
      'SELECT count(*) FROM deliveries WHERE next_attempt_at <= @now AND leased_until > @now',
    ).pluck(),
  };
}

export class SqliteStore implements Store {
  readonly kind: 'sqlite' | 'memory';
  /** SQLite is opened by one process at a time: it sees every write. */
  readonly exclusive = true;
  private readonly stmt: ReturnType<typeof prepare>;
  private readonly txSetMetaIfAbsent: (key: string, value: string) => string;
  private readonly txPutUser: (user: User, initial: PresenceRecord) => boolean;
  private readonly txDeleteUser: (tenantId: string, userId: string) => boolean;
  private readonly txUpdatePresence: (tenantId: string, userId: string, fn: PresenceUpdate) => Transition | null | undefined;
  private readonly txDispatchChanges: (eventIds: string, deliveries: readonly NewDelivery[]) => boolean;
  private readonly txPutSubscription: (subscription: Subscription) => void;
  private readonly txDeleteSubscription: (id: string) => boolean;
  private readonly txMarkReauthorizationNotified: (id: string, expiresAt: number, at: number, since: number, notice?: NewDelivery) => boolean;
  private readonly txEnqueueDeliveries: (deliveries: readonly NewDelivery[]) => void;
  private readonly txClaimDeliveries: (now: number, limit: number, leaseMs: number) => Delivery[];
  private readonly txRescheduleDeliveries: (items: readonly DeliveryReschedule[]) => void;
  /** Webhook endpoint health, by URL (see the header). */
  private readonly endpoints = new Map<string, { samples: EndpointSample[]; turnUntil: number }>();
  /**
   * Parsed subscriptions by id, filled as they are read and kept in step by putSubscription and deleteSubscription
   * (this process is the only writer). A subscription carries up to 650 user ids, twice (userIds and resource): for a
   * user with 1,000 watchers, parsing them on every change took ~175 ms of blocked event loop (notifications.bench.ts).
   * Callers always get copies.
   */
  private readonly subscriptions = new Map<string, Subscription>();

  /** Use openSqliteStore. */
  constructor(private readonly db: Database.Database, readonly path: string) {
    this.kind = db.memory ? 'memory' : 'sqlite';
    const s = (this.stmt = prepare(db));

    const setMetaIfAbsent = db.transaction((key: string, value: string): string => {
      s.insertMetaIfAbsent.run(key, value);
      return s.getMeta.get(key)!;
    });
    this.txSetMetaIfAbsent = (key, value) => setMetaIfAbsent.immediate(key, value);

    const putUser = db.transaction((user: User, initial: PresenceRecord): boolean => {
      const row = {
        tenantId: user.tenantId,
        id: user.id,
        displayName: user.displayName,
        upn: user.userPrincipalName,
        upnLower: user.userPrincipalName.toLowerCase(),
      };
      if (s.updateUser.run(row).changes > 0) return false;
      s.insertUser.run(row);
      s.insertPresence.run(presenceParams(user.tenantId, user.id, initial));
      return true;
    });
    this.txPutUser = (user, initial) => {
      try {
        return putUser.immediate(user, initial);
      } catch (err) {
        // The primary key cannot clash (an existing user is updated), so a unique violation is the UPN's.
        if (isUniqueViolation(err)) throw new UpnTaken(user.userPrincipalName);
        throw err;
      }
    };

    const deleteUser = db.transaction((tenantId: string, userId: string): boolean => {
      s.deletePresence.run(tenantId, userId);
      return s.deleteUser.run(tenantId, userId).changes > 0;
    });
    this.txDeleteUser = (tenantId, userId) => deleteUser.immediate(tenantId, userId);

    // IMMEDIATE takes the write lock before the read, so no other connection can write between read and write.
    const updatePresence = db.transaction((tenantId: string, userId: string, fn: PresenceUpdate) => {
      const row = s.getPresence.get(tenantId, userId);
      if (!row) return undefined;
      const result = fn(toRecord(row));
      if (result === null) return null;
      const params = presenceParams(tenantId, userId, result.record);
      s.updatePresence.run(params);
      // The outbox event commits (or rolls back) with the change itself.
      if (result.changed) s.insertChange.run({ tenantId, userId, seq: params.seq, view: params.view, at: result.at });
      return result;
    });
    this.txUpdatePresence = (tenantId, userId, fn) => updatePresence.immediate(tenantId, userId, fn);

    const insertDeliveries = (deliveries: readonly NewDelivery[]) => {
      for (const d of deliveries) s.insertDelivery.run(deliveryParams(d));
    };

    // Only the dispatcher that removes an event enqueues what it produced: a second one racing on the same ids
    // deletes nothing and adds nothing.
    const dispatchChanges = db.transaction((eventIds: string, deliveries: readonly NewDelivery[]): boolean => {
      if (s.deleteChanges.run(eventIds).changes === 0) return false;
      insertDeliveries(deliveries);
      return true;
    });
    this.txDispatchChanges = (eventIds, deliveries) => dispatchChanges.immediate(eventIds, deliveries);

    const putSubscription = db.transaction((subscription: Subscription) => {
      const params = subscriptionParams(subscription);
      s.upsertSubscription.run(params);
      s.deleteSubscriptionUsers.run(params.id);
      s.insertSubscriptionUsers.run(params);
    });
    this.txPutSubscription = (subscription) => putSubscription.immediate(subscription);

    const deleteSubscription = db.transaction((id: string): boolean => {
      s.deleteSubscriptionDeliveries.run(id);
      s.deleteSubscriptionUsers.run(id);
      return s.deleteSubscription.run(id).changes > 0;
    });
    this.txDeleteSubscription = (id) => deleteSubscription.immediate(id);

    // The mark and the notice commit together: a crash can neither lose the notice nor send it twice.
    const markReauthorizationNotified = db.transaction(
      (id: string, expiresAt: number, at: number, since: number, notice?: NewDelivery): boolean => {
        const row = s.getSubscription.get(id);
        if (!row) return false;
        const sub = toSubscription(row);
        const marked = sub.reauthorizationNotifiedAt;
        if (sub.expiresAt !== expiresAt || (marked !== null && marked >= since)) return false;
        s.upsertSubscription.run(subscriptionParams({ ...sub, reauthorizationNotifiedAt: at }));
        if (notice) insertDeliveries([notice]);
        return true;
      },
    );
    this.txMarkReauthorizationNotified = (id, expiresAt, at, since, notice) =>
      markReauthorizationNotified.immediate(id, expiresAt, at, since, notice);

    const enqueueDeliveries = db.transaction(insertDeliveries);
    this.txEnqueueDeliveries = (deliveries) => enqueueDeliveries.immediate(deliveries);

    // IMMEDIATE: the select and the lease are one step, so two deliverers never claim the same delivery.
    const claimDeliveries = db.transaction((now: number, limit: number, leaseMs: number): Delivery[] => {
      const rows = s.dueDeliveries.all({ now, limit });
      if (rows.length > 0) s.leaseDeliveries.run(now + leaseMs, JSON.stringify(rows.map((r) => r.id)));
      return rows.map(toDelivery);
    });
    this.txClaimDeliveries = (now, limit, leaseMs) => claimDeliveries.immediate(now, limit, leaseMs);

    const rescheduleDeliveries = db.transaction((items: readonly DeliveryReschedule[]): void => {
      for (const d of items) {
        const n = rowId(d.id);
        if (n !== null) s.rescheduleDelivery.run(d.nextAttemptAt, d.attempt, n);
      }
    });
    this.txRescheduleDeliveries = (items) => rescheduleDeliveries.immediate(items);
  }

  async ping(): Promise<boolean> {
    try {
      this.stmt.ping.get();
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async getMeta(key: string): Promise<string | null> {
    return this.stmt.getMeta.get(key) ?? null;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.stmt.setMeta.run(key, value);
  }

  async setMetaIfAbsent(key: string, value: string): Promise<string> {
    return this.txSetMetaIfAbsent(key, value);
  }

  async putTenant(tenant: Tenant): Promise<void> {
    this.stmt.putTenant.run(tenant.id, tenant.displayName);
  }

  async getTenant(id: string): Promise<Tenant | null> {
    const row = this.stmt.getTenant.get(id);
    return row ? toTenant(row) : null;
  }

  async listTenants(): Promise<Tenant[]> {
    return this.stmt.listTenants.all().map(toTenant);
  }

  async putUser(user: User, initial: PresenceRecord): Promise<boolean> {
    return this.txPutUser(user, initial);
  }

  async getUser(tenantId: string, userId: string): Promise<User | null> {
    const row = this.stmt.getUser.get(tenantId, userId);
    return row ? toUser(row) : null;
  }

  async findUserByUpn(upn: string): Promise<User | null> {
    const row = this.stmt.findUserByUpn.get(upn.toLowerCase());
    return row ? toUser(row) : null;
  }

  async listUsers(tenantId: string): Promise<User[]> {
    return this.stmt.listUsers.all(tenantId).map(toUser);
  }

  async deleteUser(tenantId: string, userId: string): Promise<boolean> {
    return this.txDeleteUser(tenantId, userId);
  }

  async putApp(app: App): Promise<void> {
    this.stmt.putApp.run(app.id, app.displayName);
  }

  async getApp(id: string): Promise<App | null> {
    const row = this.stmt.getApp.get(id);
    return row ? toApp(row) : null;
  }

  async listApps(): Promise<App[]> {
    return this.stmt.listApps.all().map(toApp);
  }

  async getPresence(tenantId: string, userId: string): Promise<PresenceRecord | null> {
    const row = this.stmt.getPresence.get(tenantId, userId);
    return row ? toRecord(row) : null;
  }

  async getSnapshots(tenantId: string, userIds: readonly string[]): Promise<Map<string, PresenceSnapshot>> {
    const result = new Map<string, PresenceSnapshot>();
    if (userIds.length === 0) return result;
    // Only the view is parsed: the facts, the bulk of a record, stay in the database.
    for (const [userId, view, seq, dueAt] of this.stmt.getSnapshots.all(tenantId, JSON.stringify(userIds))) {
      result.set(userId, { view: JSON.parse(view) as PresenceView, sequenceNumber: seq, dueAt });
    }
    return result;
  }

  async updatePresence(tenantId: string, userId: string, fn: PresenceUpdate): Promise<Transition | null | undefined> {
    return this.txUpdatePresence(tenantId, userId, fn);
  }

  async dueUsers(now: number, limit: number): Promise<PresenceKey[]> {
    // SQLite reads a negative LIMIT as "no limit"; LIMIT 0 needs no query.
    if (limit <= 0) return [];
    return this.stmt.dueUsers.all(now, limit).map((r) => ({ tenantId: r.tenant_id, userId: r.user_id }));
  }

  async nextDueAt(): Promise<number | null> {
    return this.stmt.nextDueAt.get() ?? null;
  }

  async readChanges(limit: number): Promise<ChangeEvent[]> {
    if (limit <= 0) return [];
    return this.stmt.readChanges.all(limit).map(toChange);
  }

  async dispatchChanges(eventIds: readonly string[], deliveries: readonly NewDelivery[]): Promise<boolean> {
    return this.txDispatchChanges(rowIds(eventIds), deliveries);
  }

  async putSubscription(subscription: Subscription): Promise<void> {
    this.subscriptions.delete(subscription.id);
    this.txPutSubscription(subscription);
  }

  /** The cached subscription (not a copy), read from the database on a miss. */
  private subscription(id: string): Subscription | null {
    let s = this.subscriptions.get(id);
    if (!s) {
      const row = this.stmt.getSubscription.get(id);
      if (!row) return null;
      this.subscriptions.set(id, (s = toSubscription(row)));
    }
    return s;
  }

  async getSubscription(id: string): Promise<Subscription | null> {
    const s = this.subscription(id);
    return s && copySubscription(s);
  }

  async deleteSubscription(id: string): Promise<boolean> {
    this.subscriptions.delete(id);
    return this.txDeleteSubscription(id);
  }

  async markReauthorizationNotified(id: string, expiresAt: number, at: number, since: number, notice?: NewDelivery): Promise<boolean> {
    this.subscriptions.delete(id);
    return this.txMarkReauthorizationNotified(id, expiresAt, at, since, notice);
  }

  async listSubscriptions(filter: SubscriptionFilterParams): Promise<Subscription[]> {
    const { all, app, creator, appCreator } = this.stmt.listSubscriptions;
    const byApp = filter.applicationId !== undefined;
    const byCreator = filter.creatorId !== undefined;
    const stmt = byApp ? (byCreator ? appCreator : app) : (byCreator ? creator : all);
    return stmt.all(filter).map(toSubscription);
  }

  async subscriptionsForUser(tenantId: string, userId: string): Promise<Subscription[]> {
    const result: Subscription[] = [];
    for (const id of this.stmt.subscriptionIdsForUser.all(tenantId, userId)) {
      // Always found: a subscription and its subscription_users rows are written and deleted together.
      const s = this.subscription(id);
      if (s) result.push(copySubscription(s));
    }
    return result;
  }

  async subscriptionsExpiringBy(at: number, limit: number): Promise<Subscription[]> {
    if (limit <= 0) return [];
    return this.stmt.subscriptionsExpiringBy.all(at, limit).map(toSubscription);
  }

  async nextSubscriptionExpiry(): Promise<number | null> {
    return this.stmt.nextSubscriptionExpiry.get() ?? null;
  }

  async enqueueDeliveries(deliveries: readonly NewDelivery[]): Promise<void> {
    if (deliveries.length > 0) this.txEnqueueDeliveries(deliveries);
  }

  async claimDeliveries(now: number, limit: number, leaseMs: number): Promise<Delivery[]> {
    if (limit <= 0) return [];
    return this.txClaimDeliveries(now, limit, leaseMs);
  }

  async completeDeliveries(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) this.stmt.deleteDeliveries.run(rowIds(ids));
  }

  async rescheduleDelivery(id: string, nextAttemptAt: number, attempt: number): Promise<void> {
    const n = rowId(id);
    if (n !== null) this.stmt.rescheduleDelivery.run(nextAttemptAt, attempt, n);
  }

  async rescheduleDeliveries(items: readonly DeliveryReschedule[]): Promise<void> {
    if (items.length > 0) this.txRescheduleDeliveries(items);
  }

  async releaseDeliveryLeases(): Promise<number> {
    return this.stmt.releaseDeliveryLeases.run().changes;
  }

  async nextDeliveryAt(): Promise<number | null> {
    return this.stmt.nextDeliveryAt.get() ?? null;
  }

  async countDeliveries(): Promise<number> {
    return this.stmt.countDeliveries.get()!;
  }

  async countLeasedDeliveries(now: number): Promise<number> {
    return this.stmt.countLeasedDeliveries.get({ now })!;
  }

  // ---- webhook endpoints (in memory: see the header) ----

  private endpoint(url: string): { samples: EndpointSample[]; turnUntil: number } {
    let ep = this.endpoints.get(url);
    if (!ep) {
      // Bounded: past MAX_ENDPOINTS, the endpoint recorded longest ago is forgotten.
      if (this.endpoints.size >= MAX_ENDPOINTS) this.endpoints.delete(this.endpoints.keys().next().value!);
      this.endpoints.set(url, (ep = { samples: [], turnUntil: -Infinity }));
    }
    return ep;
  }

  async recordEndpointDuration(url: string, durationMs: number, at: number, keep: number): Promise<EndpointSample[]> {
    const ep = this.endpoint(url);
    // Most recently recorded last in the map's order: eviction takes the stalest endpoint.
    this.endpoints.delete(url);
    this.endpoints.set(url, ep);
    ep.samples.push({ at, ms: durationMs });
    const excess = ep.samples.length - Math.max(1, keep);
    if (excess > 0) ep.samples.splice(0, excess);
    return ep.samples.map((s) => ({ ...s }));
  }

  async endpointDurations(url: string): Promise<EndpointSample[]> {
    return (this.endpoints.get(url)?.samples ?? []).map((s) => ({ ...s }));
  }

  async takeEndpointTurn(url: string, now: number, until: number): Promise<{ taken: boolean; until: number }> {
    const ep = this.endpoint(url);
    if (ep.turnUntil > now) return { taken: false, until: ep.turnUntil };
    ep.turnUntil = until;
    return { taken: true, until };
  }
}

/** Endpoints whose health the SQLite store keeps in memory at most. */
const MAX_ENDPOINTS = 10_000;

/**
 * Opens (creating if needed) the database at `path` and brings its schema up to date; ':memory:' gives a private
 * in-memory database with the same schema and code, gone when closed.
 */
export function openSqliteStore(opts: { path: string | ':memory:' }): SqliteStore {
  const memory = opts.path === ':memory:';
  if (!memory) fs.mkdirSync(path.dirname(path.resolve(opts.path)), { recursive: true });
  const db = new Database(opts.path);
  try {
    // Wait for another connection's lock instead of failing at once with SQLITE_BUSY.
    db.pragma('busy_timeout = 5000');
    if (!memory) {
      db.pragma('journal_mode = WAL');
      // In WAL mode, NORMAL syncs the WAL only at checkpoints, not at every commit. A committed transaction is
      // already in the WAL file (written to the OS before COMMIT returns), so it survives the process crashing or
      // being killed with SIGKILL; only an OS crash or power loss could lose the last commits. That is the
      // durability Presently promises (product.md §5: kill -9 loses no acknowledged write), at a fraction of FULL's cost.
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    migrate(db);
    return new SqliteStore(db, opts.path);
  } catch (err) {
    db.close();
    throw err;
  }
}
