/**
 * The notification counters on the /metrics registry, read from the deliveries log and the store; on SQLite, the
 * size of its WAL file and of its presence journal; and what the store holds in memory, where it holds records there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeliveryLog } from '../notifications/deliveryLog.ts';
import { DB_FILE, JOURNAL_DIR, JOURNAL_FILE_PREFIX } from '../store/index.ts';
import type { Store } from '../store/types.ts';

export interface StoreMetricsSources {
  log: DeliveryLog;
  store: Pick<Store, 'countDeliveries' | 'memoryParts'>;
  /** The SQLite data folder, whose WAL file's size is reported; null on a store with no such file. */
  dataDir: string | null;
}

export function installStoreMetrics(registry: Registry, { log, store, dataDir }: StoreMetricsSources): void {
  installDeliveryMetrics(registry, log, store);
  installMemoryGauge(registry, store);
  if (dataDir === null) return;
  installWalGauge(registry, `${path.join(dataDir, DB_FILE)}-wal`);
  installJournalGauge(registry, path.join(dataDir, JOURNAL_DIR));
}

function installDeliveryMetrics(registry: Registry, log: DeliveryLog, store: Pick<Store, 'countDeliveries'>): void {
  const t = log.totals;
  new Counter({
    name: 'presently_notification_posts_total', help: 'Notification POSTs made, by result', labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: 'ok' }, t.posts - t.failedPosts);
      this.inc({ result: 'failed' }, t.failedPosts);
    },
  });
  new Counter({
    name: 'presently_notification_items_total', help: 'Notification items by outcome (dropped: by reason)',
    labelNames: ['outcome', 'reason'], registers: [registry],
    collect() {
      this.reset();
      this.inc({ outcome: 'delivered', reason: '' }, t.delivered);
      this.inc({ outcome: 'retried', reason: '' }, t.retried);
      for (const [reason, n] of Object.entries(t.dropped)) this.inc({ outcome: 'dropped', reason }, n);
    },
  });
  new Gauge({
    name: 'presently_notification_queue', help: 'Deliveries waiting in the store', registers: [registry],
    async collect() {
      this.set(await store.countDeliveries().catch(() => 0));
    },
  });
}

/**
 * `presently_store_memory_bytes{part}`: the presence journal's records in memory
 * (docs/operations/storage.md#presence-journal): `segments` the buffers held, `records` the records in them, `garbage`
 * replaced records not yet given back. Absent on a store that keeps no records in memory (its read cache is in the V8
 * heap figures).
 */
function installMemoryGauge(registry: Registry, store: Pick<Store, 'memoryParts'>): void {
  const parts = store.memoryParts?.bind(store);
  if (!parts || Object.keys(parts()).length === 0) return;
  new Gauge({
    name: 'presently_store_memory_bytes', help: 'Records the store holds in this process\'s memory, in bytes, by part',
    labelNames: ['part'], registers: [registry],
    collect() {
      this.reset();
      for (const [part, bytes] of Object.entries(parts())) this.set({ part }, bytes);
    },
  });
}

/**
 * `presently_sqlite_wal_bytes`: the size of the SQLite WAL file (`presently.db-wal`) beside the database, 0 when
 * there is none. About 80 MB under sustained writes, and cut back to that when the WAL starts over
 * (docs/operations/storage.md): a figure that keeps growing means checkpoints are not keeping up.
 */
function installWalGauge(registry: Registry, walFile: string): void {
  new Gauge({
    name: 'presently_sqlite_wal_bytes', help: 'Size of the SQLite WAL file in bytes (0: none)', registers: [registry],
    collect() {
      try {
        this.set(fs.statSync(walFile).size);
      } catch {
        this.set(0);
      }
    },
  });
}

/**
 * `presently_presence_journal_bytes`: the presence journal's files after its last snapshot, what a start replays (0
 * with the records in the presence table). Cut back each time a snapshot is written, when it has grown as large as the
 * state (docs/operations/storage.md#presence-journal): a figure that keeps growing means snapshots are failing.
 */
function installJournalGauge(registry: Registry, dir: string): void {
  new Gauge({
    name: 'presently_presence_journal_bytes', help: 'Size of the presence journal after its last snapshot in bytes (0: none)',
    registers: [registry],
    collect() {
      let bytes = 0;
      try {
        for (const name of fs.readdirSync(dir)) {
          if (name.startsWith(JOURNAL_FILE_PREFIX)) bytes += fs.statSync(path.join(dir, name), { throwIfNoEntry: false })?.size ?? 0;
        }
      } catch {
        // No journal folder: the records are in the presence table.
      }
      this.set(bytes);
    },
  });
}
