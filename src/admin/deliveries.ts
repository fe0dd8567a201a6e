/**
 * `GET /_presently/deliveries` (docs/notifications/testing.md): recent delivery attempts from the in-memory deliveries log,
 * newest last, optionally `?subscriptionId=`. Behind the admin guard (./guard.ts): open in dev auth mode, otherwise it
 * needs the admin key; and outside dev mode a failed attempt's network error and timing are not shown: per-target
 * errors (refused, unreachable, TLS…) would make the endpoint an oracle for scanning the server's network through
 * webhook URLs. The notification counters on /metrics are in ./metrics.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DeliveryLog, DeliveryLogEntry } from '../notifications/deliveryLog.ts';
import { badRequest } from '../http/errors.ts';
import { resource } from '../http/wire.ts';
import { guardedScope } from './guard.ts';

export interface DeliveriesDeps {
  log: DeliveryLog;
  authMode: string;
  /** Outside dev auth mode, the admin API's bearer key (./guard.ts). */
  adminKey: string | null;
}

export function deliveriesRoutes(app: FastifyInstance, deps: DeliveriesDeps): void {
  guardedScope(app, deps, (scope) => resource(scope, '/_presently/deliveries', {
    GET: async function listDeliveries(request: FastifyRequest) {
      const q = (request.query ?? {}) as Record<string, unknown>;
      const sid = q.subscriptionId;
      if (sid !== undefined && typeof sid !== 'string') throw badRequest("Give 'subscriptionId' at most once.");
      const entries = deps.log.entries(sid === undefined ? {} : { subscriptionId: sid.toLowerCase() });
      return { value: deps.authMode === 'dev' ? entries : entries.map(withoutNetworkDetail) };
    },
  }));
}

/** Why the deliverer dropped items without a POST: its own words, not the network's, so they are shown. */
const DROP_REASON = /^(?:subscription expired|endpoint too slow|cannot encrypt)/;

/** An entry as shown outside dev mode: a POST that got no response says only that, with no timing. */
export function withoutNetworkDetail(entry: DeliveryLogEntry): DeliveryLogEntry {
  if (entry.status !== 0 || entry.error === null || DROP_REASON.test(entry.error)) return entry;
  return { ...entry, error: 'no response', latencyMs: 0 };
}
