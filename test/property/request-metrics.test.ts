/**
 * The request metrics counted in plain maps (src/http/requestMetrics.ts) print the same Prometheus lines as
 * prom-client's own Counter and Histogram fed the same answers: a scraper sees no difference.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { LATENCY_BUCKETS, RequestMetrics } from '../../src/http/requestMetrics.ts';

/** The lines of each metric family, sorted within it (the order of label sets means nothing to a scraper). */
function families(text: string): string[][] {
  return text.trim().split('\n\n').map((family) => {
    const [help, type, ...samples] = family.split('\n');
    return [help!, type!, ...samples.sort()];
  });
}

const answer = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PATCH'),
  route: fc.constantFrom('/v1.0/me/presence', '/v1.0/users/:id/presence', '/v1.0/$batch'),
  status: fc.constantFrom(200, 204, 400, 401, 404, 429, 503),
  // Bounds themselves included: a bucket counts the answers at or below its bound.
  seconds: fc.oneof(fc.constantFrom(...LATENCY_BUCKETS, 0, 2.5), fc.double({ min: 0, max: 3, noNaN: true })),
});

describe('request metrics', () => {
  it('print what prom-client\'s Counter and Histogram print for the same answers', async () => {
    await fc.assert(fc.asyncProperty(fc.array(answer, { maxLength: 60 }), async (answers) => {
      const ours = new Registry();
      const metrics = new RequestMetrics();
      metrics.register(ours);
      const theirs = new Registry();
      const requests = new Counter({
        name: 'presently_http_requests_total', help: 'HTTP requests answered', labelNames: ['method', 'route', 'status'], registers: [theirs],
      });
      const latency = new Histogram({
        name: 'presently_http_request_duration_seconds', help: 'Time to answer an HTTP request', labelNames: ['route'],
        buckets: [...LATENCY_BUCKETS], registers: [theirs],
      });
      for (const { method, route, status, seconds } of answers) {
        metrics.record(method, route, status, seconds);
        requests.inc({ method, route, status });
        latency.observe({ route }, seconds);
      }
      assert.deepEqual(families(await ours.metrics()), families(await theirs.metrics()));
    }), { numRuns: 200 });
  });

  it('a registry reset empties them', async () => {
    const registry = new Registry();
    const metrics = new RequestMetrics();
    metrics.register(registry);
    metrics.record('GET', '/v1.0/me/presence', 200, 0.001);
    assert.match(await registry.metrics(), /status="200"\} 1/);
    registry.resetMetrics();
    assert.doesNotMatch(await registry.metrics(), /presently_http_requests_total\{/);
  });
});
