/**
 * A write watched by many subscriptions fans out in bounded chunks that yield to I/O: while a large fan-out is in
 * progress, /health and an unrelated user's write, over real sockets, are answered before it ends, and when it ends
 * every delivery is there. Progress and order are asserted, not timings.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { transition } from '../../src/domain/record.ts';
import { Dispatcher, userGroups } from '../../src/notifications/dispatcher.ts';
import type { ChangeEvent } from '../../src/domain/subscription.ts';
import { ADELE, ALEX, TENANT, startInProcess, type TestServer } from '../kit/server.ts';
import { subscription } from '../store/contract/fixtures.ts';

const T0 = Date.parse('2026-11-28T08:00:00Z');
const WATCHERS = 1000;
const WRITES = 20;

describe('fan-out yields', () => {
  let s: TestServer;
  let base: string;

  before(async () => {
    s = await startInProcess({ clock: 'manual', port: 0 }, { manualStart: T0 });
    base = await s.presently.listen();
    // Only the dispatcher of this test works: nothing is sent, and the server's own dispatcher does not race it.
    await s.presently.notifications.deliverer.stop(1000);
    await s.presently.notifications.dispatcher.stop();
  });
  after(async () => {
    await s?.close();
  });

  it(`/health and another user's write answer while ${WRITES} writes × ${WATCHERS} watchers are fanned out; none is lost`, async () => {
    const { store } = s.presently;
    for (let n = 1; n <= WATCHERS; n++) {
      await store.putSubscription(subscription(n, [ADELE], {
        id: randomUUID(), tenantId: TENANT, expiresAt: T0 + 50 * 60_000, createdAt: T0, notificationUrl: 'https://receiver.example/hooks',
      }));
    }
    // Committed changes in the outbox, as writes leave them.
    for (let i = 0; i < WRITES; i++) {
      await store.updatePresence(TENANT, ADELE, (r) => transition(r, {
        ...r.facts, statusMessage: { content: `busy ${i}`, contentType: 'text', expiry: null, expiresAt: null, publishedAt: T0 },
      }, T0));
    }
    const total = WRITES * WATCHERS;
    const token = await s.userToken(ALEX);

    const dispatcher = new Dispatcher(store, s.presently.clock, { chunkDeliveries: 500, safetyIntervalMs: 0 });
    let done = false;
    const run = dispatcher.start().then(() => { done = true; });
    const progress = () => ({ done, deliveries: dispatcher.deliveries });
    const health = fetch(`${base}/_presently/health`).then(async (res) => ({ status: res.status, at: progress() }));
    const write = fetch(`${base}/v1.0/me/presence/setStatusMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ statusMessage: { message: { content: 'unrelated', contentType: 'text' } } }),
    }).then(async (res) => ({ status: res.status, at: progress() }));

    const [h, w] = await Promise.all([health, write]);
    assert.equal(h.status, 200);
    assert.equal(w.status, 200);
    assert.equal(h.at.done, false, `/health waited for the fan-out (${h.at.deliveries} of ${total} enqueued when it answered)`);
    assert.equal(w.at.done, false, `the unrelated write waited for the fan-out (${w.at.deliveries} of ${total} enqueued when it answered)`);
    assert.ok(h.at.deliveries < total && w.at.deliveries < total);

    await run;
    await dispatcher.stop();
    assert.equal(dispatcher.deliveries, total, 'every delivery of the fan-out');
    assert.equal(await store.countDeliveries(), total, 'all of them queued, none twice');
    // The unrelated write (Alex, whom nobody watches) appended no event (docs/decisions.md#d-outbox-watched).
    assert.equal(dispatcher.events, WRITES);
    assert.deepEqual(await store.readChanges(10), []);
  });
});

describe('fan-out groups (pure)', () => {
  it('cuts the outbox, in order, into runs of at most N distinct users; a user may recur within a run', () => {
    const ev = (id: number, userId: string) => ({ id: String(id), tenantId: TENANT, userId }) as unknown as ChangeEvent;
    const events = [ev(1, 'a'), ev(2, 'b'), ev(3, 'a'), ev(4, 'c'), ev(5, 'b'), ev(6, 'd'), ev(7, 'd')];
    const ids = (groups: ChangeEvent[][]) => groups.map((g) => g.map((e) => e.id).join(''));
    assert.deepEqual(ids(userGroups(events, 2)), ['123', '45', '67']);
    assert.deepEqual(ids(userGroups(events, 50)), ['1234567']);
    assert.deepEqual(userGroups([], 2), []);
  });
});
