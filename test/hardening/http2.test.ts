/**
 * Under --https Presently offers HTTP/2 by ALPN and falls back to HTTP/1.1 (docs/operations/hardening.md#https-and-http2):
 * the same answers and headers either way, $batch items keep the request's host, and the HTTP/1.1 fallback keeps
 * its connection limits (a request that trickles in is closed after the headers timeout).
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { ADELE, startInProcess, type TestServer } from '../kit/server.ts';

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function h2request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers);
    let data = '';
    let head: http2.IncomingHttpHeaders = {};
    req.setEncoding('utf8');
    req.on('response', (h) => { head = h; });
    req.on('data', (d: string) => { data += d; });
    req.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: data }));
    req.on('error', reject);
    req.end(body);
  });
}

describe('HTTP/2 and HTTP/1.1 over TLS', () => {
  let s: TestServer;
  let url: string;
  let token: string;
  let session: http2.ClientHttp2Session;

  before(async () => {
    s = await startInProcess({ https: true, headersTimeoutMs: 400, requestTimeoutMs: 800 });
    url = await s.listen();
    token = await s.userToken(ADELE);
    session = http2.connect(url, { rejectUnauthorized: false });
    await new Promise((resolve, reject) => session.once('connect', resolve).once('error', reject));
  });
  after(async () => {
    session?.close();
    await s.close();
  });

  it('a client offering h2 gets HTTP/2, with Graph\'s headers and body', async () => {
    assert.equal(session.alpnProtocol, 'h2');
    const res = await h2request(session, { ':path': '/v1.0/me/presence', authorization: `Bearer ${token}`, 'client-request-id': 'h2-trace' });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['client-request-id'], 'h2-trace');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.match(String(res.headers['x-ms-ags-diagnostic']), /"ServerInfo"/);
    const body = JSON.parse(res.body) as { '@odata.context': string; id: string };
    assert.equal(body.id, ADELE);
    assert.equal(body['@odata.context'], `${url}/v1.0/$metadata#users('${ADELE}')/presence/$entity`);
  });

  it('over HTTP/2 a 401 has its challenge, a write and a $batch work, and batch items name the request\'s own host', async () => {
    const denied = await h2request(session, { ':path': '/v1.0/me/presence' });
    assert.equal(denied.status, 401);
    assert.match(String(denied.headers['www-authenticate']), /^Bearer realm="", authorization_uri="/);
    const set = await h2request(session, {
      ':method': 'POST', ':path': '/v1.0/me/presence/setStatusMessage', authorization: `Bearer ${token}`, 'content-type': 'application/json',
    }, JSON.stringify({ statusMessage: { message: { content: 'over h2', contentType: 'text' } } }));
    assert.equal(set.status, 200, set.body);
    const batch = await h2request(session, {
      ':method': 'POST', ':path': '/v1.0/$batch', authorization: `Bearer ${token}`, 'content-type': 'application/json',
    }, JSON.stringify({ requests: [{ id: '1', method: 'GET', url: '/me/presence' }] }));
    const item = (JSON.parse(batch.body) as { responses: Array<{ status: number; body: { '@odata.context': string; statusMessage: { message: { content: string } } } }> }).responses[0]!;
    assert.equal(item.status, 200);
    assert.equal(item.body.statusMessage.message.content, 'over h2');
    assert.equal(item.body['@odata.context'], `${url}/v1.0/$metadata#users('${ADELE}')/presence/$entity`);
  });

  it('a client offering only HTTP/1.1 is served HTTP/1.1 with the same answer', async () => {
    const res = await new Promise<{ status: number; alpn: string | false; version: string; body: string }>((resolve, reject) => {
      const req = https.request(`${url}/v1.0/me/presence`, { rejectUnauthorized: false, headers: { authorization: `Bearer ${token}` }, agent: false }, (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => { body += d; });
        r.on('end', () => resolve({ status: r.statusCode ?? 0, alpn: (r.socket as tls.TLSSocket).alpnProtocol ?? false, version: r.httpVersion, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.version, '1.1');
    assert.notEqual(res.alpn, 'h2');
  });

  it('the HTTP/1.1 fallback keeps the headers timeout: headers that trickle in are cut off', async () => {
    const { port } = new URL(url);
    const socket = tls.connect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    socket.on('error', () => {});
    let answer = '';
    socket.on('data', (d: Buffer) => { answer += d.toString('latin1'); });
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    const opened = Date.now();
    socket.write('GET /v1.0/me/presence HTTP/1.1\r\nHost: x\r\n');
    const closedAfter = await Promise.race([
      new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened))),
      new Promise<number>((resolve) => setTimeout(() => resolve(-1), 5000)),
    ]);
    socket.destroy();
    assert.ok(closedAfter > 0 && closedAfter < 3000, `closed after ${closedAfter} ms (headers timeout 400 ms)`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
  });
});

describe('stopping with an idle HTTP/2 client', () => {
  it('close() ends idle HTTP/2 sessions (GOAWAY) instead of waiting for their idle timeout', async () => {
    const s = await startInProcess({ https: true, idleTimeoutMs: 60_000 });
    const url = await s.listen();
    const session = http2.connect(url, { rejectUnauthorized: false });
    session.on('error', () => {});
    const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
    const answer = await h2request(session, { ':path': '/_presently/health' });
    assert.equal(answer.status, 200);
    // The client keeps its session open, as browsers and SDK clients do.
    const t0 = Date.now();
    await s.close();
    const ms = Date.now() - t0;
    await goaway;
    session.destroy();
    assert.ok(ms < 5_000, `close() took ${ms} ms`);
  });
});
