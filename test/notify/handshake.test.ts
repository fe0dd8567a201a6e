/**
 * The validation handshake (docs/notifications/handshake.md): what Presently sends, what it accepts as an answer, and the
 * errors `POST /subscriptions` gives when an endpoint fails it. Receivers are real HTTP servers on port 0; the
 * server's handshake timeout is shortened to 500 ms.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { startReceiver, tokenOf, type Receiver, type Respond } from '../kit/receiver.ts';
import { ALEX, ADELE, startInProcess, type TestServer } from '../kit/server.ts';
import { assertGraphError, bearer } from '../kit/graph.ts';
import {
  LIFECYCLE_VALIDATION_FAILED, LIFECYCLE_VALIDATION_TIMED_OUT, VALIDATION_FAILED, VALIDATION_TIMED_OUT, handshakeUrl,
  newValidationToken, validateEndpoint,
} from '../../src/subscriptions/handshake.ts';
import { forEachBackend } from '../kit/backends.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  const T0 = Date.parse('2026-11-28T08:00:00Z');
  const TIMEOUT_MS = 500;




  /** Receivers that get the handshake wrong in one way each. */
  const wrong: Record<string, Respond> = {
    'echoes the raw (encoded) query value': (req, res) => {
      const raw = /validationToken=([^&]*)/.exec(req.url)![1]!;
      res.writeHead(200, { 'content-type': 'text/plain' }).end(raw);
    },
    'answers another body': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello'),
    'answers an empty body': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(),
    'adds two newlines': (req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${tokenOf(req)}\n\n`),
    'adds a leading space': (req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(` ${tokenOf(req)}`),
    'answers JSON': (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tokenOf(req))),
    'answers text/html': (req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(tokenOf(req)!),
    'answers without a content type': (req, res) => {
      res.removeHeader('content-type');
      res.writeHead(200).end(Buffer.from(tokenOf(req)!));
    },
    'answers 202': (req, res) => res.writeHead(202, { 'content-type': 'text/plain' }).end(tokenOf(req)!),
    'answers 500': (req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end(tokenOf(req)!),
    'answers 404': (_req, res) => res.writeHead(404).end(),
    'redirects': (_req, res) => res.writeHead(302, { location: 'https://example.com/' }).end(),
  };

  describe('handshake: the request and the answer it needs', () => {
    it('handshakeUrl: ?validationToken= or &validationToken=, the token percent-encoded, before any fragment', () => {
      const token = 'Validation: a b&c=d/é';
      const enc = encodeURIComponent(token);
      assert.equal(handshakeUrl('https://app.example/hooks', token), `https://app.example/hooks?validationToken=${enc}`);
      assert.equal(handshakeUrl('https://app.example/hooks?tenant=1', token), `https://app.example/hooks?tenant=1&validationToken=${enc}`);
      assert.equal(handshakeUrl('https://app.example/hooks?', token), `https://app.example/hooks?validationToken=${enc}`);
      assert.equal(handshakeUrl('https://app.example/hooks?a=1&', token), `https://app.example/hooks?a=1&validationToken=${enc}`);
      assert.equal(handshakeUrl('https://app.example/hooks#frag', token), `https://app.example/hooks?validationToken=${enc}`);
      assert.equal(new URL(handshakeUrl('https://app.example/h?x=1', token)).searchParams.get('validationToken'), token);
    });

    it('tokens are fresh and contain characters that must be encoded', () => {
      const a = newValidationToken();
      assert.notEqual(a, newValidationToken());
      assert.notEqual(encodeURIComponent(a), a);
    });

    describe('validateEndpoint against real receivers', () => {
      const receivers: Receiver[] = [];
      after(async () => {
        for (const r of receivers) await r.close();
      });
      const start = async (respond?: Respond) => {
        const r = await startReceiver(respond);
        receivers.push(r);
        return r;
      };

      it('a correct endpoint passes; it got a POST, text/plain; charset=utf-8, the token as the body too', async () => {
        const rx = await start();
        const result = await validateEndpoint(`${rx.url}/hook`, { timeoutMs: TIMEOUT_MS, token: 'Validation: abc 123' });
        assert.equal(result.ok, true, JSON.stringify(result));
        const req = rx.received[0]!;
        assert.equal(req.method, 'POST');
        assert.equal(req.url, '/hook?validationToken=Validation%3A%20abc%20123');
        assert.equal(req.headers['content-type'], 'text/plain; charset=utf-8');
        assert.equal(req.body, 'Validation: abc 123');
      });

      it('a single trailing newline is tolerated (\\n or \\r\\n); text/plain with parameters is fine', async () => {
        for (const nl of ['\n', '\r\n']) {
          const rx = await start((req, res) => res.writeHead(200, { 'content-type': 'Text/Plain; charset=us-ascii' }).end(`${tokenOf(req)}${nl}`));
          assert.equal((await validateEndpoint(rx.url, { timeoutMs: TIMEOUT_MS })).ok, true);
        }
      });

      for (const [name, respond] of Object.entries(wrong)) {
        it(`fails when the endpoint ${name}`, async () => {
          const rx = await start(respond);
          const result = await validateEndpoint(`${rx.url}/hook`, { timeoutMs: TIMEOUT_MS });
          assert.equal(result.ok, false);
        });
      }

      it('reasons: status, contentType, body, timeout, network', async () => {
        const reason = async (respond: Respond | null, timeoutMs = TIMEOUT_MS) => {
          const rx = await start(respond ?? undefined);
          if (!respond) await rx.close(); // nothing listens on its port any more
          const r = await validateEndpoint(rx.url, { timeoutMs });
          return r.ok ? 'ok' : r.reason;
        };
        assert.equal(await reason(wrong['answers 500']!), 'status');
        assert.equal(await reason(wrong['answers JSON']!), 'contentType');
        assert.equal(await reason(wrong['answers another body']!), 'body');
        assert.equal(await reason(() => { /* never answers */ }, 200), 'timeout');
        assert.equal(await reason(null), 'network');
      });
    });
  });

  describe('handshake: POST /subscriptions', () => {
    let s: TestServer;
    let adele: string;
    const receivers: Receiver[] = [];
    const start = async (respond?: Respond) => {
      const r = await startReceiver(respond);
      receivers.push(r);
      return r;
    };

    before(async () => {
      s = await startInProcess({ store: backend, clock: 'manual', handshakeTimeoutMs: TIMEOUT_MS, maxSubscriptionsPerUser: 100 }, { manualStart: T0 });
      adele = await s.userToken(ADELE);
    });
    after(async () => {
      await s?.close();
      for (const r of receivers) await r.close();
    });

    const body = (notificationUrl: string, extra: Record<string, unknown> = {}) => ({
      changeType: 'updated',
      notificationUrl,
      resource: `/communications/presences/${ALEX}`,
      expirationDateTime: new Date(T0 + 50 * 60_000).toISOString(),
      ...extra,
    });
    const create = (b: unknown): Promise<LightMyRequestResponse> => s.inject({
      method: 'POST', url: '/v1.0/subscriptions', headers: { ...bearer(adele), 'content-type': 'application/json' }, payload: JSON.stringify(b),
    });
    const count = async () => ((await s.inject({ method: 'GET', url: '/v1.0/subscriptions', headers: bearer(adele) })).json() as { value: unknown[] }).value.length;

    it('succeeds: 201, and the endpoint saw the decoded token it had to echo', async () => {
      const rx = await start();
      const res = await create(body(`${rx.url}/hooks/presence`));
      assert.equal(res.statusCode, 201, res.body);
      const req = rx.received[0]!;
      const token = tokenOf(req)!;
      assert.match(token, /^Validation: .+ [0-9a-f-]{36}$/);
      assert.ok(req.url.includes(`validationToken=${encodeURIComponent(token)}`), req.url);
      const id = (res.json() as { id: string }).id;
      assert.equal((await s.inject({ method: 'GET', url: `/v1.0/subscriptions/${id}`, headers: bearer(adele) })).statusCode, 200);
    });

    it('a URL with a query gets &validationToken=, its own query kept', async () => {
      const rx = await start();
      const res = await create(body(`${rx.url}/hooks?tenant=contoso&x=1`));
      assert.equal(res.statusCode, 201, res.body);
      assert.match(rx.received[0]!.url, /^\/hooks\?tenant=contoso&x=1&validationToken=Validation/);
      assert.equal((res.json() as { notificationUrl: string }).notificationUrl, `${rx.url}/hooks?tenant=contoso&x=1`);
    });

    for (const [name, respond] of Object.entries(wrong)) {
      it(`400 ValidationError when the endpoint ${name}; nothing is stored`, async () => {
        const before = await count();
        const rx = await start(respond);
        assertGraphError(await create(body(`${rx.url}/hook`)), 400, 'ValidationError', VALIDATION_FAILED);
        assert.equal(rx.received.length, 1);
        assert.equal(await count(), before);
      });
    }

    it('400 ValidationError when nothing listens', async () => {
      const rx = await start();
      await rx.close();
      assertGraphError(await create(body(`${rx.url}/hook`)), 400, 'ValidationError', VALIDATION_FAILED);
    });

    it('too slow (over the configured timeout): 400 "Subscription validation request timed out."', async () => {
      const rx = await start((req, res) => {
        setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(tokenOf(req)!), TIMEOUT_MS * 3);
      });
      const started = performance.now();
      assertGraphError(await create(body(`${rx.url}/slow`)), 400, 'ValidationError', VALIDATION_TIMED_OUT);
      const took = performance.now() - started;
      assert.ok(took >= TIMEOUT_MS - 50 && took < TIMEOUT_MS * 3, `gave up after ${Math.round(took)} ms`);
    });

    it('just in time is fine', async () => {
      const rx = await start((req, res) => {
        setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(tokenOf(req)!), TIMEOUT_MS / 5);
      });
      assert.equal((await create(body(`${rx.url}/slowish`))).statusCode, 201);
    });

    describe('lifecycleNotificationUrl is validated the same way', () => {
      it('both endpoints get a handshake (each its own token)', async () => {
        const hooks = await start();
        const lifecycle = await start();
        const res = await create(body(`${hooks.url}/hooks`, { lifecycleNotificationUrl: `${lifecycle.url}/lifecycle` }));
        assert.equal(res.statusCode, 201, res.body);
        assert.equal((res.json() as { lifecycleNotificationUrl: string }).lifecycleNotificationUrl, `${lifecycle.url}/lifecycle`);
        assert.equal(hooks.received.length, 1);
        assert.equal(lifecycle.received.length, 1);
        assert.match(lifecycle.received[0]!.url, /^\/lifecycle\?validationToken=/);
        assert.notEqual(tokenOf(hooks.received[0]!), tokenOf(lifecycle.received[0]!));
      });

      it('a failing lifecycle endpoint: 400 ValidationError naming it; nothing is stored', async () => {
        const before = await count();
        const hooks = await start();
        const lifecycle = await start(wrong['answers 500']);
        assertGraphError(await create(body(`${hooks.url}/hooks`, { lifecycleNotificationUrl: `${lifecycle.url}/lifecycle` })),
          400, 'ValidationError', LIFECYCLE_VALIDATION_FAILED);
        assert.equal(await count(), before);
      });

      it('a slow lifecycle endpoint: 400 timed out', async () => {
        const hooks = await start();
        const lifecycle = await start(() => { /* never answers */ });
        assertGraphError(await create(body(`${hooks.url}/hooks`, { lifecycleNotificationUrl: `${lifecycle.url}/lifecycle` })),
          400, 'ValidationError', LIFECYCLE_VALIDATION_TIMED_OUT);
      });

      it('the notification endpoint is checked first', async () => {
        const hooks = await start(wrong['answers another body']);
        const lifecycle = await start();
        assertGraphError(await create(body(`${hooks.url}/hooks`, { lifecycleNotificationUrl: `${lifecycle.url}/lifecycle` })),
          400, 'ValidationError', VALIDATION_FAILED);
        assert.equal(lifecycle.received.length, 0);
      });

      it('the URL policy applies to it too', async () => {
        const hooks = await start();
        assertGraphError(await create(body(`${hooks.url}/hooks`, { lifecycleNotificationUrl: 'http://example.com/lifecycle' })),
          400, 'BadRequest', /'lifecycleNotificationUrl'.*not allowed/);
        assert.equal(hooks.received.length, 0, 'no handshake before the policy check');
      });
    });
  });
});
