/**
 * `GET /_presently/deliveries` (notifications.md §4): recent delivery attempts from the in-memory deliveries log,
 * newest last, optionally `?subscriptionId=`. Open in dev auth mode; otherwise it needs `Presently.Admin`, and a
 * failed attempt's network error and timing are not shown: per-target errors (refused, unreachable, TLS…) would make
 * the endpoint an oracle for scanning the server's network through webhook URLs.
 * Also registers the notification counters on the /metrics registry.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { authorizeAdmin } from '../auth/permissions.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import type { DeliveryLog, DeliveryLogEntry } from '../notifications/deliveryLog.ts';
import type { Store } from '../store/types.ts';
import { badRequest } from '../http/errors.ts';
import { resource } from '../http/wire.ts';

export interface DeliveriesDeps {
  log: DeliveryLog;
  store: Store;
  authMode: string;
  verifier: TokenVerifier;
  registry?: Registry;
}

export function deliveriesRoutes(app: FastifyInstance, deps: DeliveriesDeps): void {
  resource(app, '/_presently/deliveries', {
    GET: async (request) => {
      if (deps.authMode !== 'dev') authorizeAdmin(await deps.verifier.verify(request.headers.authorization));
      const q = (request.query ?? {}) as Record<string, unknown>;
      const sid = q.subscriptionId;
      if (sid !== undefined && typeof sid !== 'string') throw badRequest("Give 'subscriptionId' at most once.");
      const entries = deps.log.entries(sid === undefined ? {} : { subscriptionId: sid.toLowerCase() });
      return { value: deps.authMode === 'dev' ? entries : entries.map(withoutNetworkDetail) };
    },
  });
  if (deps.registry) installDeliveryMetrics(deps.registry, deps.log, deps.store);
}

/** Why the deliverer dropped items without a POST: its own words, not the network's, so they are shown. */
const DROP_REASON = /^(?:subscription expired|endpoint too slow|cannot encrypt)/;

/** An entry as shown outside dev mode: a POST that got no response says only that, with no timing. */
function withoutNetworkDetail(entry: DeliveryLogEntry): DeliveryLogEntry {
  if (entry.status !== 0 || entry.error === null || DROP_REASON.test(entry.error)) return entry;
  return { ...entry, error: 'no response', latencyMs: 0 };
}

function installDeliveryMetrics(registry: Registry, log: DeliveryLog, store: Store): void {
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
