/**
 * `GET /_presently/deliveries` (notifications.md §4): recent delivery attempts from the in-memory deliveries log,
 * newest last, optionally `?subscriptionId=`. Behind the admin guard (./guard.ts). The notification counters on
 * /metrics are in ./metrics.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TokenVerifier } from '../auth/verify.ts';
import type { DeliveryLog } from '../notifications/deliveryLog.ts';
import { badRequest } from '../http/errors.ts';
import { resource } from '../http/wire.ts';
import { guardedScope } from './guard.ts';

export interface DeliveriesDeps {
  log: DeliveryLog;
  authMode: string;
  verifier: TokenVerifier;
}

export function deliveriesRoutes(app: FastifyInstance, deps: DeliveriesDeps): void {
  guardedScope(app, deps, (scope) => resource(scope, '/_presently/deliveries', {
    GET: async function listDeliveries(request: FastifyRequest) {
      const q = (request.query ?? {}) as Record<string, unknown>;
      const sid = q.subscriptionId;
      if (sid !== undefined && typeof sid !== 'string') throw badRequest("Give 'subscriptionId' at most once.");
      return { value: deps.log.entries(sid === undefined ? {} : { subscriptionId: sid.toLowerCase() }) };
    },
  }));
}
