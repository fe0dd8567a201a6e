/**
 * The dispatcher (docs/notifications/delivery.md) against the memory and the Redis store: outbox → one delivery
 * per live subscription, the exact item, nothing lost when dispatching fails, nothing doubled when two dispatchers
 * race, big fan-outs chunked.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { manualClock } from '../../src/platform/clock/manual.ts';
import { newRecord, transition } from '../../src/domain/record.ts';
import { formatUtc } from '../../src/domain/timezones.ts';
import type { PresenceView } from '../../src/domain/types.ts';
import { Dispatcher, deliveriesFor } from '../../src/notifications/dispatcher.ts';
import { Pacer } from '../../src/platform/loops/pacer.ts';
import { changeItem, changeItemToSend, itemSequenceNumber } from '../../src/notifications/items.ts';
import type { ChangeEvent, Subscription } from '../../src/domain/subscription.ts';
import type { Store } from '../../src/store/types.ts';
import { EventBus } from '../../src/platform/events.ts';
import type { NotificationEvents } from '../../src/notifications/events.ts';
import { forEachBackend, openTestStore } from '../kit/backends.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  const T0 = Date.parse('2026-11-28T08:00:00Z');
  const TENANT = 'b8a3bd5c-3c8f-4e2a-9b1d-7f2e6c4a5d10';
  const ADELE = 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3';
  const ALEX = '66825e03-7ef5-42da-9069-724602c31f6b';
  const APP = 'de8bc8b5-d9f9-48b1-a8ad-b748da725064';

  function sub(over: Partial<Subscription> = {}): Subscription {
    return {
      id: randomUUID(), tenantId: TENANT, applicationId: APP, creatorId: ALEX, changeType: 'updated',
      resource: `communications/presences/${ADELE}`, userIds: [ADELE], notificationUrl: 'http://127.0.0.1:9/hooks',
      lifecycleNotificationUrl: null, expiresAt: T0 + 50 * 60_000, clientState: 'secretClientValue',
      includeResourceData: false, encryptionCertificate: null, encryptionCertificateId: null,
      latestSupportedTlsVersion: 'v1_2', reauthorizationNotifiedAt: null, createdAt: T0, ...over,
    };
  }

  /** What the composition root chooses for this store (the one place that decides it). */
  const dispatchFor = (store: Store): 'local' | 'shared' => (store.facts.soleWriter ? 'local' : 'shared');

  async function storeWithUsers(): Promise<Store> {
    const store = await openTestStore(backend);
    await store.putTenant({ id: TENANT, displayName: 'Contoso' });
    for (const [id, upn] of [[ADELE, 'adele@contoso.com'], [ALEX, 'alex@contoso.com']] as const) {
      await store.putUser({ tenantId: TENANT, id, displayName: upn, userPrincipalName: upn }, newRecord(T0));
    }
    return store;
  }

  /** A committed status-message change: appends one event to the outbox. Resolves to the new sequenceNumber. */
  async function change(store: Store, userId: string, content: string, now = T0): Promise<string> {
    const t = await store.updatePresence(TENANT, userId, (record) => transition(record, {
      ...record.facts, statusMessage: { content, contentType: 'text', expiry: null, expiresAt: null, publishedAt: now },
    }, now));
    assert.ok(t?.changed);
    return t.record.sequenceNumber;
  }

  describe('dispatch: items (pure)', () => {
    const view = { availability: 'Available' } as unknown as PresenceView;
    const event: ChangeEvent = { id: '1', tenantId: TENANT, userId: ADELE, sequenceNumber: 'C00000000000000000042', view, at: T0 };

    it('as queued, the item keeps the sequenceNumber (for rich content); as sent, it is docs/notifications/delivery.md exactly', () => {
      const s = sub();
      const queued = changeItem(s, event);
      assert.equal(itemSequenceNumber(queued), 'C00000000000000000042');
      const renewed = { ...s, expiresAt: s.expiresAt + 60_000 };
      assert.deepEqual(changeItemToSend(queued, renewed), {
        subscriptionId: s.id,
        subscriptionExpirationDateTime: formatUtc(renewed.expiresAt),
        changeType: 'updated',
        resource: `communications/presences/${ADELE}`,
        resourceData: { '@odata.id': `users/${ADELE}/presence`, '@odata.type': '#microsoft.graph.presence', id: ADELE },
        clientState: 'secretClientValue',
        tenantId: TENANT,
      });
      assert.deepEqual(queued, {
        subscriptionId: s.id,
        subscriptionExpirationDateTime: formatUtc(s.expiresAt),
        changeType: 'updated',
        resource: `communications/presences/${ADELE}`,
        resourceData: {
          '@odata.id': `users/${ADELE}/presence`,
          '@odata.type': '#microsoft.graph.presence',
          id: ADELE,
          sequenceNumber: 'C00000000000000000042',
        },
        clientState: 'secretClientValue',
        tenantId: TENANT,
      });
    });

    it('one delivery per live subscription; expired ones get none; rich ones keep the view to encrypt at send time', () => {
      const plain = sub();
      const rich = sub({ includeResourceData: true, notificationUrl: 'http://127.0.0.1:9/rich' });
      const expired = sub({ expiresAt: T0 });
      const out = deliveriesFor(event, [plain, rich, expired], T0);
      assert.deepEqual(out.map((d) => [d.subscriptionId, d.url, d.kind, d.attempt, d.nextAttemptAt, d.createdAt, d.userId]), [
        [plain.id, plain.notificationUrl, 'change', 0, T0, T0, ADELE],
        [rich.id, rich.notificationUrl, 'change', 0, T0, T0, ADELE],
      ]);
      assert.equal(out[0]!.resourceView, null);
      assert.equal(out[1]!.resourceView, view);
    });
  });

  describe('dispatch: the outbox', () => {
    it('each committed change becomes one delivery per subscription watching the user, in commit order', async () => {
      const store = await storeWithUsers();
      const clock = manualClock(T0);
      const a = sub();
      const b = sub({ userIds: [ADELE, ALEX], resource: `communications/presences?$filter=id in ('${ADELE}','${ALEX}')` });
      const other = sub({ userIds: [ALEX] });
      for (const s of [a, b, other]) await store.putSubscription(s);
      const seq1 = await change(store, ADELE, 'one');
      const seq2 = await change(store, ADELE, 'two');
      const enqueued: number[] = [];
      const events = new EventBus<NotificationEvents>();
      events.on('deliveriesEnqueued', ({ count }) => enqueued.push(count));
      const d = new Dispatcher(store, clock, { dispatch: dispatchFor(store), safetyIntervalMs: 0, events });
      await d.start();
      assert.deepEqual(enqueued, [4], 'the deliverer is told once, of all four');
      assert.deepEqual(await store.readChanges(10), []);
      const queued = await store.claimDeliveries(T0, 100, 1000);
      const seqOf = (q: (typeof queued)[number]) => (q.item.resourceData as { sequenceNumber: string }).sequenceNumber;
      assert.deepEqual(queued.map(seqOf), [seq1, seq1, seq2, seq2], 'commit order');
      for (const seq of [seq1, seq2]) {
        assert.deepEqual(new Set(queued.filter((q) => seqOf(q) === seq).map((q) => q.subscriptionId)), new Set([a.id, b.id]));
      }
      await d.stop();
      await store.close();
    });

    it('a failure between reading and dispatching loses nothing: the events are read again', async () => {
      const real = await storeWithUsers();
      let failNext = true;
      const store = new Proxy(real, {
        get(target, prop, receiver) {
          if (prop === 'dispatchChanges') {
            return async (...args: Parameters<Store['dispatchChanges']>) => {
              if (failNext) {
                failNext = false;
                throw new Error('crash');
              }
              return target.dispatchChanges(...args);
            };
          }
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      await real.putSubscription(sub());
      await change(real, ADELE, 'one');
      const errors: unknown[] = [];
      const d = new Dispatcher(store, manualClock(T0), { dispatch: dispatchFor(store), safetyIntervalMs: 0, onError: (e) => errors.push(e) });
      await d.start();
      assert.equal(errors.length, 1);
      assert.equal((await real.readChanges(10)).length, 1, 'the event is still in the outbox');
      assert.equal(await real.countDeliveries(), 0);
      await d.run();
      assert.equal((await real.readChanges(10)).length, 0);
      assert.equal(await real.countDeliveries(), 1);
      await d.stop();
      await real.close();
    });

    it('two dispatchers racing on the same outbox enqueue each delivery once', async () => {
      const store = await storeWithUsers();
      for (let i = 0; i < 5; i++) await store.putSubscription(sub());
      for (let i = 0; i < 20; i++) await change(store, ADELE, `m${i}`);
      const d1 = new Dispatcher(store, manualClock(T0), { dispatch: dispatchFor(store), safetyIntervalMs: 0, readLimit: 7 });
      const d2 = new Dispatcher(store, manualClock(T0), { dispatch: dispatchFor(store), safetyIntervalMs: 0, readLimit: 7 });
      await Promise.all([d1.start(), d2.start()]);
      assert.equal(await store.countDeliveries(), 100);
      assert.equal(d1.events + d2.events, 20);
      await Promise.all([d1.stop(), d2.stop()]);
      await store.close();
    });

    it('a fan-out to 1,000 subscriptions is enqueued in chunks, all of it', async () => {
      const store = await storeWithUsers();
      for (let i = 0; i < 1000; i++) await store.putSubscription(sub());
      await change(store, ADELE, 'one');
      await change(store, ADELE, 'two');
      const d = new Dispatcher(store, manualClock(T0), { dispatch: dispatchFor(store), safetyIntervalMs: 0, chunkDeliveries: 300 });
      await d.start();
      assert.equal(await store.countDeliveries(), 2000);
      assert.deepEqual(await store.readChanges(10), []);
      await d.stop();
      await store.close();
    });

    it('says it is behind (so the pacer gives it more of the loop) when it reads a full batch, not when it keeps up', async () => {
      const store = await storeWithUsers();
      await store.putSubscription(sub());
      const pacer = new Pacer();
      let behind = 0;
      pacer.behind = () => { behind++; };
      const BATCH = 10;
      const d = new Dispatcher(store, manualClock(T0), { dispatch: dispatchFor(store), safetyIntervalMs: 0, pacer, readLimit: BATCH });
      await d.start();
      for (let i = 0; i < BATCH - 1; i++) await change(store, ADELE, `kept up ${i}`);
      await d.run();
      assert.equal(behind, 0, `${BATCH - 1} changes waiting: keeping up`);
      for (let i = 0; i < BATCH + 1; i++) await change(store, ADELE, `piled up ${i}`);
      await d.run();
      assert.equal(behind, 1, `${BATCH + 1} changes waiting: a full batch read, then the one left`);
      assert.equal(await store.countDeliveries(), 2 * BATCH);
      await d.stop();
      await store.close();
    });

    it('changes of a user deleted before dispatch are still notified; expired subscriptions get nothing', async () => {
      const store = await storeWithUsers();
      const live = sub();
      await store.putSubscription(live);
      await store.putSubscription(sub({ expiresAt: T0 + 1000 }));
      await change(store, ADELE, 'last words');
      await store.deleteUser(TENANT, ADELE);
      const d = new Dispatcher(store, manualClock(T0 + 1000), { dispatch: dispatchFor(store), safetyIntervalMs: 0 });
      await d.start();
      const queued = await store.claimDeliveries(T0 + 1000, 10, 1000);
      assert.deepEqual(queued.map((q) => q.subscriptionId), [live.id]);
      await d.stop();
      await store.close();
    });
  });
});
