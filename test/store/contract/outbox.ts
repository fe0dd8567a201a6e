/** The store contract, the outbox port: change events appended by updatePresence, dispatched atomically. Run by ./index.ts against every backend. */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { newRecord, parseSequence, transition } from '../../../src/domain/record.ts';
import type { PresenceRecord } from '../../../src/domain/types.ts';
import type { ChangeEvent } from '../../../src/domain/subscription.ts';
import type { Store } from '../../../src/store/types.ts';
import { T1, T2, NOW, MIN, HOUR, uid, user, withStatus, recordDueAt, byId, ids, delivery, withoutId, subscription, sid } from './fixtures.ts';

export function outboxContract(use: () => Store): void {
  let store: Store;
  beforeEach(() => {
    store = use();
  });

  describe('change events (the outbox)', () => {
    beforeEach(async () => {
      // Every user these tests change is watched: only a watched user's changes must be appended (d-outbox-watched).
      await store.putSubscription(subscription(900, [uid(1), uid(2)]));
      await store.putSubscription(subscription(901, [uid(1), uid(2)], { tenantId: T2 }));
    });

    it('a changed transition appends exactly one event with its sequence number, view and instant', async () => {
      await store.putUser(user(1), newRecord(NOW));
      assert.deepEqual(await store.readChanges(10), [], 'creating a user is not a change');
      const t = await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'In a meeting', NOW + MIN, NOW + HOUR));
      assert.equal(t?.changed, true);
      const events = await store.readChanges(10);
      assert.equal(events.length, 1);
      const [event] = events as [ChangeEvent];
      assert.equal(typeof event.id, 'string');
      assert.deepEqual(event, {
        id: event.id, tenantId: T1, userId: uid(1), sequenceNumber: t.record.sequenceNumber, view: t.record.view, at: NOW + MIN,
      });
    });

    it('a user watched from the moment a subscription is stored gets events, and one no longer watched may not', async () => {
      await store.putUser(user(3), newRecord(NOW));
      await store.putSubscription(subscription(1, [uid(3)]));
      const t = await store.updatePresence(T1, uid(3), (r) => withStatus(r, 'watched', NOW, null));
      assert.deepEqual((await store.readChanges(10)).map((e) => [e.userId, e.sequenceNumber]), [[uid(3), t!.record.sequenceNumber]]);
      // Once nobody watches, an event is optional (sqlite appends none, redis one): the dispatcher finds no subscription.
      assert.equal(await store.deleteSubscription(sid(1)), true);
      await store.updatePresence(T1, uid(3), (r) => withStatus(r, 'unwatched', NOW, null));
      const after = await store.readChanges(10);
      assert.ok(after.length === 1 || after.length === 2, `${after.length} events`);
      assert.equal(after[0]!.sequenceNumber, t!.record.sequenceNumber, 'the watched change is still the first');
    });

    it('appends nothing when fn returns an unchanged transition, null, or throws, or the user does not exist', async () => {
      await store.putUser(user(1), recordDueAt(NOW + HOUR));
      const same = await store.updatePresence(T1, uid(1), (r) => transition(r, r.facts, NOW + MIN));
      assert.equal(same?.changed, false);
      assert.equal(await store.updatePresence(T1, uid(1), () => null), null);
      await assert.rejects(store.updatePresence(T1, uid(1), () => {
        throw new Error('boom');
      }));
      assert.equal(await store.updatePresence(T1, uid(2), (r) => withStatus(r, 'ghost', NOW, null)), undefined);
      assert.deepEqual(await store.readChanges(10), []);
    });

    it('keeps events in commit order across users and tenants, oldest first, up to limit', async () => {
      await store.putUser(user(1), newRecord(NOW));
      await store.putUser(user(2, T2), newRecord(NOW));
      const committed: [string, string, number][] = [];
      for (const [i, [tenantId, userId]] of [[T1, uid(1)], [T2, uid(2)], [T1, uid(1)], [T2, uid(2)]].entries()) {
        const at = NOW + i * MIN;
        const t = await store.updatePresence(tenantId!, userId!, (r) => withStatus(r, `change ${i}`, at, null));
        committed.push([userId!, t!.record.sequenceNumber, at]);
      }
      const events = await store.readChanges(10);
      assert.deepEqual(events.map((e) => [e.userId, e.sequenceNumber, e.at]), committed);
      assert.deepEqual(events.map((e) => e.tenantId), [T1, T2, T1, T2]);
      assert.equal(new Set(ids(events)).size, 4, 'ids are distinct');
      assert.deepEqual(await store.readChanges(2), events.slice(0, 2));
      assert.deepEqual(await store.readChanges(0), []);
      assert.deepEqual(await store.readChanges(-1), [], 'a negative limit is not "no limit"');
    });

    it('50 concurrent updates to one user append 50 events, in the order they committed', async () => {
      await store.putUser(user(1), newRecord(NOW));
      const increment = (r: PresenceRecord) => withStatus(r, String(Number(r.facts.statusMessage?.content ?? '0') + 1), NOW, null);
      await Promise.all(Array.from({ length: 50 }, () => store.updatePresence(T1, uid(1), increment)));
      const events = await store.readChanges(100);
      assert.deepEqual(events.map((e) => e.view.statusMessage?.content), Array.from({ length: 50 }, (_, i) => String(i + 1)));
      const seqs = events.map((e) => parseSequence(e.sequenceNumber));
      assert.ok(seqs.every((n, i) => i === 0 || n === seqs[i - 1]! + 1), 'one event per bump of sequenceNumber');
    });

    it('deleting a user leaves their undispatched events', async () => {
      await store.putUser(user(1), newRecord(NOW));
      await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'Leaving', NOW, null));
      const before = await store.readChanges(10);
      assert.equal(await store.deleteUser(T1, uid(1)), true);
      assert.deepEqual(await store.readChanges(10), before);
    });

    it('dispatchChanges removes the events and enqueues their deliveries together', async () => {
      await store.putUser(user(1), newRecord(NOW));
      for (const m of ['a', 'b', 'c']) await store.updatePresence(T1, uid(1), (r) => withStatus(r, m, NOW, null));
      const [a, b, c] = await store.readChanges(10) as [ChangeEvent, ChangeEvent, ChangeEvent];
      const made = [delivery(1), delivery(2, { kind: 'lifecycle', userId: null })];
      assert.equal(await store.dispatchChanges([a.id, b.id], made), true);
      assert.deepEqual(await store.readChanges(10), [c]);
      assert.equal(await store.countDeliveries(), 2);
      const claimed = await store.claimDeliveries(NOW, 10, MIN);
      assert.deepEqual(byId(claimed.map((d) => ({ ...withoutId(d), id: d.subscriptionId }))),
        byId(made.map((d) => ({ ...d, id: d.subscriptionId }))));

      assert.equal(await store.dispatchChanges([c.id], []), true, 'an event that produced nothing is removed too');
      assert.deepEqual(await store.readChanges(10), []);
      assert.equal(await store.countDeliveries(), 2);
    });

    it('a second dispatch of the same events returns false and enqueues nothing', async () => {
      await store.putUser(user(1), newRecord(NOW));
      await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'once', NOW, null));
      const [event] = await store.readChanges(10) as [ChangeEvent];
      assert.equal(await store.dispatchChanges([event.id], [delivery(1)]), true);
      assert.equal(await store.dispatchChanges([event.id], [delivery(1)]), false);
      assert.equal(await store.countDeliveries(), 1);
      assert.equal(await store.dispatchChanges([], [delivery(1)]), false, 'no ids: nothing removed, nothing enqueued');
      assert.equal(await store.countDeliveries(), 1);
    });

    it('racing dispatchers: exactly one enqueues; one that removes any of its ids enqueues all of its deliveries', async () => {
      await store.putUser(user(1), newRecord(NOW));
      for (const m of ['a', 'b']) await store.updatePresence(T1, uid(1), (r) => withStatus(r, m, NOW, null));
      const [a, b] = await store.readChanges(10) as [ChangeEvent, ChangeEvent];
      const results = await Promise.all(Array.from({ length: 5 }, () => store.dispatchChanges([a.id], [delivery(1), delivery(2)])));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await store.countDeliveries(), 2);
      // a is gone, b is not: this call removes b, so it enqueues.
      assert.equal(await store.dispatchChanges([a.id, b.id], [delivery(3)]), true);
      assert.equal(await store.countDeliveries(), 3);
      assert.deepEqual(await store.readChanges(10), []);
    });

    it('a dispatch that fails changes nothing', async () => {
      await store.putUser(user(1), newRecord(NOW));
      await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'x', NOW, null));
      const events = await store.readChanges(10);
      // A BigInt cannot be serialised: the second delivery fails after the first one was handled.
      const bad = delivery(2, { item: { n: 1n } });
      await assert.rejects(store.dispatchChanges(ids(events), [delivery(1), bad]));
      assert.deepEqual(await store.readChanges(10), events);
      assert.equal(await store.countDeliveries(), 0);
    });
  });
}
