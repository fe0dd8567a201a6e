/**
 * Dead webhook receivers must slow down nobody else. Receivers that pass the validation handshake and then never
 * answer a notification POST, many subscriptions on them, many writes: an unrelated user in another tenant still
 * reads their presence at once, the deliverer does not spin on the dead endpoints' items, and the server shuts down
 * promptly. Real sockets for the receivers (a POST that never gets an answer is real network time).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startReceiver } from '../kit/receiver.ts';
import { ADELE, TENANT, startInProcess, type TestServer } from '../kit/server.ts';
import { createUser, message, mintToken, postJson } from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

/** Answers the handshake (echoes the token), then keeps every notification POST open without an answer. */
async function deadReceiver(): Promise<{ url: string; posts: () => number; close(): Promise<void> }> {
  const rx = await startReceiver({ path: '/hooks', answer: () => 'hang' });
  return { url: rx.url, posts: () => rx.posts.length, close: rx.close };
}

const OTHER_TENANT = '0c7e4a51-6f3d-4b8e-9a2c-5d1f0e3b7a94';
const SUBSCRIPTIONS = 8;
const USERS = 40;
const WRITES = 400;
/** Samples already recorded for each endpoint: 10 of 100 over 2.9 s, so the first timed-out POST throttles it. */
const SLOW_BEFORE = 10;

forEachBackend(['sqlite', 'redis'], (backend) => {
  describe('dead webhook receivers slow down nobody else', () => {
    let s: TestServer;
    const receivers: Awaited<ReturnType<typeof deadReceiver>>[] = [];
    let putBack = 0;
    let otherToken = '';

    before(async () => {
      s = await startInProcess({ store: backend, clock: 'system', maxSubscriptionsPerUser: 100 });
      // Count what goes back to the queue: the spin this test guards against puts the same items back again and again.
      const store = s.presently.store;
      const one = store.rescheduleDelivery.bind(store);
      const many = store.rescheduleDeliveries.bind(store);
      /** True while the batched call runs (a backend may make it of single calls: those are not counted twice). */
      let inBatch = false;
      store.rescheduleDelivery = (id, at, attempt) => {
        if (!inBatch) putBack++;
        return one(id, at, attempt);
      };
      store.rescheduleDeliveries = (items) => {
        putBack += items.length;
        inBatch = true;
        try {
          return many(items);
        } finally {
          inBatch = false;
        }
      };
      const users: string[] = [];
      for (let i = 0; i < USERS; i++) {
        users.push(await createUser(s, TENANT, { userPrincipalName: `dead${i}@contoso.example` }));
      }
      const otherUser = await createUser(s, OTHER_TENANT, { userPrincipalName: 'bystander@fabrikam.example' });
      otherToken = await mintToken(s, { tenantId: OTHER_TENANT, userId: otherUser });
      const app = await s.appToken();
      const watcher = await s.userToken(ADELE);
      const filter = `/communications/presences?$filter=id in (${users.map((u) => `'${u}'`).join(',')})`;
      for (let i = 0; i < SUBSCRIPTIONS; i++) {
        const rx = await deadReceiver();
        receivers.push(rx);
        for (let k = 0; k < SLOW_BEFORE; k++) await store.recordEndpointDuration(rx.url, 3500, s.presently.clock.now(), 100);
        const res = await postJson(s, '/v1.0/subscriptions', watcher, {
          changeType: 'updated', notificationUrl: rx.url, resource: filter, clientState: `dead-${i}`,
          expirationDateTime: new Date(s.presently.clock.now() + 50 * 60_000).toISOString(),
        });
        assert.equal(res.statusCode, 201, res.body);
      }
      for (let w = 0; w < WRITES; w++) {
        const user = users[w % USERS]!;
        const res = await postJson(s, `/v1.0/users/${user}/presence/setStatusMessage`, app, message(`write ${w}`));
        assert.equal(res.statusCode, 200, res.body);
        // Spread the writes over a little real time, so the endpoints' POSTs start at different moments.
        if (w % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 250));
      }
    });
    after(async () => {
      for (const rx of receivers) await rx.close();
    });

    it('an unrelated user in another tenant reads their presence at once, while the dead endpoints time out', async () => {
      let worst = 0;
      const until = performance.now() + 7000;
      while (performance.now() < until) {
        const started = performance.now();
        const res = await s.inject({ method: 'GET', url: '/v1.0/me/presence', headers: { authorization: `Bearer ${otherToken}` } });
        assert.equal(res.statusCode, 200, res.body);
        worst = Math.max(worst, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(receivers.every((rx) => rx.posts() > 0), 'every dead receiver got POSTs');
      assert.ok(worst < 250, `GET /me/presence took ${Math.round(worst)} ms at worst`);
    });

    it('items held for a throttled endpoint are put back once, for its next turn, not released and re-claimed', () => {
      // What failed POSTs reschedule is an attempt; everything else put back is a release without one.
      const releases = putBack - s.presently.notifications.log.totals.retried;
      const items = SUBSCRIPTIONS * WRITES;
      assert.ok(releases <= items, `${releases} releases for ${items} items`);
    });

    it('shuts down promptly', async () => {
      const started = performance.now();
      await s.close();
      const took = performance.now() - started;
      assert.ok(took < 6000, `close took ${Math.round(took)} ms`);
    });
  });
});
