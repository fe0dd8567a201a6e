/** The notification counters on the /metrics registry, read from the deliveries log and the store. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeliveryLog } from '../notifications/deliveryLog.ts';
import type { Store } from '../store/types.ts';

export function installDeliveryMetrics(registry: Registry, log: DeliveryLog, store: Pick<Store, 'countDeliveries'>): void {
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
