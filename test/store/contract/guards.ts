/**
 * The store contract, the common rules every store follows (the wrapper, src/store/guarded.ts, applies them once for
 * every backend): a limit of 0 or less asks for nothing; empty input changes nothing; `keep` is at least 1;
 * duplicate ids count once. Run by ./index.ts against every backend.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { newRecord } from '../../../src/domain/record.ts';
import type { Store } from '../../../src/store/types.ts';
import { NOW, HOUR, T1, delivery, recordDueAt, sid, subscription, uid, user, withStatus } from './fixtures.ts';

export function guardsContract(use: () => Store): void {
  let store: Store;
  beforeEach(() => {
    store = use();
  });

  describe('common rules', () => {
    it('a limit of 0, less, or not a number asks for nothing', async () => {
      await store.putUser(user(1), recordDueAt(NOW + 1000));
      await store.putUser(user(2), newRecord(NOW));
      await store.putSubscription(subscription(1, [uid(1), uid(2)], { expiresAt: NOW }));
      await store.updatePresence(T1, uid(2), (r) => withStatus(r, 'x', NOW, null));
      await store.enqueueDeliveries([delivery(1)]);
      for (const limit of [0, -1, Number.NaN]) {
        assert.deepEqual(await store.dueUsers(NOW + HOUR, limit), [], `dueUsers(${limit})`);
        assert.deepEqual(await store.readChanges(limit), [], `readChanges(${limit})`);
        assert.deepEqual(await store.subscriptionsExpiringBy(NOW + HOUR, limit), [], `subscriptionsExpiringBy(${limit})`);
        assert.deepEqual(await store.claimDeliveries(NOW + HOUR, limit, HOUR), [], `claimDeliveries(${limit})`);
      }
      assert.equal((await store.dueUsers(NOW + HOUR, 1.5)).length, 1, 'a fractional limit is rounded down');
      assert.equal((await store.readChanges(1.5)).length, 1);
      assert.equal((await store.claimDeliveries(NOW + HOUR, 1, HOUR)).length, 1, 'nothing was leased by the limit-0 claims');
    });

    it('empty input changes nothing', async () => {
      await store.putUser(user(1), newRecord(NOW));
      assert.deepEqual(await store.getSnapshots(T1, []), new Map());
      assert.equal(await store.dispatchChanges([], [delivery(1)]), false);
      await store.enqueueDeliveries([]);
      await store.completeDeliveries([]);
      assert.equal(await store.countDeliveries(), 0, 'no event removed, so nothing enqueued');
    });

    it('duplicate ids count once', async () => {
      await store.putUser(user(1), newRecord(NOW));
      const snapshots = await store.getSnapshots(T1, [uid(1), uid(1), uid(2)]);
      assert.deepEqual([...snapshots.keys()], [uid(1)]);
      await store.enqueueDeliveries([delivery(1)]);
      const [d] = await store.claimDeliveries(NOW, 10, HOUR);
      await store.completeDeliveries([d!.id, d!.id]);
      assert.equal(await store.countDeliveries(), 0);
    });

    it('an endpoint keeps at least one sample, whatever `keep` says', async () => {
      const url = 'https://app.example/hooks/keep';
      for (const keep of [0, -5, Number.NaN]) {
        assert.deepEqual(await store.recordEndpointDuration(url, keep, NOW, keep), [{ at: NOW, ms: keep }], `keep ${keep}`);
      }
    });

    it('compareAndSetSubscription cannot change a subscription\'s id', async () => {
      const sub = subscription(1);
      await store.putSubscription(sub);
      await assert.rejects(store.compareAndSetSubscription(sub, { ...sub, id: sid(2) }), /cannot change a subscription's id/);
      assert.equal(await store.getSubscription(sid(2)), null);
    });
  });
}
