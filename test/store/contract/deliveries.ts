/** The store contract, the delivery queue port: enqueue, claim with a lease, complete, reschedule. Run by ./index.ts against every backend. */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Delivery } from '../../../src/domain/subscription.ts';
import type { Store } from '../../../src/store/types.ts';
import { NOW, MIN, HOUR, uid, richRecord, ids, sid, delivery, withoutId } from './fixtures.ts';

export function deliveriesContract(use: () => Store): void {
  let store: Store;
  beforeEach(() => {
    store = use();
  });

  describe('deliveries', () => {
    it('enqueues and claims deliveries with every field intact and a store-assigned id', async () => {
      const rich = delivery(2, {
        kind: 'change', resourceView: richRecord().view, attempt: 3, nextAttemptAt: NOW - MIN, createdAt: NOW - HOUR,
        item: { nested: { list: [1, 'two', null, true], text: 'é 📅 "q" \\' } },
      });
      const lifecycle = delivery(1, { kind: 'lifecycle', url: 'https://app.example/lifecycle', userId: null, nextAttemptAt: NOW });
      await store.enqueueDeliveries([lifecycle, rich]);
      assert.equal(await store.countDeliveries(), 2);
      const claimed = await store.claimDeliveries(NOW, 10, MIN);
      assert.deepEqual(claimed.map(withoutId), [rich, lifecycle], 'earliest first');
      assert.ok(claimed.every((d) => typeof d.id === 'string'));
      assert.equal(new Set(ids(claimed)).size, 2);
      await store.enqueueDeliveries([]);
      assert.equal(await store.countDeliveries(), 2);
    });

    it('claims only deliveries due by now, earliest first, up to limit', async () => {
      await store.enqueueDeliveries([
        delivery(3, { nextAttemptAt: NOW + 3 * MIN }),
        delivery(1, { nextAttemptAt: NOW + MIN }),
        delivery(4, { nextAttemptAt: NOW + HOUR }),
        delivery(2, { nextAttemptAt: NOW + 2 * MIN }),
      ]);
      const claim = async (now: number, limit: number) => (await store.claimDeliveries(now, limit, HOUR)).map((d) => d.subscriptionId);
      assert.deepEqual(await claim(NOW + MIN - 1, 10), []);
      assert.deepEqual(await claim(NOW + 5 * MIN, 0), []);
      assert.deepEqual(await claim(NOW + 5 * MIN, -1), []);
      assert.deepEqual(await claim(NOW + MIN, 10), [sid(1)], 'due exactly at nextAttemptAt');
      assert.deepEqual(await claim(NOW + 5 * MIN, 1), [sid(2)]);
      assert.deepEqual(await claim(NOW + 5 * MIN, 10), [sid(3)]);
      assert.equal(await store.countDeliveries(), 4, 'claiming removes nothing');
    });

    it('a claimed delivery is leased: not claimed again before the lease ends, claimable again at its end', async () => {
      await store.enqueueDeliveries([delivery(1), delivery(2, { nextAttemptAt: NOW + MIN })]);
      const [first] = await store.claimDeliveries(NOW, 1, 30_000) as [Delivery];
      assert.equal(first.subscriptionId, sid(1));
      assert.deepEqual(await store.claimDeliveries(NOW + 30_000 - 1, 10, 30_000), []);
      const [again, other] = await store.claimDeliveries(NOW + 2 * MIN, 10, 30_000);
      assert.deepEqual(again, first, 'a lapsed lease (a deliverer that died) frees the delivery');
      assert.equal(other?.subscriptionId, sid(2));
      assert.deepEqual(await store.claimDeliveries(NOW + 2 * MIN, 10, 30_000), []);
    });

    it('concurrent claims never hand out the same delivery twice', async () => {
      await store.enqueueDeliveries(Array.from({ length: 30 }, (_, i) => delivery(i)));
      const batches = await Promise.all(Array.from({ length: 5 }, () => store.claimDeliveries(NOW, 10, MIN)));
      const all = batches.flatMap(ids);
      assert.equal(all.length, 30);
      assert.equal(new Set(all).size, 30);
    });

    it('completeDeliveries removes them; unknown or repeated ids are ignored', async () => {
      await store.enqueueDeliveries([delivery(1), delivery(2), delivery(3)]);
      const [a, b, c] = await store.claimDeliveries(NOW, 10, MIN) as [Delivery, Delivery, Delivery];
      await store.completeDeliveries([a.id, c.id]);
      assert.equal(await store.countDeliveries(), 1);
      await store.completeDeliveries([a.id, 'no-such-delivery']);
      await store.completeDeliveries([]);
      assert.equal(await store.countDeliveries(), 1);
      assert.deepEqual(await store.claimDeliveries(NOW + HOUR, 10, MIN), [b]);
    });

    it('rescheduleDelivery sets the next attempt and the attempt count, and releases the lease', async () => {
      await store.enqueueDeliveries([delivery(1)]);
      const [d] = await store.claimDeliveries(NOW, 10, HOUR) as [Delivery];
      await store.rescheduleDelivery(d.id, NOW + 10_000, 1);
      assert.deepEqual(await store.claimDeliveries(NOW + 9_999, 10, HOUR), []);
      const [retry] = await store.claimDeliveries(NOW + 10_000, 10, HOUR);
      assert.deepEqual(retry, { ...d, attempt: 1, nextAttemptAt: NOW + 10_000 }, 'claimable before its earlier lease ended');
      await store.rescheduleDelivery('no-such-delivery', NOW, 9);
      assert.equal(await store.countDeliveries(), 1);
    });

    it('rescheduleDeliveries puts many back at once, each with its own next attempt; unknown ids are ignored', async () => {
      await store.enqueueDeliveries([delivery(1), delivery(2), delivery(3)]);
      const claimed = await store.claimDeliveries(NOW, 10, HOUR);
      const [a, b, c] = claimed as [Delivery, Delivery, Delivery];
      await store.rescheduleDeliveries([
        { id: a.id, nextAttemptAt: NOW + 1_000, attempt: 1 },
        { id: b.id, nextAttemptAt: NOW + 2_000, attempt: 2 },
        { id: 'no-such-delivery', nextAttemptAt: NOW, attempt: 9 },
      ]);
      await store.rescheduleDeliveries([]);
      assert.deepEqual(await store.claimDeliveries(NOW + 999, 10, HOUR), [], 'c is still leased; a and b not yet due');
      assert.deepEqual(await store.claimDeliveries(NOW + 2_000, 10, HOUR), [
        { ...a, attempt: 1, nextAttemptAt: NOW + 1_000 },
        { ...b, attempt: 2, nextAttemptAt: NOW + 2_000 },
      ]);
      assert.equal(await store.countDeliveries(), 3);
      assert.ok(c);
    });

    it('releaseDeliveryLeases makes every leased delivery claimable at once on a store written by one process, and leaves a shared store\'s leases alone', async () => {
      await store.enqueueDeliveries([delivery(1), delivery(2)]);
      const claimed = await store.claimDeliveries(NOW, 10, HOUR);
      assert.equal(claimed.length, 2);
      assert.deepEqual(await store.claimDeliveries(NOW, 10, HOUR), []);
      if (store.facts.soleWriter) {
        assert.equal(await store.releaseDeliveryLeases(), 2);
        assert.deepEqual(ids(await store.claimDeliveries(NOW, 10, HOUR)).sort(), ids(claimed).sort());
      } else {
        assert.equal(await store.releaseDeliveryLeases(), 0, 'the leases may be live nodes\'');
        assert.deepEqual(await store.claimDeliveries(NOW, 10, HOUR), []);
      }
    });

    it('nextDeliveryAt is the earliest next attempt, counting a leased delivery from its lease end', async () => {
      assert.equal(await store.nextDeliveryAt(), null);
      await store.enqueueDeliveries([delivery(1, { nextAttemptAt: NOW }), delivery(2, { nextAttemptAt: NOW + 5 * MIN })]);
      assert.equal(await store.nextDeliveryAt(), NOW);
      const [d] = await store.claimDeliveries(NOW, 1, 2 * MIN) as [Delivery];
      assert.equal(await store.nextDeliveryAt(), NOW + 2 * MIN, 'the lease end of the claimed one');
      await store.claimDeliveries(NOW + 2 * MIN, 1, 10 * MIN);
      assert.equal(await store.nextDeliveryAt(), NOW + 5 * MIN, 'reclaimed until NOW + 12 min: the other one is next');
      await store.rescheduleDelivery(d.id, NOW + 3 * MIN, 1);
      assert.equal(await store.nextDeliveryAt(), NOW + 3 * MIN);
      await store.completeDeliveries([d.id]);
      assert.equal(await store.nextDeliveryAt(), NOW + 5 * MIN);
    });

    it('countLeasedDeliveries counts the due deliveries whose lease has not ended', async () => {
      await store.enqueueDeliveries([delivery(1), delivery(2), delivery(3, { nextAttemptAt: NOW - MIN }), delivery(4, { nextAttemptAt: NOW + HOUR })]);
      assert.equal(await store.countLeasedDeliveries(NOW), 0, 'due but nobody holds them');
      const [a, b] = await store.claimDeliveries(NOW, 2, 10 * MIN) as [Delivery, Delivery];
      assert.equal(await store.countLeasedDeliveries(NOW), 2);
      assert.equal(await store.countLeasedDeliveries(NOW + MIN), 2);
      await store.completeDeliveries([a.id]);
      assert.equal(await store.countLeasedDeliveries(NOW), 1);
      await store.rescheduleDelivery(b.id, NOW + 5 * MIN, 1);
      assert.equal(await store.countLeasedDeliveries(NOW), 0, 'released for a later attempt');
      await store.claimDeliveries(NOW, 10, 10 * MIN);
      assert.equal(await store.countLeasedDeliveries(NOW), 1);
      assert.equal(await store.countLeasedDeliveries(NOW + 10 * MIN), 0, 'the lease ended');
    });

    it('enqueues 1,000 deliveries at once and hands them out in batches of 200', async () => {
      const many = Array.from({ length: 1000 }, (_, i) => delivery(i, { userId: uid(i) }));
      await store.enqueueDeliveries(many);
      assert.equal(await store.countDeliveries(), 1000);
      const seen = new Set<string>();
      for (let batch = 0; batch < 5; batch++) {
        const claimed = await store.claimDeliveries(NOW, 200, MIN);
        assert.equal(claimed.length, 200);
        for (const d of claimed) seen.add(d.id);
      }
      assert.equal(seen.size, 1000);
      assert.deepEqual(await store.claimDeliveries(NOW, 200, MIN), []);
      await store.completeDeliveries([...seen]);
      assert.equal(await store.countDeliveries(), 0);
      assert.equal(await store.nextDeliveryAt(), null);
    });
  });
}
