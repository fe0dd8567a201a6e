/**
 * Requests Node's HTTP parser refuses before Fastify sees them — an unknown method, raw non-ASCII bytes in the path,
 * Transfer-Encoding with Content-Length, oversized headers, a body that never arrives — are answered in Graph's
 * error shape (code, message, innerError with date and ids; request-id headers; the OData content type), over a raw
 * socket, and the connection is closed.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startInProcess, type TestServer } from '../kit/server.ts';

/** Sends raw bytes; resolves to everything the server wrote before it closed the connection. */
function exchange(port: number, raw: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(raw));
    let data = '';
    socket.on('data', (d) => { data += d.toString('utf8'); });
    socket.on('error', reject);
    socket.on('close', () => resolve(data));
    socket.setTimeout(5000, () => socket.destroy(new Error(`no close; got: ${data}`)));
  });
}

interface Parsed { status: number; headers: Record<string, string>; body: unknown }

function parse(response: string): Parsed {
  const [head = '', body = ''] = response.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) as unknown };
}

function assertGraphShape(p: Parsed, status: number, code: string, message: RegExp): void {
  assert.equal(p.status, status, JSON.stringify(p));
  assert.match(p.headers['content-type'] ?? '', /^application\/json;odata\.metadata=minimal/);
  assert.match(p.headers['request-id'] ?? '', /^[0-9a-f-]{36}$/);
  const { error } = p.body as { error: { code: string; message: string; innerError: Record<string, string> } };
  assert.deepEqual(Object.keys(error), ['code', 'message', 'innerError']);
  assert.equal(error.code, code);
  assert.match(error.message, message);
  assert.match(error.innerError.date ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  assert.equal(error.innerError['request-id'], p.headers['request-id']);
}

describe('HTTP parser errors answer in Graph shape', () => {
  let s: TestServer;
  let port: number;
  before(async () => {
    s = await startInProcess({ port: 0, headersTimeoutMs: 300, requestTimeoutMs: 600 });
    port = Number(new URL(await s.presently.listen()).port);
  });
  after(() => s.close());

  it('an unknown method', async () => {
    assertGraphShape(parse(await exchange(port, 'FROB /v1.0/me/presence HTTP/1.1\r\nHost: x\r\n\r\n')), 400, 'BadRequest', /method/);
  });

  it('raw non-ASCII bytes in the path', async () => {
    const raw = Buffer.concat([Buffer.from('GET /v1.0/users/'), Buffer.from([0xe9, 0x01]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]);
    assertGraphShape(parse(await exchange(port, raw)), 400, 'BadRequest', /URL|HTTP/);
  });

  it('Transfer-Encoding together with Content-Length', async () => {
    const raw = 'POST /v1.0/$batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n';
    assertGraphShape(parse(await exchange(port, raw)), 400, 'BadRequest', /Transfer-Encoding and Content-Length/);
  });

  it('headers larger than the server accepts: 431', async () => {
    const raw = `GET /v1.0/me/presence HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;
    assertGraphShape(parse(await exchange(port, raw)), 431, 'RequestHeaderFieldsTooLarge', /headers/);
  });

  it('a body that never arrives: 408', async () => {
    const raw = 'POST /v1.0/$batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{';
    assertGraphShape(parse(await exchange(port, raw)), 408, 'RequestTimeout', /in time/);
  });
});
