/**
 * The abuse run's HTTP client: node:http straight, so a request can carry any bytes and any content type, and every
 * request has a deadline (the server under test may hang; the run must not). Also the /health prober that runs
 * beside every phase, and the checks every answer goes through.
 */
import http from 'node:http';
import { Worker } from 'node:worker_threads';

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

const MAX_SILENT = 20;

/** The most of an answer kept: a server that answers gigabytes must not take the run's memory with it. */
const KEEP_BYTES = 256 * 1024;

export class Client {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  readonly base: URL;
  sent = 0;
  /**
   * Requests in a row without an answer. At MAX_SILENT the server is taken for frozen or dead and every further
   * request rejects at once, so a phase stops (and reports) instead of waiting out a deadline per request.
   */
  private silent = 0;

  constructor(url: string, readonly defaultTimeoutMs = 10_000) {
    this.base = new URL(url);
    // Every request of the run goes to loopback; a bug in the run that aimed elsewhere stops it here.
    if (this.base.hostname !== '127.0.0.1') throw new Error(`abuse: refusing to send to ${this.base.hostname}`);
  }

  request(r: Req): Promise<Answer> {
    if (this.silent >= MAX_SILENT) return Promise.reject(new Error(`the server gave no answer to ${MAX_SILENT} requests in a row`));
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
        this.silent = a.status === 0 ? this.silent + 1 : 0;
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
  /** Forged or foreign tokens that were let through, or answers that showed another's data. */
  breaches = 0;
  /** Failures not counted in a column (a phase that stopped early), in words: each misses the target. */
  problems: string[] = [];
  /** Examples of the failures the columns count (a few of each kind). */
  examples: string[] = [];
  notes: string[] = [];
  private readonly kinds = new Map<string, number>();

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
    const n = this.kinds.get(kind) ?? 0;
    this.kinds.set(kind, n + 1);
    if (n < 3 && this.examples.length < 40) this.examples.push(line);
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
 * The probe's loop, run in a worker thread of its own so that the run's own busy moments (building a megabyte of
 * hostile JSON) do not show up as the server's latency. Plain JavaScript: a worker is given it as source.
 */
const PROBE_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, path, headers, intervalMs, timeoutMs, fresh } = workerData;
const agent = fresh ? false : new http.Agent({ keepAlive: true, maxSockets: 1 });
const latencies = [];
let failures = 0;
let running = true;
parentPort.on('message', () => { running = false; });
function once() {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      latencies.push(ok ? performance.now() - t0 : timeoutMs);
      if (!ok) failures++;
      resolve();
    };
    const req = http.get(url + path, { headers: fresh ? { ...headers, connection: 'close' } : headers, agent }, (res) => {
      res.resume();
      res.on('end', () => finish(res.statusCode === 200));
      res.on('error', () => finish(false));
    });
    const timer = setTimeout(() => { req.destroy(); finish(false); }, timeoutMs);
    req.on('error', () => finish(false));
  });
}
(async () => {
  while (running) {
    const t0 = performance.now();
    await once();
    const wait = intervalMs - (performance.now() - t0);
    if (wait > 0 && running) await new Promise((r) => setTimeout(r, wait));
  }
  if (agent) agent.destroy();
  parentPort.postMessage({ latencies, failures });
})();
`;

export interface ProbeOptions {
  token?: string;
  intervalMs?: number;
  timeoutMs?: number;
  /** A new connection for every probe (as a load balancer's health check makes). */
  fresh?: boolean;
}

/**
 * GETs `path` every `intervalMs` (one at a time) until stopped, from a worker thread. A probe without a 200 in
 * `timeoutMs` counts as a failure with that latency.
 */
export class Probe {
  private readonly worker: Worker;
  private readonly result: Promise<{ latencies: number[]; failures: number }>;

  constructor(url: string, path: string, o: ProbeOptions = {}) {
    if (new URL(url).hostname !== '127.0.0.1') throw new Error(`abuse: refusing to probe ${url}`);
    this.worker = new Worker(PROBE_SOURCE, {
      eval: true,
      workerData: {
        url, path, intervalMs: o.intervalMs ?? 100, timeoutMs: o.timeoutMs ?? 5_000, fresh: o.fresh ?? false,
        headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
      },
    });
    this.result = new Promise((resolve, reject) => {
      this.worker.once('message', resolve);
      this.worker.once('error', reject);
    });
  }

  async stop(): Promise<HealthStats> {
    this.worker.postMessage('stop');
    const r = await this.result;
    await this.worker.terminate();
    return summarize(r.latencies, r.failures);
  }
}

/** /_presently/health, each probe on a new connection. */
export const healthProbe = (url: string) => new Probe(url, '/_presently/health', { fresh: true });

export function summarize(latencies: number[], failures = 0): HealthStats {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;
  return { samples: sorted.length, failures, p50: at(0.5), p99: at(0.99), worst: sorted.length ? sorted.at(-1)! : NaN };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
