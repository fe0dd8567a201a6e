/**
 * The delivery queue port on SQLite. A lease is `leased_until`; claiming selects and leases in one IMMEDIATE
 * transaction, so two deliverers never claim the same delivery.
 */
import type Database from 'better-sqlite3';
import type { Delivery, NewDelivery } from '../../domain/subscription.ts';
import { decodeItem, decodeResourceView, encodeItem, encodeList, encodeResourceView } from '../codec.ts';
import type { DeliveryQueuePort, DeliveryReschedule } from '../ports/deliveries.ts';
import { rowId, rowIds } from './ids.ts';

interface DeliveryRow {
  id: number; subscription_id: string; tenant_id: string; kind: Delivery['kind']; url: string; item: string;
  resource_view: string | null; user_id: string | null; attempt: number; next_attempt_at: number; created_at: number;
}
interface DeliveryParams {
  subscriptionId: string; tenantId: string; kind: string; url: string; item: string; resourceView: string | null;
  userId: string | null; attempt: number; nextAttemptAt: number; createdAt: number;
}

const toDelivery = (r: DeliveryRow): Delivery => ({
  id: String(r.id), subscriptionId: r.subscription_id, tenantId: r.tenant_id, kind: r.kind, url: r.url,
  item: decodeItem(r.item), resourceView: decodeResourceView(r.resource_view), userId: r.user_id, attempt: r.attempt,
  nextAttemptAt: r.next_attempt_at, createdAt: r.created_at,
});

const deliveryParams = (d: NewDelivery): DeliveryParams => ({
  subscriptionId: d.subscriptionId, tenantId: d.tenantId, kind: d.kind, url: d.url, item: encodeItem(d.item),
  resourceView: encodeResourceView(d.resourceView), userId: d.userId, attempt: d.attempt,
  nextAttemptAt: d.nextAttemptAt, createdAt: d.createdAt,
});

function prepare(db: Database.Database) {
  return {
    insert: db.prepare<[DeliveryParams]>(
      `INSERT INTO deliveries (subscription_id, tenant_id, kind, url, item, resource_view, user_id, attempt,
         next_attempt_at, leased_until, created_at)
       VALUES (@subscriptionId, @tenantId, @kind, @url, @item, @resourceView, @userId, @attempt, @nextAttemptAt, NULL,
         @createdAt)`,
    ),
    // Due and not leased, i.e. ready: max(next_attempt_at, lease end) <= now, written exactly as deliveries_ready_at
    // is defined, so the claim walks that index from the earliest ready delivery and never over the ones in flight.
    // (Walking deliveries_next_attempt_at skipped every leased row on every claim: with 64 POSTs of 100 items in
    // flight, 6,400 rows per claim, most of a large fan-out's delivery cost.) Ready order: a delivery whose lease ran
    // out is ready from the lease's end.
    due: db.prepare<[{ now: number; limit: number }], DeliveryRow>(
      `SELECT id, subscription_id, tenant_id, kind, url, item, resource_view, user_id, attempt, next_attempt_at,
         created_at
       FROM deliveries
       WHERE max(next_attempt_at, coalesce(leased_until, 0)) <= @now
       ORDER BY max(next_attempt_at, coalesce(leased_until, 0)), id LIMIT @limit`,
    ),
    lease: db.prepare<[number, string]>('UPDATE deliveries SET leased_until = ? WHERE id IN (SELECT value FROM json_each(?))'),
    delete: db.prepare<[string]>('DELETE FROM deliveries WHERE id IN (SELECT value FROM json_each(?))'),
    reschedule: db.prepare<[number, number, number]>(
      'UPDATE deliveries SET next_attempt_at = ?, attempt = ?, leased_until = NULL WHERE id = ?',
    ),
    releaseAll: db.prepare<[]>('UPDATE deliveries SET leased_until = NULL WHERE leased_until IS NOT NULL'),
    // Written exactly as deliveries_ready_at is defined, so this is one index lookup, not a scan.
    nextAt: db.prepare<[], number | null>(
      'SELECT min(max(next_attempt_at, coalesce(leased_until, 0))) FROM deliveries',
    ).pluck(),
    count: db.prepare<[], number>('SELECT count(*) FROM deliveries').pluck(),
    countLeased: db.prepare<{ now: number }, number>(
      'SELECT count(*) FROM deliveries WHERE next_attempt_at <= @now AND leased_until > @now',
    ).pluck(),
  };
}

export class SqliteDeliveries implements DeliveryQueuePort {
  private readonly stmt: ReturnType<typeof prepare>;
  private readonly txEnqueue: (deliveries: readonly NewDelivery[]) => void;
  private readonly txClaim: (now: number, limit: number, leaseMs: number) => Delivery[];
  private readonly txReschedule: (items: readonly DeliveryReschedule[]) => void;

  constructor(db: Database.Database) {
    const s = (this.stmt = prepare(db));
    const enqueue = db.transaction((deliveries: readonly NewDelivery[]) => this.insert(deliveries));
    this.txEnqueue = (deliveries) => enqueue.immediate(deliveries);
    const claim = db.transaction((now: number, limit: number, leaseMs: number): Delivery[] => {
      const rows = s.due.all({ now, limit });
      if (rows.length > 0) s.lease.run(now + leaseMs, encodeList(rows.map((r) => r.id)));
      return rows.map(toDelivery);
    });
    this.txClaim = (now, limit, leaseMs) => claim.immediate(now, limit, leaseMs);
    const reschedule = db.transaction((items: readonly DeliveryReschedule[]): void => {
      for (const d of items) {
        const n = rowId(d.id);
        if (n !== null) s.reschedule.run(d.nextAttemptAt, d.attempt, n);
      }
    });
    this.txReschedule = (items) => reschedule.immediate(items);
  }

  /** Inserts inside the caller's transaction (the outbox's dispatch, a subscription's compare-and-set). */
  insert(deliveries: readonly NewDelivery[]): void {
    for (const d of deliveries) this.stmt.insert.run(deliveryParams(d));
  }

  async enqueueDeliveries(deliveries: readonly NewDelivery[]): Promise<void> {
    this.txEnqueue(deliveries);
  }

  async claimDeliveries(now: number, limit: number, leaseMs: number): Promise<Delivery[]> {
    return this.txClaim(now, limit, leaseMs);
  }

  async completeDeliveries(ids: readonly string[]): Promise<void> {
    this.stmt.delete.run(rowIds(ids));
  }

  async rescheduleDelivery(id: string, nextAttemptAt: number, attempt: number): Promise<void> {
    const n = rowId(id);
    if (n !== null) this.stmt.reschedule.run(nextAttemptAt, attempt, n);
  }

  async rescheduleDeliveries(items: readonly DeliveryReschedule[]): Promise<void> {
    this.txReschedule(items);
  }

  async releaseDeliveryLeases(): Promise<number> {
    return this.stmt.releaseAll.run().changes;
  }

  async nextDeliveryAt(): Promise<number | null> {
    return this.stmt.nextAt.get() ?? null;
  }

  async countDeliveries(): Promise<number> {
    return this.stmt.count.get()!;
  }

  async countLeasedDeliveries(now: number): Promise<number> {
    return this.stmt.countLeased.get({ now })!;
  }
}
