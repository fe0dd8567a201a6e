/**
 * The request metrics, `presently_http_requests_total{method,route,status}` and
 * `presently_http_request_duration_seconds{route}`, counted in plain maps and handed to prom-client as values only
 * when /metrics is read (docs/operations/admin-api.md#metrics).
 *
 * prom-client's own Counter and Histogram build a string key from the labels object on every observation: 0.75 µs
 * a request, about 4 % of a GET answered by an express lane (BENCHMARKS.md, issue 13). Here a request costs a few
 * map lookups by strings the route table and the HTTP parser hand out as the same objects every time (so their hash
 * is computed once) and a bucket search. The text at /metrics is prom-client's, the same lines as before.
 */
import type { Metric, Registry } from 'prom-client';

/** The latency buckets, in seconds. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] as const;

interface RouteStats {
  /** method → status → answers. */
  answers: Map<string, Map<number, number>>;
  /** Answers at or below each bucket's bound (not cumulative; the last slot is above every bound). */
  buckets: Float64Array;
  sum: number;
  count: number;
}

interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** What prom-client's registry reads from a metric (Registry#registerMetric, #metrics, #getMetricsAsJSON). */
interface MetricShape {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Value[] }>;
  reset(): void;
}

export class RequestMetrics {
  private readonly routes = new Map<string, RouteStats>();

  record(method: string, route: string, status: number, seconds: number): void {
    let stats = this.routes.get(route);
    if (!stats) {
      stats = { answers: new Map(), buckets: new Float64Array(LATENCY_BUCKETS.length + 1), sum: 0, count: 0 };
      this.routes.set(route, stats);
    }
    let byStatus = stats.answers.get(method);
    if (!byStatus) stats.answers.set(method, (byStatus = new Map()));
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    let b = 0;
    while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]!) b++;
    stats.buckets[b]!++;
    stats.sum += seconds;
    stats.count++;
  }

  /** Registers the two metrics with `registry`. */
  register(registry: Registry): void {
    const metric = (name: string, help: string, type: MetricShape['type'], values: () => Value[]): MetricShape => ({
      name, help, type, aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
      reset: () => this.routes.clear(),
    });
    const shapes = [
      metric('presently_http_requests_total', 'HTTP requests answered', 'counter', () => this.answerValues()),
      metric('presently_http_request_duration_seconds', 'Time to answer an HTTP request', 'histogram', () => this.latencyValues()),
    ];
    // The registry reads a metric through the members above only; its type names prom-client's own classes.
    for (const shape of shapes) registry.registerMetric(shape as unknown as Metric);
  }

  private answerValues(): Value[] {
    const values: Value[] = [];
    for (const [route, stats] of this.routes) {
      for (const [method, byStatus] of stats.answers) {
        for (const [status, value] of byStatus) values.push({ labels: { method, route, status }, value });
      }
    }
    return values;
  }

  /** As prom-client's Histogram writes them: cumulative buckets with `le` first, then the sum and the count. */
  private latencyValues(): Value[] {
    const name = 'presently_http_request_duration_seconds';
    const values: Value[] = [];
    for (const [route, stats] of this.routes) {
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += stats.buckets[i]!;
        values.push({ labels: { le, route }, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', route }, value: stats.count, metricName: `${name}_bucket` });
      values.push({ labels: { route }, value: stats.sum, metricName: `${name}_sum` });
      values.push({ labels: { route }, value: stats.count, metricName: `${name}_count` });
    }
    return values;
  }
}
