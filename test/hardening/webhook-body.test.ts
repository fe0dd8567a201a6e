/**
 * A webhook receiver that answers with a huge or endless body costs Presently at most 64 KiB per call: the client
 * reads that much, drops the connection, and the outcome is still right — a handshake whose body is the token plus
 * gigabytes fails validation, a notification answered 202 with an endless body counts as delivered.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { MAX_BODY, postText } from '../../src/notifications/webhookClient.ts';
import { ADELE, ALEX, startInProcess, type TestServer } from '../kit/server.ts';
import { startReceiver, tokenOf, type Receiver } from '../kit/receiver.ts';
import { message, moveClock, setStatusOk } from '../kit/graph.ts';

const MiB = 1024 * 1024;
/** The most a flood sends before giving up on its own (the old client read all of it). */
const FLOOD_LIMIT = 256 * MiB;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

interface Flood { sent: number; cut: boolean }

/** Answers `status` with `first`, then an endless body (up to FLOOD_LIMIT), until the client hangs up. */
function flood(res: ServerResponse, status: number, first: string, stats: Flood): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.write(first);
  res.on('close', () => { stats.cut = !res.writableFinished; });
  const pump = () => {
    while (!res.destroyed && stats.sent < FLOOD_LIMIT) {
      stats.sent += CHUNK.length;
      if (!res.write(CHUNK)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

const rss = () => process.memoryUsage().rss;

describe('webhook response bodies are read up to 64 KiB', () => {
  const T0 = Date.parse('2026-11-28T08:00:00Z');
  let s: TestServer;
  const receivers: Receiver[] = [];
  before(async () => {
    s = await startInProcess({ clock: 'manual', handshakeTimeoutMs: 5_000 }, { manualStart: T0 });
  });
  after(async () => {
    await s.close();
    for (const r of receivers) await r.close();
  });

  const subscribe = async (notificationUrl: string) => s.inject({
    method: 'POST', url: '/v1.0/subscriptions', headers: { authorization: `Bearer ${await s.userToken(ALEX)}` },
    payload: {
      changeType: 'updated', notificationUrl, resource: `/communications/presences/${ADELE}`,
      expirationDateTime: new Date(T0 + 50 * 60_000).toISOString(),
    },
  });

  it('four endless handshake answers at once: 64 KiB each is read, the connections are dropped, memory stays flat', async () => {
    const floods: Flood[] = [];
    const rx = await startReceiver((_req, res) => {
      const stats = { sent: 0, cut: false };
      floods.push(stats);
      flood(res, 200, 'token', stats);
    });
    receivers.push(rx);
    const before = rss();
    const started = Date.now();
    const outcomes = await Promise.all([1, 2, 3, 4].map(() => postText(`${rx.url}/hook`, 'token', 10_000)));
    assert.ok(Date.now() - started < 5_000, 'answered long before the timeout');
    for (const o of outcomes) {
      assert.equal(o.status, 200);
      assert.equal(o.error, null);
      assert.equal(Buffer.byteLength(o.body), MAX_BODY);
      assert.ok(o.body.startsWith('tokenxxx'));
    }
    await new Promise((r) => setTimeout(r, 100));
    for (const f of floods) {
      assert.ok(f.cut, 'the client hung up');
      assert.ok(f.sent < 32 * MiB, `the receiver got to send ${Math.round(f.sent / MiB)} MiB`);
    }
    assert.ok(rss() - before < 64 * MiB, `RSS grew by ${Math.round((rss() - before) / MiB)} MiB`);
  });

  it('a handshake answered with the token and then an endless body fails validation (400 ValidationError)', async () => {
    const stats = { sent: 0, cut: false };
    const rx = await startReceiver((req, res) => flood(res, 200, tokenOf(req) ?? '', stats));
    receivers.push(rx);
    const res = await subscribe(`${rx.url}/hook`);
    assert.equal(res.statusCode, 400, res.body);
    assert.equal((res.json() as { error: { code: string } }).error.code, 'ValidationError');
    assert.ok(stats.sent < 32 * MiB, `the receiver got to send ${Math.round(stats.sent / MiB)} MiB`);
  });

  it('a notification answered 202 with an endless body is delivered', async () => {
    const stats = { sent: 0, cut: false };
    const rx = await startReceiver((req, res) => {
      const handshake = tokenOf(req);
      if (handshake !== null) res.writeHead(200, { 'content-type': 'text/plain' }).end(handshake);
      else flood(res, 202, '', stats);
    });
    receivers.push(rx);
    const created = await subscribe(`${rx.url}/hook`);
    assert.equal(created.statusCode, 201, created.body);
    await setStatusOk(s, ADELE, await s.userToken(ADELE), message('flooding receiver'));
    await moveClock(s, { advance: 'PT1S' });
    const entries = s.presently.notifications.log.entries().filter((e) => e.url === `${rx.url}/hook`);
    assert.equal(entries.length, 1, JSON.stringify(entries));
    assert.equal(entries[0]!.status, 202);
    assert.equal(entries[0]!.outcome, 'delivered');
    assert.ok(stats.sent < 32 * MiB, `the receiver got to send ${Math.round(stats.sent / MiB)} MiB`);
  });
});
