/**
 * Throttling (docs/api/throttling.md, `--throttle graph`): per application per tenant, a read limit (GET presence and
 * getPresencesByUserId) and an overall limit, 429 TooManyRequests with a Retry-After that says when a request will
 * next succeed; /_presently is never throttled; with throttling off nothing is.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { ManualClock } from '../../src/platform/clock/manual.ts';
import { UsageError, toConfig } from '../../src/cli/options.ts';
import { DEFAULTS } from '../../src/config/config.ts';
import Fastify from 'fastify';
import type { TokenVerifier } from '../../src/auth/verify.ts';
import type { Principal } from '../../src/auth/types.ts';
import { Throttle, classify, installThrottle } from '../../src/http/throttle.ts';
import { genReqId, installWire } from '../../src/http/wire.ts';
import { systemClock } from '../../src/platform/clock/system.ts';
import { StoreUnavailable } from '../../src/store/errors.ts';
import { LocalRateLimits } from '../../src/store/memory/rateLimits.ts';
import { ADELE, ALEX, TENANT, startInProcess, type TestServer } from '../kit/server.ts';
import { assertGraphError, bearer, message, mintToken, postJson } from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  const START = Date.parse('2026-11-28T07:00:00Z');
  const LIMITS = { throttle: 'graph', throttleReadLimit: 3, throttleLimit: 5, throttleWindow: 30, clock: 'manual' } as const;
  const OTHER_TENANT = '0b7a8d1e-5c2f-4e3a-9d6b-1f2e3d4c5b6a';

  describe('throttling: --throttle graph', () => {
    let s: TestServer;
    const advance = (ms: number) => (s.presently.clock as ManualClock).advance(ms);

    /** A fresh application (so each test starts with a full budget) and a token for it. */
    const newApp = async (tenantId = TENANT) => {
      const appId = randomUUID();
      return { appId, token: await mintToken(s, { appId, tenantId }) };
    };
    const read = (token: string, version = 'v1.0') =>
      s.inject({ method: 'GET', url: `/${version}/users/${ADELE}/presence`, headers: bearer(token) });
    const readMany = (token: string) => postJson(s, '/v1.0/communications/getPresencesByUserId', token, { ids: [ADELE, ALEX] });
    const write = (token: string) => postJson(s, `/v1.0/users/${ADELE}/presence/setStatusMessage`, token, message('throttled?'));

    const assertOk = (res: LightMyRequestResponse) => assert.equal(res.statusCode, 200, `${res.statusCode} ${res.body}`);
    const assertThrottled = (res: LightMyRequestResponse, retryAfter: number) => {
      assertGraphError(res, 429, 'TooManyRequests', `Too many requests. Retry after ${retryAfter} seconds.`);
      assert.equal(res.headers['retry-after'], String(retryAfter));
    };

    before(async () => {
      s = await startInProcess({ ...LIMITS, store: backend }, { manualStart: START });
    });
    after(() => s?.close());

    it('answers the read over the limit 429 TooManyRequests with Retry-After and Graph\'s error body', async () => {
      const { token } = await newApp();
      assertOk(await read(token));
      assertOk(await s.inject({ method: 'GET', url: `/v1.0/communications/presences/${ADELE}`, headers: bearer(token) }));
      assertOk(await readMany(token)); // getPresencesByUserId is a read
      const res = await read(token);
      assertThrottled(res, 30);
      assertThrottled(await read(token, 'beta'), 30); // one budget across /v1.0 and /beta
      assertThrottled(await readMany(token), 30);
    });

    it('counts writes toward the overall limit only', async () => {
      const { token } = await newApp();
      assertOk(await write(token));
      assertOk(await write(token));
      // Two writes leave the whole read budget…
      assertOk(await read(token));
      assertOk(await read(token));
      assertOk(await read(token));
      // …but the overall limit (5) is now reached: writes and reads alike are refused.
      assertThrottled(await write(token), 30);
      assertThrottled(await read(token), 30);
    });

    it('lets writes through while reads are throttled, up to the overall limit', async () => {
      const { token } = await newApp();
      for (let i = 0; i < 3; i++) assertOk(await read(token));
      assertThrottled(await read(token), 30);
      assertOk(await write(token));
      assertOk(await write(token));
      assertThrottled(await write(token), 30);
    });

    it('keeps one budget per application per tenant, shared by its delegated and application tokens', async () => {
      const a = await newApp();
      for (let i = 0; i < 3; i++) assertOk(await read(a.token));
      assertThrottled(await read(a.token), 30);
      // A delegated token of the same app in the same tenant shares the budget.
      const adele = await mintToken(s, { userId: ADELE, appId: a.appId });
      assertThrottled(await s.inject({ method: 'GET', url: '/v1.0/me/presence', headers: bearer(adele) }), 30);
      // Another app in the same tenant has its own.
      const b = await newApp();
      assertOk(await read(b.token));
      // The same app in another tenant has its own.
      const elsewhere = await mintToken(s, { appId: a.appId, tenantId: OTHER_TENANT });
      for (let i = 0; i < 3; i++) assertOk(await readMany(elsewhere));
      assertThrottled(await readMany(elsewhere), 30);
    });

    it('gives a Retry-After that shrinks as the clock moves and is right: access returns when it runs out', async () => {
      const { token } = await newApp();
      for (let i = 0; i < 3; i++) assertOk(await read(token));
      assertThrottled(await read(token), 30);
      await advance(10_000);
      assertThrottled(await read(token), 20);
      await advance(19_400);
      assertThrottled(await read(token), 1); // 0.6 s left: never 0
      await advance(500);
      assertThrottled(await read(token), 1);
      await advance(100); // the window is over
      for (let i = 0; i < 3; i++) assertOk(await read(token));
      assertThrottled(await read(token), 30); // a full new window
      await advance(31_000);
      assertOk(await read(token));
    });

    it('does not count refused requests', async () => {
      const { token } = await newApp();
      for (let i = 0; i < 3; i++) assertOk(await read(token));
      for (let i = 0; i < 10; i++) assertThrottled(await read(token), 30);
      assertOk(await write(token)); // the refused reads did not spend the overall budget
      assertOk(await write(token));
    });

    it('does not count requests whose token fails: they get their own 401, and key no budget', async () => {
      for (let i = 0; i < 10; i++) {
        const res = await s.inject({ method: 'GET', url: `/v1.0/users/${ADELE}/presence`, headers: bearer('not.a.token') });
        assertGraphError(res, 401, 'InvalidAuthenticationToken');
        assertGraphError(await s.inject({ method: 'GET', url: `/v1.0/users/${ADELE}/presence` }), 401, 'InvalidAuthenticationToken');
      }
    });

    it('counts requests that fail after authentication (404, 400, 403): they reached the service', async () => {
      const { token } = await newApp();
      const readOnly = await mintToken(s, { appId: randomUUID(), roles: ['Presence.Read.All'] });
      assert.equal((await s.inject({ method: 'GET', url: `/v1.0/users/${randomUUID()}/presence`, headers: bearer(token) })).statusCode, 404);
      assertOk(await readMany(token));
      assert.equal((await postJson(s, '/v1.0/communications/getPresencesByUserId', token, { ids: [] })).statusCode, 400);
      assertThrottled(await read(token), 30);
      for (let i = 0; i < 5; i++) assertGraphError(await write(readOnly), 403, 'Forbidden');
      assertThrottled(await write(readOnly), 30);
    });

    it('counts each $batch item on its own, and not the $batch envelope', async (t) => {
      const { token } = await newApp();
      const batch = (requests: object[]) => postJson(s, '/v1.0/$batch', token, { requests });
      const writeItem = (id: string) => ({
        id, method: 'POST', url: `/users/${ADELE}/presence/setStatusMessage`, headers: { 'content-type': 'application/json' },
        body: { statusMessage: { message: { content: `batch ${id}`, contentType: 'text' } } },
      });
      const first = await batch([writeItem('1'), writeItem('2'), writeItem('3'), writeItem('4'), writeItem('5')]);
      if (first.statusCode === 404) return t.skip('$batch is not served yet');
      assertOk(first);
      // Five items fill the overall limit exactly: had the envelope counted, one would have been refused.
      const statuses = (first.json() as { responses: Array<{ status: number }> }).responses.map((r) => r.status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
      assertThrottled(await write(token), 30);
      const second = await batch([{ id: '1', method: 'GET', url: `/users/${ADELE}/presence` }]);
      assertOk(second); // the envelope itself is never throttled; its item is
      assert.deepEqual((second.json() as { responses: Array<{ status: number }> }).responses.map((r) => r.status), [429]);
    });

    it('never throttles /_presently or /metrics', async () => {
      const { appId, token } = await newApp();
      for (let i = 0; i < 5; i++) assertOk(await write(token));
      assertThrottled(await read(token), 30);
      for (let i = 0; i < 10; i++) {
        assertOk(await s.inject({ method: 'GET', url: '/_presently/health', headers: bearer(token) }));
        assertOk(await s.inject({ method: 'GET', url: '/_presently/info', headers: bearer(token) }));
        assertOk(await s.inject({ method: 'GET', url: '/metrics', headers: bearer(token) }));
        await mintToken(s, { appId });
      }
      assertOk(await s.inject({ method: 'POST', url: '/_presently/clock', payload: { advance: 'PT1S' } }));
    });
  });

  describe('throttling: --throttle off (the default)', () => {
    let s: TestServer;
    before(async () => {
      s = await startInProcess({ store: backend, throttleReadLimit: 1, throttleLimit: 1, throttleWindow: 30, clock: 'manual' }, { manualStart: START });
    });
    after(() => s?.close());

    it('never answers 429', async () => {
      const token = await s.appToken();
      for (let i = 0; i < 20; i++) {
        const res = await s.inject({ method: 'GET', url: `/v1.0/users/${ADELE}/presence`, headers: bearer(token) });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.headers['retry-after'], undefined);
        const w = await postJson(s, `/beta/users/${ADELE}/presence/setStatusMessage`, token, message('free'));
        assert.equal(w.statusCode, 200, w.body);
      }
    });
  });

  describe('throttling: counters', () => {
    const limits = { windowMs: 30_000, readLimit: 3, limit: 5 };

    it('drops the keys of windows that have ended (a single-writer store counts in memory)', async () => {
      const counters = new LocalRateLimits();
      const t = new Throttle(limits, counters);
      for (let i = 0; i < 1000; i++) assert.equal(await t.take('t', `app-${i}`, 'read', START), 0);
      assert.equal(counters.size, 1000);
      assert.equal(await t.take('t', 'later', 'other', START + 29_999), 0);
      assert.equal(counters.size, 1001); // no window has ended yet
      assert.equal(await t.take('t', 'last', 'other', START + 30_000), 0);
      assert.equal(counters.size, 2); // 'later' (ends at +59.999 s) and 'last'
      assert.equal(await t.take('t', 'x', 'other', START + 120_000), 0);
      assert.equal(counters.size, 1);
    });

    it('says how long until the next request would succeed, in whole seconds, at least 1', async () => {
      const t = new Throttle(limits, new LocalRateLimits());
      for (let i = 0; i < 3; i++) assert.equal(await t.take('t', 'a', 'read', START + i), 0);
      assert.equal(await t.take('t', 'a', 'read', START + 3), 30);
      assert.equal(await t.take('t', 'a', 'read', START + 15_000), 15);
      assert.equal(await t.take('t', 'a', 'read', START + 29_999), 1);
      assert.equal(await t.take('t', 'a', 'read', START + 30_000), 0);
    });

    it('never says more than one window, whatever the store answers (nodes\' clocks differ a little)', async () => {
      const t = new Throttle(limits, { takeRate: async () => 45_000 });
      assert.equal(await t.take('t', 'a', 'read', START), 30);
    });

    it('classifies routes: reads, other presence-service requests, and what it does not count', () => {
      assert.equal(classify('GET', '/v1.0/me/presence'), 'read');
      assert.equal(classify('GET', '/beta/users/:id/presence'), 'read');
      assert.equal(classify('GET', '/v1.0/communications/presences/:id'), 'read');
      assert.equal(classify('POST', '/v1.0/communications/getPresencesByUserId'), 'read');
      assert.equal(classify('POST', '/v1.0/users/:id/presence/:action'), 'other');
      assert.equal(classify('POST', '/v1.0/me/presence'), 'other'); // a 405 still reached the service
      assert.equal(classify('PATCH', '/v1.0/users/:id/mailboxSettings'), 'other');
      assert.equal(classify('GET', '/beta/me/mailboxSettings'), 'other');
      assert.equal(classify('POST', '/v1.0/$batch'), null); // each item counts on its own, the envelope does not
      assert.equal(classify('POST', '/beta/$batch'), null);
      assert.equal(classify('GET', '/_presently/health'), null);
      assert.equal(classify('GET', '/metrics'), null);
      assert.equal(classify('GET', undefined), null);
    });
  });

  describe('throttling: when the store cannot count', () => {
    it('answers 503 ServiceUnavailable with Retry-After at once: the request is not let through', async () => {
      const app = Fastify({ logger: false, genReqId });
      installWire(app, systemClock());
      let reachedRoute = false;
      const principal: Principal = { kind: 'application', tenantId: TENANT, userId: null, appId: randomUUID(), scopes: new Set(), roles: new Set() };
      installThrottle(app, {
        clock: systemClock(),
        verifier: { verify: async () => principal } as unknown as TokenVerifier,
        store: { takeRate: () => Promise.reject(new StoreUnavailable('Redis', new Error('Command timed out'))) },
        limits: { windowMs: 30_000, readLimit: 3, limit: 5 },
      });
      app.get('/v1.0/users/:id/presence', async () => {
        reachedRoute = true;
        return {};
      });
      const res = await app.inject({ method: 'GET', url: `/v1.0/users/${ADELE}/presence`, headers: bearer('any') });
      assertGraphError(res, 503, 'ServiceUnavailable');
      assert.equal(res.headers['retry-after'], '5');
      assert.equal(reachedRoute, false);
      await app.close();
    });
  });

  describe('throttling: configuration', () => {
    it('defaults to off with Graph\'s limits', () => {
      const c = toConfig({}, {});
      assert.equal(c.throttle, 'off');
      assert.equal(c.throttleWindow, 30);
      assert.equal(c.throttleReadLimit, 1500);
      assert.equal(c.throttleLimit, 10_000);
      assert.deepEqual({ ...DEFAULTS }, toConfig({}, {}));
    });

    it('reads the flags and their PRESENTLY_* variables; a flag wins', () => {
      const c = toConfig({ throttle: 'graph', throttleWindow: '10' }, {
        PRESENTLY_THROTTLE: 'off', PRESENTLY_THROTTLE_READ_LIMIT: '7', PRESENTLY_THROTTLE_LIMIT: '9', PRESENTLY_THROTTLE_WINDOW: '60',
      });
      assert.equal(c.throttle, 'graph');
      assert.equal(c.throttleWindow, 10);
      assert.equal(c.throttleReadLimit, 7);
      assert.equal(c.throttleLimit, 9);
    });

    it('refuses bad values with a clear message', () => {
      assert.throws(() => toConfig({ throttle: 'on' }, {}), (e: Error) => e instanceof UsageError && /--throttle must be one of off, graph/.test(e.message));
      assert.throws(() => toConfig({ throttleWindow: '0' }, {}), UsageError);
      assert.throws(() => toConfig({}, { PRESENTLY_THROTTLE_LIMIT: 'lots' }), UsageError);
    });
  });
});
