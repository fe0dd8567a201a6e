/** The store contract for backends that persist: everything written survives close and reopen. */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { newRecord } from '../../../src/domain/record.ts';
import type { Delivery } from '../../../src/domain/subscription.ts';
import type { Store } from '../../../src/store/types.ts';
import { T1, APP, NOW, MIN, HOUR, uid, user, withStatus, richRecord, key, byId, sid, richSubscription, delivery, withoutId } from './fixtures.ts';

/** The store under test, and a way to close it and open its data again (which becomes the store under test). */
export interface Reopenable {
  current(): Store;
  reopen(): Promise<Store>;
}

export function persistenceContract(h: Reopenable): void {
  let store: Store;
  beforeEach(() => {
    store = h.current();
  });

  describe('persistence', () => {
    it('keeps everything across close and reopen', async () => {
      await store.setMeta('seeded', 'yes');
      await store.putTenant({ id: T1, displayName: 'Contoso' });
      await store.putApp({ id: APP, displayName: 'Presently Dev App' });
      await store.putUser(user(1), newRecord(NOW));
      await store.putUser(user(2), richRecord());
      const updated = await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'Persisted', NOW, NOW + MIN));
      await store.close();
      store = await h.reopen();

      assert.equal(await store.getMeta('seeded'), 'yes');
      assert.deepEqual(await store.listTenants(), [{ id: T1, displayName: 'Contoso' }]);
      assert.deepEqual(await store.listApps(), [{ id: APP, displayName: 'Presently Dev App' }]);
      assert.deepEqual(byId(await store.listUsers(T1)), [user(1), user(2)]);
      assert.deepEqual(await store.findUserByUpn(user(2).userPrincipalName), user(2));
      assert.deepEqual(await store.getPresence(T1, uid(1)), updated?.record);
      assert.deepEqual(await store.getPresence(T1, uid(2)), richRecord());
      assert.deepEqual(await store.dueUsers(NOW + MIN, 10), [key(user(1))]);
      assert.equal(await store.nextDueAt(), NOW + MIN);
    });

    it('keeps change events, subscriptions and deliveries (with their leases) across close and reopen', async () => {
      await store.putUser(user(1), newRecord(NOW));
      // Watched: the change event is appended (docs/decisions.md#d-outbox-watched).
      await store.putSubscription(richSubscription(1));
      const t = await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'Persisted', NOW + MIN, null));
      await store.enqueueDeliveries([delivery(1), delivery(1, { nextAttemptAt: NOW + MIN })]);
      const [leased] = await store.claimDeliveries(NOW, 1, HOUR) as [Delivery];
      const events = await store.readChanges(10);
      await store.close();
      store = await h.reopen();

      assert.deepEqual(await store.readChanges(10), events);
      assert.deepEqual(events.map((e) => [e.sequenceNumber, e.at]), [[t!.record.sequenceNumber, NOW + MIN]]);
      assert.deepEqual(await store.getSubscription(sid(1)), richSubscription(1));
      assert.deepEqual(await store.subscriptionsForUser(T1, uid(2)), [richSubscription(1)]);
      assert.equal(await store.nextSubscriptionExpiry(), NOW + HOUR);
      assert.equal(await store.countDeliveries(), 2);
      assert.equal(await store.nextDeliveryAt(), NOW + MIN);
      assert.deepEqual((await store.claimDeliveries(NOW + MIN, 10, HOUR)).map(withoutId), [delivery(1, { nextAttemptAt: NOW + MIN })]);
      assert.deepEqual(await store.claimDeliveries(NOW + HOUR, 10, HOUR), [leased], 'the lease survived');
      // New ids do not reuse those handed out before.
      await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'After', NOW + 2 * MIN, null));
      const after = await store.readChanges(10);
      assert.equal(after.length, 2);
      assert.notEqual(after[1]!.id, events[0]!.id);
    });
  });
}
