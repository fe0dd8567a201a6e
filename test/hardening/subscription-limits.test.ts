/**
 * Subscriptions are bounded: caps per application per tenant and per tenant (403 naming the cap, checked before
 * any handshake), and GET /subscriptions answers in pages linked by `@odata.nextLink`, oldest first, that a client
 * can follow to the end without seeing one twice or missing one, while others are created and deleted meanwhile.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { startReceiver, type Receiver } from '../kit/receiver.ts';
import { ADELE, ALEX, startInProcess, type TestServer } from '../kit/server.ts';
import { assertGraphError, bearer, mintToken, moveClock } from '../kit/graph.ts';
import { toConfig } from '../../src/cli/options.ts';
import { manualClock } from '../../src/platform/clock/manual.ts';
import { Lifecycle } from '../../src/notifications/lifecycle.ts';
import { openStore } from '../../src/store/index.ts';
import type { Store } from '../../src/store/types.ts';
import { subscription } from '../store/contract/fixtures.ts';
import { SUBSCRIPTION_PAGE_SIZE } from '../../src/subscriptions/paging.ts';

const T0 = Date.parse('2026-11-28T08:00:00Z');
const MIN = 60_000;
const HOST = 'presently.test:8080';
const OTHER_APP = '0d7c6a57-52c4-4bd2-9d5b-4f4e1c8a9a10';
const THIRD_APP = '5b0c3f7e-8d0a-4f0e-9a44-6e1f2a3b4c5d';

function send(s: TestServer, method: 'GET' | 'POST' | 'DELETE', url: string, token: string, body?: unknown): Promise<LightMyRequestResponse> {
  return s.inject({
    method, url,
    headers: { host: HOST, ...bearer(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

interface Page { '@odata.context': string; '@odata.nextLink'?: string; value: Array<{ id: string }> }

describe('subscription caps', () => {
  let s: TestServer;
  let rx: Receiver;
  let body: Record<string, unknown>;

  before(async () => {
    s = await startInProcess({ clock: 'manual', maxSubscriptionsPerUser: 100, maxSubscriptionsPerApp: 3, maxSubscriptionsPerTenant: 5 }, { manualStart: T0 });
    rx = await startReceiver();
    body = {
      changeType: 'updated', notificationUrl: `${rx.url}/hooks/presence`,
      resource: `/communications/presences/${ALEX}`, expirationDateTime: new Date(T0 + 50 * MIN).toISOString(),
    };
  });
  after(async () => {
    await s?.close();
    await rx?.close();
  });

  it('403 over the per-application cap, naming it, with no handshake; other apps keep their room until the tenant cap', async () => {
    const adele = await s.userToken(ADELE);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await send(s, 'POST', '/v1.0/subscriptions', adele, body);
      assert.equal(res.statusCode, 201, res.body);
      ids.push((res.json() as { id: string }).id);
    }
    const handshakes = rx.received.length;
    const over = await send(s, 'POST', '/v1.0/subscriptions', adele, body);
    assertGraphError(over, 403, 'ExtensionError', /^Operation: Create; Exception: \[Status Code: Forbidden; Reason: Maximum number of subscriptions has been reached: the limit is 3 subscriptions per application in a tenant, and 3 exist\./);
    // The same cap for another user of the same app.
    assertGraphError(await send(s, 'POST', '/beta/subscriptions', await s.userToken(ALEX), body), 403, 'ExtensionError', /3 subscriptions per application/);
    assert.equal(rx.received.length, handshakes, 'a refused create makes no outbound call');

    // Two more apps: the second's second subscription would be the tenant's sixth.
    const other = await mintToken(s, { userId: ADELE, appId: OTHER_APP });
    const third = await mintToken(s, { userId: ADELE, appId: THIRD_APP });
    assert.equal((await send(s, 'POST', '/v1.0/subscriptions', other, body)).statusCode, 201);
    assert.equal((await send(s, 'POST', '/v1.0/subscriptions', third, body)).statusCode, 201);
    assertGraphError(await send(s, 'POST', '/v1.0/subscriptions', third, body), 403, 'ExtensionError',
      /the limit is 5 subscriptions per tenant, all applications together, and 5 exist/);

    // Room again once one is deleted, or once one has expired and gone.
    assert.equal((await send(s, 'DELETE', `/v1.0/subscriptions/${ids[0]}`, adele)).statusCode, 204);
    assert.equal((await send(s, 'POST', '/v1.0/subscriptions', third, body)).statusCode, 201);
    assertGraphError(await send(s, 'POST', '/v1.0/subscriptions', adele, body), 403, 'ExtensionError');
    await moveClock(s, { advance: 'PT61M' });
    assert.equal((await send(s, 'POST', '/v1.0/subscriptions', adele, { ...body, expirationDateTime: new Date(T0 + 111 * MIN).toISOString() })).statusCode, 201);
  });

  it('--max-subscriptions-per-app and --max-subscriptions-per-tenant, or their PRESENTLY_* variables; defaults 1000 and 10000', () => {
    assert.deepEqual(
      [toConfig({}, {}).maxSubscriptionsPerApp, toConfig({}, {}).maxSubscriptionsPerTenant], [1000, 10_000]);
    const env = { PRESENTLY_MAX_SUBSCRIPTIONS_PER_APP: '20', PRESENTLY_MAX_SUBSCRIPTIONS_PER_TENANT: '200' };
    assert.deepEqual([toConfig({}, env).maxSubscriptionsPerApp, toConfig({}, env).maxSubscriptionsPerTenant], [20, 200]);
    assert.equal(toConfig({ maxSubscriptionsPerApp: '7' }, env).maxSubscriptionsPerApp, 7, 'the flag wins');
    assert.throws(() => toConfig({ maxSubscriptionsPerTenant: '0' }, {}), /--max-subscriptions-per-tenant must be a whole number from 1/);
  });
});

describe('GET /subscriptions pages', () => {
  let s: TestServer;
  let rx: Receiver;
  let adele: string;
  let body: Record<string, unknown>;

  before(async () => {
    s = await startInProcess({ clock: 'manual', maxSubscriptionsPerUser: 1_000, publicUrl: 'https://graph.presently.example' }, { manualStart: T0 });
    rx = await startReceiver();
    adele = await s.userToken(ADELE);
    body = {
      changeType: 'updated', notificationUrl: `${rx.url}/hooks/presence`,
      resource: `/communications/presences/${ALEX}`, expirationDateTime: new Date(T0 + 59 * MIN).toISOString(),
    };
  });
  after(async () => {
    await s?.close();
    await rx?.close();
  });

  async function create(token = adele): Promise<string> {
    const res = await send(s, 'POST', '/v1.0/subscriptions', token, body);
    assert.equal(res.statusCode, 201, res.body);
    return (res.json() as { id: string }).id;
  }

  /** Every page from the first, following each nextLink as given (its path and query on this server). */
  async function follow(onPage?: (n: number) => Promise<void>): Promise<Page[]> {
    const pages: Page[] = [];
    for (let url: string | undefined = '/v1.0/subscriptions'; url !== undefined;) {
      const res = await send(s, 'GET', url, adele);
      assert.equal(res.statusCode, 200, res.body);
      const page = res.json() as Page;
      pages.push(page);
      const next = page['@odata.nextLink'];
      if (next !== undefined) {
        assert.ok(next.startsWith('https://graph.presently.example/v1.0/subscriptions?$skiptoken='), next);
        assert.deepEqual(Object.keys(page), ['@odata.context', '@odata.nextLink', 'value']);
      }
      url = next?.slice('https://graph.presently.example'.length);
      await onPage?.(pages.length);
    }
    return pages;
  }

  it('pages of 100, oldest first, followed to the end: none twice, none missing', async () => {
    const made: string[] = [];
    // Two creation instants, each with many subscriptions: the order is by instant, then by id.
    for (let i = 0; i < 120; i++) made.push(await create());
    await moveClock(s, { advance: 'PT1S' });
    const later: string[] = [];
    for (let i = 0; i < 130; i++) later.push(await create());
    await create(await s.userToken(ALEX)); // another creator's: never listed for Adele
    const expected = [...made.sort(), ...later.sort()];

    const pages = await follow();
    assert.deepEqual(pages.map((p) => p.value.length), [SUBSCRIPTION_PAGE_SIZE, SUBSCRIPTION_PAGE_SIZE, 50]);
    assert.equal(pages[2]!['@odata.nextLink'], undefined, 'the last page has no nextLink');
    assert.deepEqual(pages.flatMap((p) => p.value.map((v) => v.id)), expected);
  });

  it('creates and deletes between pages neither repeat nor skip the ones there all along', async () => {
    const before = (await follow()).flatMap((p) => p.value.map((v) => v.id));
    const deleted = before[150]!;
    const created: string[] = [];
    const seen = (await follow(async (n) => {
      if (n !== 1) return;
      // After the first page: one on a later page goes, and new ones (newest, so last) arrive.
      assert.equal((await send(s, 'DELETE', `/v1.0/subscriptions/${deleted}`, adele)).statusCode, 204);
      await moveClock(s, { advance: 'PT1S' });
      created.push(await create(), await create());
    })).flatMap((p) => p.value.map((v) => v.id));
    assert.equal(new Set(seen).size, seen.length, 'no subscription twice');
    assert.deepEqual(seen, [...before.filter((id) => id !== deleted), ...created.sort()]);
  });

  it('a $skiptoken that is not one of ours is a 400 naming it', async () => {
    for (const bad of ['nope', 'MTIzLmFiYw', '%00', 'a'.repeat(300)]) {
      assertGraphError(await send(s, 'GET', `/v1.0/subscriptions?$skiptoken=${bad}`, adele), 400, 'BadRequest', /\$skiptoken/);
    }
    assertGraphError(await send(s, 'GET', '/v1.0/subscriptions?$skiptoken=a&$skiptoken=b', adele), 400, 'BadRequest', /more than once/);
  });
});

