/**
 * Prometheus metrics at GET /metrics: request counts and latencies by route and status, plus Node's defaults.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Front } from './front.ts';

export function installMetrics(app: FastifyInstance, front: Front): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'presently_' });
  const requests = new Counter({
    name: 'presently_http_requests_total', help: 'HTTP requests answered', labelNames: ['method', 'route', 'status'], registers: [registry],
  });
  const latency = new Histogram({
    name: 'presently_http_request_duration_seconds', help: 'Time to answer an HTTP request', labelNames: ['route'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry],
  });
  // Every answer, the framework's and the express lanes' (./front.ts).
  front.onAnswer((method, route, status, seconds) => {
    requests.inc({ method, route, status });
    latency.observe({ route }, seconds);
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return registry;
}
