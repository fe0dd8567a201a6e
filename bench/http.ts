/**
 * A small fetch wrapper for the bench's set-up and checks (not for the load itself, which is autocannon's).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** One HTTP request as the bench describes it; also what autocannon is given. */
export interface BenchRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  headers: IncomingHttpHeaders & Record<string, string>;
  body?: string;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
  /** The parsed body, or undefined when it is empty or not JSON. */
  json: unknown;
}

export async function send(baseUrl: string, req: BenchRequest): Promise<HttpResult> {
  const res = await fetch(new URL(req.path, baseUrl), {
    method: req.method,
    headers: req.headers,
    ...(req.body !== undefined ? { body: req.body } : {}),
  });
  const body = Buffer.from(await res.arrayBuffer());
  const text = body.toString('utf8');
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, body, text, json };
}

/** Sends a JSON request and throws unless the status is the expected one. */
export async function call(
  baseUrl: string,
  method: BenchRequest['method'],
  path: string,
  opts: { token?: string; body?: unknown; expect?: number } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await send(baseUrl, {
    method,
    path,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const expect = opts.expect ?? 200;
  if (res.status !== expect) {
    throw new Error(`${method} ${path}: expected ${expect}, got ${res.status}: ${res.text.slice(0, 500)}`);
  }
  return res;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
