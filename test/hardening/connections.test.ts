/**
 * Bounded sockets, over real connections: a slowloris client (headers trickling in, or a body announced and never
 * sent) is answered 408 and disconnected after the configured timeouts; a silent or idle keep-alive connection is
 * closed; over
 * --max-connections a new connection is closed at once, and once the idle ones are gone a normal client is served.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startInProcess, type TestServer } from '../kit/server.ts';
import { UsageError, toConfig } from '../../src/cli/options.ts';

interface Conn { socket: net.Socket; data: () => string; closed: Promise<number> }

/** Every connection a test opened, destroyed at the end so a failing test cannot keep the server from closing. */
const sockets: net.Socket[] = [];

/** Opens a raw connection; `closed` resolves to the milliseconds it stayed open. */
async function connect(port: number): Promise<Conn> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  let data = '';
  socket.on('data', (d) => { data += d.toString('latin1'); });
  socket.on('error', () => {});
  const opened = Date.now();
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - opened)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('close', () => reject(new Error('closed before connecting')));
  });
  return { socket, data: () => data, closed };
}

/** Resolves to the time to close, or rejects when the connection is still open after `ms`. */
function closesWithin(conn: Conn, ms: number): Promise<number> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    conn.closed.finally(() => clearTimeout(timer)),
    new Promise<number>((_, reject) => { timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms); }),
  ]);
}

describe('slow and idle connections', () => {
  let s: TestServer;
  let port: number;
  before(async () => {
    s = await startInProcess({
      port: 0, headersTimeoutMs: 400, requestTimeoutMs: 800, idleTimeoutMs: 1500, keepAliveTimeoutMs: 600, maxConnections: 4,
    });
    port = Number(new URL(await s.presently.listen()).port);
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await s.close();
  });

  it('a body announced (Content-Length 60000) and never sent: 408, then closed', async () => {
    const c = await connect(port);
    c.socket.write('POST /v1.0/me/presence/setStatusMessage HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{');
    const ms = await closesWithin(c, 5000);
    assert.ok(ms >= 700, `closed after ${ms} ms, before the request timeout`);
    assert.match(c.data(), /^HTTP\/1\.1 408 /);
  });

  it('headers trickling in a byte at a time: closed after the headers timeout', async () => {
    const c = await connect(port);
    c.socket.write('GET /_presently/health HTTP/1.1\r\n');
    const drip = setInterval(() => c.socket.writable && c.socket.write('X-Slow: 1\r\n'), 100);
    try {
      const ms = await closesWithin(c, 5000);
      assert.ok(ms >= 300, `closed after ${ms} ms`);
    } finally {
      clearInterval(drip);
    }
  });

  it('a connection that sends nothing is closed after the headers timeout', async () => {
    const c = await connect(port);
    const ms = await closesWithin(c, 5000);
    assert.ok(ms >= 300, `closed after ${ms} ms`);
  });

  it('a keep-alive connection left idle after a request is closed after the keep-alive timeout', async () => {
    const c = await connect(port);
    c.socket.write('GET /_presently/health HTTP/1.1\r\nHost: x\r\n\r\n');
    const ms = await closesWithin(c, 5000);
    assert.match(c.data(), /^HTTP\/1\.1 200 /);
    assert.ok(ms >= 500, `closed after ${ms} ms`);
  });

  it('over --max-connections a new connection is closed at once; a normal client is served once the others go', async () => {
    const idle = await Promise.all([1, 2, 3, 4].map(() => connect(port)));
    await new Promise((r) => setImmediate(r));
    const extra = await connect(port);
    const ms = await closesWithin(extra, 1000);
    assert.ok(ms < 1000);
    for (const c of idle) c.socket.destroy();
    await Promise.all(idle.map((c) => c.closed));
    await new Promise((r) => setTimeout(r, 50)); // the server sees the closes
    const res = await fetch(`http://127.0.0.1:${port}/v1.0/me/presence`);
    assert.equal(res.status, 401, 'served (no token)');
  });
});

describe('flags', () => {
  it('defaults, flags and PRESENTLY_* variables', () => {
    const d = toConfig({}, {});
    assert.deepEqual([d.headersTimeoutMs, d.requestTimeoutMs, d.idleTimeoutMs, d.keepAliveTimeoutMs, d.maxRequestsPerSocket, d.maxConnections],
      [10_000, 30_000, 60_000, 72_000, 0, 10_000]);
    const c = toConfig({ headersTimeout: '2000', requestTimeout: '5000', maxConnections: '100' }, { PRESENTLY_IDLE_TIMEOUT: '9000', PRESENTLY_MAX_REQUESTS_PER_SOCKET: '50', PRESENTLY_KEEP_ALIVE_TIMEOUT: '4000' });
    assert.deepEqual([c.headersTimeoutMs, c.requestTimeoutMs, c.idleTimeoutMs, c.keepAliveTimeoutMs, c.maxRequestsPerSocket, c.maxConnections],
      [2000, 5000, 9000, 4000, 50, 100]);
  });

  it('bad values are refused naming the flag', () => {
    assert.throws(() => toConfig({ maxConnections: '0' }, {}), (e: unknown) => e instanceof UsageError && /--max-connections/.test(e.message));
    assert.throws(() => toConfig({ headersTimeout: 'soon' }, {}), /--headers-timeout/);
    assert.throws(() => toConfig({ headersTimeout: '40000' }, {}), /must not be longer than --request-timeout/);
  });
});
