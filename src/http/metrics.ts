/**
 * Prometheus metrics at GET /metrics: request counts and latencies by route and status, plus Node's defaults.
 */
import type { FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Front } from './front.ts';
import { installLiveHeapGauge } from './liveHeap.ts';
import { RequestMetrics } from './requestMetrics.ts';

export function installMetrics(app: FastifyInstance, front: Front): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'presently_' });
  const stopObserving = installLiveHeapGauge(registry);
  app.addHook('onClose', (_instance, done) => {
    stopObserving();
    done();
  });
  // Every answer, the framework's and the express lanes' (./front.ts).
  const requests = new RequestMetrics();
  requests.register(registry);
  front.onAnswer((method, route, status, seconds) => requests.record(method, route, status, seconds));
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return registry;
}
