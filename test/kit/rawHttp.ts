/**
 * Requests over a real socket, answered with every header as sent (name case and order kept): what the express-lane
 * tests compare, since `inject` never reaches the lanes (src/http/front.ts).
 */
import { request } from 'node:http';
import { ADELE, startInProcess, type TestServer } from './server.ts';

export interface RawAnswer { status: number; headers: Array<[string, string]>; body: string }

/**
 * One request on a connection of its own. With a `body`, Content-Length is set from it, or with `chunked` the body is
 * sent chunked (no Content-Length); without one, the headers go as given.
 */
export function rawRequest(base: string, method: string, path: string, headers: Record<string, string>, body?: string, chunked = false): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const all = body === undefined ? headers
      : chunked ? { ...headers, 'transfer-encoding': 'chunked' } : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = request(`${base}${path}`, { method, headers: all, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => {
        const pairs: Array<[string, string]> = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
        resolve({ status: res.statusCode ?? 0, headers: pairs, body: text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The answer with its request ids replaced, in headers and body (they differ per request by design). */
export function comparable(a: RawAnswer): RawAnswer {
  const ids = new Set(a.headers.filter(([name]) => name === 'request-id').map(([, v]) => v));
  const mask = (v: string) => [...ids].reduce((s, id) => s.split(id).join('<request-id>'), v);
  return { status: a.status, headers: a.headers.map(([n, v]) => [n, mask(v)]), body: mask(a.body) };
}

/** A server with a manual clock listening on a socket, and tokens the lanes already know (the write-lane tests). */
export interface WriteLaneServer {
  s: TestServer;
  base: string;
  /** Adele, delegated; applications with Presence.ReadWrite.All and with Presence.Read.All. */
  adele: string;
  writer: string;
  reader: string;
}

export async function startWriteLaneServer(manualStart: number): Promise<WriteLaneServer> {
  const s = await startInProcess({ clock: 'manual' }, { manualStart });
  const base = await s.listen();
  const [adele, writer, reader] = await Promise.all([
    s.userToken(ADELE), s.appToken(['Presence.ReadWrite.All']), s.appToken(['Presence.Read.All']),
  ]);
  // A token is known to the lanes once the framework has verified it (its first request).
  for (const token of [adele, writer, reader]) await rawRequest(base, 'GET', `/v1.0/users/${ADELE}/presence`, { authorization: `Bearer ${token}` });
  return { s, base, adele, writer, reader };
}

/** How many requests /metrics has counted for a method, route and status (0 before the first). */
export async function countedRequests(s: TestServer, method: string, route: string, status: number): Promise<number> {
  const res = await s.inject({ method: 'GET', url: '/metrics' });
  const prefix = `presently_http_requests_total{method="${method}",route="${route}",status="${status}"} `;
  const line = res.body.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? 0 : Number(line.slice(prefix.length));
}
