/**
 * The abuse run's HTTP client: node:http straight, so a request can carry any bytes and any content type, and every
 * request has a deadline (the server under test may hang; the run must not). Also the /health prober that runs
 * beside every phase, and the checks every answer goes through.
 */
import http from 'node:http';

export { mapLimit } from '../http.ts';

export interface Answer {
  /** 0 when there was no answer (timeout, reset, refused). */
  status: number;
  text: string;
  json: unknown;
  ms: number;
  /** Bytes of the answer's body (of which at most KEEP_BYTES are kept in `text`). */
  bytes: number;
  /** Why there was no answer. */
  error?: string;
}

export interface Req {
  method: string;
  path: string;
  token?: string;
  /** A string or bytes sent as they are; an object is sent as JSON. */
  body?: string | Buffer | object;
  /** Default application/json when there is a body; null sends none. */
  contentType?: string | null;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** A connection of its own, closed after the answer (a request the server may answer by closing the connection). */
  fresh?: boolean;
}

/** The most of an answer kept: a server that answers gigabytes must not take the run's memory with it. */
const KEEP_BYTES = 256 * 1024;

export class Client {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  readonly base: URL;
  sent = 0;

  constructor(url: string, readonly defaultTimeoutMs = 10_000) {
    this.base = new URL(url);
    // Every request of the run goes to loopback; a bug in the run that aimed elsewhere stops it here.
    if (this.base.hostname !== '127.0.0.1') throw new Error(`abuse: refusing to send to ${this.base.hostname}`);
  }

  request(r: Req): Promise<Answer> {
    this.sent++;
    const t0 = performance.now();
    const payload = r.body === undefined ? undefined
      : typeof r.body === 'string' || Buffer.isBuffer(r.body) ? r.body : JSON.stringify(r.body);
    const headers: Record<string, string | number> = { ...r.headers };
    if (r.token !== undefined) headers.authorization = `Bearer ${r.token}`;
    if (payload !== undefined) {
      const ct = r.contentType === undefined ? 'application/json' : r.contentType;
      if (ct !== null) headers['content-type'] = ct;
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve) => {
      let done = false;
      let kept = 0;
      const finish = (a: Omit<Answer, 'ms' | 'bytes'>) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ ...a, bytes: kept, ms: performance.now() - t0 });
      };
      const req = http.request({
        host: this.base.hostname, port: this.base.port, method: r.method, path: r.path, headers, agent: r.fresh ? false : this.agent,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          if (kept < KEEP_BYTES) chunks.push(c);
          kept += c.length;
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          finish({ status: res.statusCode ?? 0, text, json });
        });
        res.on('error', (err) => finish({ status: 0, text: '', json: undefined, error: err.message }));
      });
      const timer = setTimeout(() => {
        req.destroy();
        finish({ status: 0, text: '', json: undefined, error: `no answer in ${r.timeoutMs ?? this.defaultTimeoutMs} ms` });
      }, r.timeoutMs ?? this.defaultTimeoutMs);
      req.on('error', (err) => finish({ status: 0, text: '', json: undefined, error: err.message }));
      req.end(payload);
    });
  }

  /** A request that must succeed with `expect` (set-up steps): throws otherwise. */
  async must(r: Req, expect = 200): Promise<Answer> {
    const a = await this.request(r);
    if (a.status !== expect) throw new Error(`${r.method} ${r.path}: expected ${expect}, got ${a.status || a.error}: ${a.text.slice(0, 300)}`);
    return a;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Graph's error shape: `{"error": {"code": "…", "message": "…"}}`. */
export function isGraphError(json: unknown): boolean {
  const e = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return typeof e === 'object' && e !== null && typeof e.code === 'string' && e.code !== '' && typeof e.message === 'string';
}

/** Tallies of one phase, as the table shows them. */
export class Tally {
  requests = 0;
  fiveXx = 0;
  /** 4xx answers whose body is not Graph's error shape. */
  nonGraph = 0;
  noAnswer = 0;
  stateChanges = 0;
  lostWrites = 0;
  lostNotifications = 0;
  outboundFetches = 0;
  /** Anything else that misses a target, in words. */
  problems: string[] = [];
  notes: string[] = [];
  private readonly examples = new Map<string, number>();

  /** Counts one answer of a request that must not fail on the server's side; returns true if it was a rejection. */
  answer(a: Answer, what: string): boolean {
    this.requests++;
    if (a.status === 0) {
      this.noAnswer++;
      this.example(`no answer: ${what}: ${a.error}`);
    } else if (a.status >= 500) {
      this.fiveXx++;
      this.example(`${a.status}: ${what}: ${a.text.slice(0, 200)}`);
    } else if (a.status >= 400 && !isGraphError(a.json)) {
      this.nonGraph++;
      this.example(`${a.status} not Graph-shaped: ${what}: ${a.text.slice(0, 200)}`);
    }
    return a.status >= 400;
  }

  /** Keeps up to 3 examples of each kind of failure, for the report under the table. */
  example(line: string): void {
    const kind = line.slice(0, 40);
    const n = this.examples.get(kind) ?? 0;
    this.examples.set(kind, n + 1);
    if (n < 3 && this.problems.length < 40) this.problems.push(line);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// /health, probed all along

export interface HealthStats {
  samples: number;
  failures: number;
  p50: number;
  p99: number;
  worst: number;
}

/**
 * GETs /_presently/health every `intervalMs` (one at a time, each on a new connection, as a load balancer's probe
 * would) until stopped. A probe that gets no answer in `timeoutMs` counts as a failure with that latency.
 */
export class HealthProbe {
  private readonly latencies: number[] = [];
  private failures = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(url: string, intervalMs = 100, private readonly timeoutMs = 5_000) {
    const client = new Client(url, timeoutMs);
    this.loop = (async () => {
      while (this.running) {
        const t0 = performance.now();
        const a = await client.request({ method: 'GET', path: '/_presently/health', headers: { connection: 'close' } });
        this.latencies.push(a.status === 0 ? this.timeoutMs : a.ms);
        if (a.status !== 200) this.failures++;
        const wait = intervalMs - (performance.now() - t0);
        if (wait > 0 && this.running) await new Promise((r) => setTimeout(r, wait));
      }
      client.close();
    })();
  }

  async stop(): Promise<HealthStats> {
    this.running = false;
    await this.loop;
    return summarize(this.latencies, this.failures);
  }
}

export function summarize(latencies: number[], failures = 0): HealthStats {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;
  return { samples: sorted.length, failures, p50: at(0.5), p99: at(0.99), worst: sorted.length ? sorted.at(-1)! : NaN };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