describe('the lifecycle reacts to the one subscription that changed', () => {
  /** The store, counting the calls that read many subscriptions. */
  function counting(store: Store): { store: Store; reads: () => number } {
    let reads = 0;
    const spied = new Proxy(store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (name === 'subscriptionsExpiringBy' || name === 'listSubscriptions') reads++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    return { store: spied, reads: () => reads };
  }

  it('a create or renewal reads only that subscription, and still arms the loop for its earlier notice', async () => {
    const backing = openStore({ kind: 'memory', dataDir: '' });
    const { store, reads } = counting(backing);
    const clock = manualClock(T0);
    const lifecycle = new Lifecycle(store, clock, { safetyIntervalMs: 0 });
    try {
      const withUrl = (n: number, expiresAt: number) =>
        subscription(n, undefined, { expiresAt, createdAt: T0, lifecycleNotificationUrl: `https://app.example/life/${n}` });
      for (let n = 1; n <= 50; n++) await store.putSubscription(withUrl(n, T0 + 60 * MIN));
      await lifecycle.start();
      const afterStart = reads();
      // Fifty more creates, then one whose notice (at 40 minutes) comes before every other (at 50).
      for (let n = 51; n <= 100; n++) {
        await store.putSubscription(withUrl(n, T0 + 60 * MIN));
        await lifecycle.changed(withUrl(n, 0).id);
      }
      await store.putSubscription(withUrl(101, T0 + 50 * MIN));
      await lifecycle.changed(withUrl(101, 0).id);
      assert.equal(reads(), afterStart, 'no create read the other subscriptions');
      assert.equal(await store.countDeliveries(), 0);

      await clock.set(T0 + 40 * MIN - 1);
      await lifecycle.idle();
      assert.equal(lifecycle.warned, 0, 'nothing before its instant');
      await clock.set(T0 + 40 * MIN);
      await lifecycle.idle(); // the pass the alarm started
      assert.equal(lifecycle.warned, 1, 'the notice of the subscription created last went out at its instant');
      assert.equal(await store.countDeliveries(), 1);
    } finally {
      await lifecycle.stop();
      await backing.close();
    }
  });
});
