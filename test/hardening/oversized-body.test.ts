/**
 * A body over the limit is answered 413 before it has all arrived, and the client can read that answer: the server
 * stops taking the request but keeps reading (and dropping) what the client is still sending for a short while
 * before it closes (a lingering close, docs/operations/hardening.md#oversized-bodies). Closing at once with unread
 * bytes makes the kernel reset the connection, and a client still writing gets EPIPE or ECONNRESET instead of
 * the 413 (the adversarial run saw it for 2 of 240,000 bodies of 1–2 MB).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startInProcess, type TestServer } from '../kit/server.ts';
import { LINGER_MS } from '../../src/http/linger.ts';

const MIB = 1024 * 1024;

interface Sent {
  /** What the server answered (latin1). */
  answer: string;
  /** A socket error the client saw, if any (EPIPE, ECONNRESET). */
  error: string | null;
  /** Whether the server ended the connection (FIN) once it had answered. */
  ended: boolean;
}

/**
 * Sends headers announcing `total` bytes and the first `first` bytes of the body; once the answer and the server's
 * FIN have arrived, sends the rest, as a client does whose body was still in its buffers when the answer came (the
 * connection is half-open for the client: it may keep writing after the server's FIN).
 */
function sendOversized(port: number, path: string, total: number, first = 512 * 1024): Promise<Sent> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let answer = '';
    let error: string | null = null;
    let ended = false;
    socket.on('data', (d) => { answer += d.toString('latin1'); });
    socket.on('error', (err: NodeJS.ErrnoException) => { error = err.code ?? err.message; });
    socket.on('close', () => resolve({ answer, error, ended }));
    socket.on('end', () => {
      ended = true;
      // The rest of the body, after the answer: the server is still reading (and dropping) it.
      setTimeout(() => socket.end(Buffer.alloc(total - first, 0x20)), 20);
    });
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`);
      socket.write(Buffer.alloc(first, 0x20));
    });
  });
}

describe('bodies over the limit: the client reads its 413', () => {
  let s: TestServer;
  let port: number;
  before(async () => {
    s = await startInProcess({ port: 0 });
    port = Number(new URL(await s.presently.listen()).port);
  });
  after(() => s.close());

  it('2 MiB announced and sent: 413 in Graph\'s shape, the rest of the body still taken, no reset', async () => {
    const sent = await sendOversized(port, '/v1.0/communications/getPresencesByUserId', 2 * MIB);
    assert.match(sent.answer, /^HTTP\/1\.1 413 /);
    assert.match(sent.answer, /"code":"RequestEntityTooLarge"/);
    assert.match(sent.answer, /connection: close/i);
    assert.equal(sent.error, null, 'the client could write its whole body');
    assert.ok(sent.ended, 'the server ended the connection after its answer');
  });

  it('a body sent without Content-Length over the limit (chunked): the same', async () => {
    const sent = await new Promise<Sent>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      let answer = '';
      let error: string | null = null;
      let ended = false;
      const chunk = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(64 * 1024, 0x20), Buffer.from('\r\n')]);
      socket.on('data', (d) => { answer += d.toString('latin1'); });
      socket.on('error', (err: NodeJS.ErrnoException) => { error = err.code ?? err.message; });
      socket.on('close', () => resolve({ answer, error, ended }));
      socket.on('end', () => {
        ended = true;
        setTimeout(() => socket.end(Buffer.concat([...Array<Buffer>(16).fill(chunk), Buffer.from('0\r\n\r\n')])), 20);
      });
      socket.on('connect', () => {
        socket.write('POST /v1.0/me/presence/setPresence HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
        socket.write(Buffer.concat(Array<Buffer>(4).fill(chunk)));
      });
    });
    assert.match(sent.answer, /^HTTP\/1\.1 413 /);
    assert.equal(sent.error, null);
    assert.ok(sent.ended);
  });

  it('a client that keeps sending after the answer is cut off: the server does not read without end', async () => {
    // Announces 1 GiB and, after the 413, goes on sending as fast as it can: the server stops lingering at its cap
    // (8 MiB, checked every 50 ms) and closes. (A fixed 64 MiB could all be read within one check on a quiet machine.)
    const total = 1024 * MIB;
    const result = await new Promise<{ answer: string; error: string | null; written: number }>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      let answer = '';
      let error: string | null = null;
      let written = 0;
      const chunk = Buffer.alloc(MIB, 0x20);
      const pump = () => {
        while (!socket.destroyed && written < total) {
          written += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      socket.on('data', (d) => { answer += d.toString('latin1'); });
      socket.on('error', (err: NodeJS.ErrnoException) => { error = err.code ?? err.message; });
      socket.on('close', () => resolve({ answer, error, written }));
      socket.on('end', () => setTimeout(pump, 20));
      socket.on('connect', () => {
        socket.write(`POST /v1.0/me/presence/setPresence HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`);
        socket.write(Buffer.alloc(512 * 1024, 0x20));
      });
    });
    assert.match(result.answer, /^HTTP\/1\.1 413 /);
    assert.notEqual(result.error, null, 'cut off');
    assert.ok(result.written < total, `cut off before the whole 1 GiB (${result.written / MIB} MiB written)`);
  });

  it('a client that goes on sending slowly, without end: cut off after the linger time', async () => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let answer = '';
    let drip: NodeJS.Timeout | undefined;
    socket.on('data', (d) => { answer += d.toString('latin1'); });
    const opened = Date.now();
    const cut = new Promise<number>((resolve) => socket.on('error', () => resolve(Date.now() - opened)));
    // After the server's FIN a half-open client learns that the server closed only when it writes again.
    socket.on('end', () => { drip = setInterval(() => socket.write(Buffer.alloc(1024, 0x20)), 50); });
    socket.write('POST /v1.0/me/presence/setPresence HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n');
    socket.write(Buffer.alloc(100_000, 0x20));
    const ms = await cut.finally(() => clearInterval(drip));
    socket.destroy();
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.ok(ms >= LINGER_MS - 100 && ms < LINGER_MS + 3000, `cut off after ${ms} ms`);
  });

  it('a server on the same port still answers afterwards', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/_presently/health`);
    assert.equal(res.status, 200);
  });
});
