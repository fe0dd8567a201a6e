/** The store contract, the subscriptions port, with its compare-and-set. Run by ./index.ts against every backend. */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import type { NewDelivery, Subscription } from '../../../src/domain/subscription.ts';
import { markReauthorizationNotice } from '../../../src/notifications/reauthorization.ts';
import type { Store } from '../../../src/store/types.ts';
import { T1, T2, APP, NOW, MIN, HOUR, uid, byId, ids, sid, subscription, richSubscription, delivery, withoutId } from './fixtures.ts';

export function subscriptionsContract(use: () => Store): void {
  let store: Store;
  beforeEach(() => {
    store = use();
  });

  describe('subscriptions', () => {
    it('stores and returns every field exactly; null for an unknown id', async () => {
      assert.equal(await store.getSubscription(sid(1)), null);
      await store.putSubscription(subscription(1));
      await store.putSubscription(richSubscription(2));
      assert.deepEqual(await store.getSubscription(sid(1)), subscription(1));
      assert.deepEqual(await store.getSubscription(sid(2)), richSubscription(2));
      assert.equal(await store.getSubscription(sid(3)), null);
    });

    it('putSubscription replaces a subscription, and the fan-out follows its new users', async () => {
      await store.putSubscription(subscription(1, [uid(1), uid(2)]));
      // Read first, so a backend that keeps what it read cannot pass by not having read it.
      assert.deepEqual(await store.getSubscription(sid(1)), subscription(1, [uid(1), uid(2)]));
      assert.deepEqual(await store.subscriptionsForUser(T1, uid(2)), [subscription(1, [uid(1), uid(2)])]);
      const replaced = subscription(1, [uid(2), uid(3)], { expiresAt: NOW + 2 * HOUR, clientState: 'new', notificationUrl: 'https://b.example/h' });
      await store.putSubscription(replaced);
      assert.deepEqual(await store.getSubscription(sid(1)), replaced);
      assert.deepEqual(await store.subscriptionsForUser(T1, uid(1)), []);
      assert.deepEqual(await store.subscriptionsForUser(T1, uid(2)), [replaced]);
      assert.deepEqual(await store.subscriptionsForUser(T1, uid(3)), [replaced]);
      assert.deepEqual(await store.listSubscriptions({ tenantId: T1 }), [replaced]);
    });

    it('subscriptionsForUser finds every subscription watching a user, in their tenant only', async () => {
      const s1 = subscription(1, [uid(1), uid(2)]);
      const s2 = subscription(2, [uid(2)], { applicationId: uid(42) });
      const s3 = subscription(3, [uid(3), uid(2), uid(3)]);
      const other = subscription(4, [uid(2)], { tenantId: T2 });
      for (const sub of [s3, other, s1, s2]) await store.putSubscription(sub);
      assert.deepEqual(byId(await store.subscriptionsForUser(T1, uid(2))), [s1, s2, s3]);
      assert.deepEqual(await store.subscriptionsForUser(T1, uid(1)), [s1]);
      assert.deepEqual(await store.subscriptionsForUser(T1, uid(3)), [s3], 'a user named twice is watched once');
      assert.deepEqual(await store.subscriptionsForUser(T2, uid(2)), [other]);
      assert.deepEqual(await store.subscriptionsForUser(T2, uid(1)), []);
      assert.deepEqual(await store.subscriptionsForUser(T1, uid(9)), []);
    });

    it('a subscription to 650 users fans out to each of them', async () => {
      const users = Array.from({ length: 650 }, (_, i) => uid(i + 1));
      const big = subscription(1, users);
      await store.putSubscription(big);
      await store.putSubscription(subscription(2, [uid(7)]));
      assert.deepEqual(await store.getSubscription(sid(1)), big);
      for (const id of [uid(1), uid(325), uid(650)]) assert.deepEqual(await store.subscriptionsForUser(T1, id), [big]);
      assert.deepEqual(ids(await store.subscriptionsForUser(T1, uid(7))), [sid(1), sid(2)]);
      assert.deepEqual(await store.subscriptionsForUser(T1, uid(651)), []);
    });

    it('through any run of puts and deletes, subscriptionsForUser finds exactly the subscriptions naming the user', async () => {
      // Four subscriptions over five users, put (with new users) and deleted in any order: the fan-out index follows.
      const step = fc.record({ sub: fc.integer({ min: 1, max: 4 }), users: fc.option(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 6 })) });
      await fc.assert(fc.asyncProperty(fc.array(step, { maxLength: 12 }), async (steps) => {
        for (let n = 1; n <= 4; n++) await store.deleteSubscription(sid(n));
        const model = new Map<number, number[]>();
        for (const { sub, users } of steps) {
          if (users === null) {
            await store.deleteSubscription(sid(sub));
            model.delete(sub);
          } else {
            await store.putSubscription(subscription(sub, users.map(uid)));
            model.set(sub, users);
          }
        }
        for (let u = 1; u <= 5; u++) {
          const expected = [...model].filter(([, users]) => users.includes(u)).map(([n]) => sid(n)).sort();
          assert.deepEqual(ids(await store.subscriptionsForUser(T1, uid(u))).sort(), expected, `user ${u}`);
        }
      }), { numRuns: 40 });
    });

    it('deleteSubscription removes it, its fan-out and its deliveries; false when there is none', async () => {
      await store.putSubscription(subscription(1, [uid(1)]));
      await store.putSubscription(subscription(2, [uid(1)]));
      await store.enqueueDeliveries([delivery(1), delivery(2), delivery(1, { kind: 'lifecycle', userId: null })]);
      assert.deepEqual(ids(await store.subscriptionsForUser(T1, uid(1))), [sid(1), sid(2)]);
      assert.deepEqual(await store.getSubscription(sid(1)), subscription(1, [uid(1)]));
      assert.equal(await store.deleteSubscription(sid(1)), true);
      assert.equal(await store.getSubscription(sid(1)), null);
      assert.deepEqual(ids(await store.subscriptionsForUser(T1, uid(1))), [sid(2)]);
      assert.deepEqual(ids(await store.listSubscriptions({ tenantId: T1 })), [sid(2)]);
      assert.equal(await store.countDeliveries(), 1);
      assert.deepEqual((await store.claimDeliveries(NOW, 10, MIN)).map((d) => d.subscriptionId), [sid(2)]);
      assert.equal(await store.deleteSubscription(sid(1)), false);
      assert.equal(await store.deleteSubscription(sid(9)), false);
    });

    it('returns subscriptions the caller may change without changing what is stored', async () => {
      const sub = subscription(1, [uid(1), uid(2)]);
      await store.putSubscription(sub);
      sub.userIds.push(uid(3));
      sub.expiresAt = 0;
      const read = await store.getSubscription(sid(1));
      assert.ok(read);
      read.userIds.length = 0;
      read.clientState = 'changed';
      // What subscriptionsForUser returns is read-only: a backend may refuse the change (frozen), never keep it.
      const watching = (await store.subscriptionsForUser(T1, uid(1)))[0] as Subscription;
      assert.ok(watching);
      try {
        watching.userIds.length = 0;
        watching.clientState = 'changed';
      } catch (err) {
        assert.ok(err instanceof TypeError, String(err));
      }
      assert.deepEqual(await store.getSubscription(sid(1)), subscription(1, [uid(1), uid(2)]));
      assert.deepEqual(await store.subscriptionsForUser(T1, uid(2)), [subscription(1, [uid(1), uid(2)])]);
      assert.deepEqual(await store.subscriptionsForUser(T1, uid(3)), []);
    });

    it('a deleted subscription can be created again', async () => {
      await store.putSubscription(subscription(1, [uid(1)]));
      await store.deleteSubscription(sid(1));
      await store.putSubscription(subscription(1, [uid(2)]));
      assert.deepEqual(await store.subscriptionsForUser(T1, uid(1)), []);
      assert.deepEqual(await store.subscriptionsForUser(T1, uid(2)), [subscription(1, [uid(2)])]);
    });

    it('lists a tenant\'s subscriptions, optionally one application\'s and/or one creator\'s', async () => {
      const otherApp = uid(42);
      const otherCreator = uid(501);
      const subs = [
        subscription(1),
        subscription(2, [uid(1)], { applicationId: otherApp }),
        subscription(3, [uid(1)], { creatorId: otherCreator }),
        subscription(4, [uid(1)], { applicationId: otherApp, creatorId: otherCreator }),
      ];
      for (const sub of subs) await store.putSubscription(sub);
      await store.putSubscription(subscription(5, [uid(1)], { tenantId: T2 }));
      const list = async (filter: Parameters<Store['listSubscriptions']>[0]) => ids(byId(await store.listSubscriptions(filter)));
      assert.deepEqual(await list({ tenantId: T1 }), [sid(1), sid(2), sid(3), sid(4)]);
      assert.deepEqual(await list({ tenantId: T1, applicationId: APP }), [sid(1), sid(3)]);
      assert.deepEqual(await list({ tenantId: T1, creatorId: otherCreator }), [sid(3), sid(4)]);
      assert.deepEqual(await list({ tenantId: T1, applicationId: otherApp, creatorId: otherCreator }), [sid(4)]);
      assert.deepEqual(await list({ tenantId: T2 }), [sid(5)]);
      assert.deepEqual(await list({ tenantId: uid(77) }), []);
      assert.deepEqual(byId(await store.listSubscriptions({ tenantId: T1 })), subs, 'whole subscriptions');
    });

    it('countSubscriptions counts a tenant\'s, or one application\'s in it; deletes and moves follow', async () => {
      const otherApp = uid(42);
      for (const sub of [subscription(1), subscription(2, [uid(1)], { applicationId: otherApp }), subscription(3, [uid(1)], { creatorId: uid(501) }),
        subscription(4, [uid(1)], { tenantId: T2 })]) await store.putSubscription(sub);
      const counts = async () => [
        await store.countSubscriptions({ tenantId: T1 }), await store.countSubscriptions({ tenantId: T1, applicationId: APP }),
        await store.countSubscriptions({ tenantId: T1, applicationId: otherApp }), await store.countSubscriptions({ tenantId: T2 }),
        await store.countSubscriptions({ tenantId: T2, applicationId: APP }), await store.countSubscriptions({ tenantId: uid(77) }),
      ];
      assert.deepEqual(await counts(), [3, 2, 1, 1, 1, 0]);
      await store.putSubscription(subscription(1, [uid(2)], { expiresAt: NOW + 2 * HOUR })); // replaced: still one
      assert.deepEqual(await counts(), [3, 2, 1, 1, 1, 0]);
      await store.deleteSubscription(sid(3));
      await store.putSubscription(subscription(2, [uid(1)], { tenantId: T2 })); // moved to T2 and to APP
      assert.deepEqual(await counts(), [1, 1, 0, 2, 2, 0]);
    });

    it('countLiveSubscriptions counts one creator\'s live subscriptions of one app, no further than asked', async () => {
      const owner = { tenantId: T1, applicationId: APP, creatorId: uid(500) };
      for (let n = 1; n <= 5; n++) await store.putSubscription(subscription(n, [uid(1)], { expiresAt: NOW + n * MIN }));
      // Not the owner's: another app, another creator, another tenant.
      await store.putSubscription(subscription(6, [uid(1)], { applicationId: uid(42) }));
      await store.putSubscription(subscription(7, [uid(1)], { creatorId: uid(501) }));
      await store.putSubscription(subscription(8, [uid(1)], { tenantId: T2 }));
      assert.equal(await store.countLiveSubscriptions(owner, NOW, 100), 5);
      assert.equal(await store.countLiveSubscriptions(owner, NOW + 2 * MIN, 100), 3, 'expiring at or before now is not live');
      assert.equal(await store.countLiveSubscriptions(owner, NOW, 2), 2, 'counts no further than upTo');
      assert.equal(await store.countLiveSubscriptions(owner, NOW, 0), 0);
      assert.equal(await store.countLiveSubscriptions({ ...owner, creatorId: uid(77) }, NOW, 100), 0);
    });

    it('listSubscriptionPage: one creator\'s subscriptions of one app, by (createdAt, id), from after a cursor', async () => {
      const creator = uid(500);
      const owner = { tenantId: T1, applicationId: APP, creatorId: creator };
      // Created at three instants, out of id order; others of another creator, app or tenant interleaved.
      const mine = [
        subscription(7, [uid(1)], { createdAt: NOW }), subscription(3, [uid(1)], { createdAt: NOW + 5 }),
        subscription(9, [uid(1)], { createdAt: NOW + 5 }), subscription(1, [uid(1)], { createdAt: NOW + 9 }),
        subscription(2, [uid(1)], { createdAt: NOW + 9 }),
      ];
      const others = [
        subscription(4, [uid(1)], { createdAt: NOW + 5, creatorId: uid(501) }),
        subscription(5, [uid(1)], { createdAt: NOW + 5, applicationId: uid(42) }),
        subscription(6, [uid(1)], { createdAt: NOW + 5, tenantId: T2 }),
      ];
      for (const sub of [...others, ...mine].reverse()) await store.putSubscription(sub);
      assert.deepEqual(await store.listSubscriptionPage(owner, null, 100), mine, 'whole subscriptions, in order');
      assert.deepEqual(ids(await store.listSubscriptionPage(owner, null, 2)), [sid(7), sid(3)]);
      assert.deepEqual(ids(await store.listSubscriptionPage(owner, { createdAt: NOW + 5, id: sid(3) }, 2)), [sid(9), sid(1)]);
      assert.deepEqual(ids(await store.listSubscriptionPage(owner, { createdAt: NOW + 9, id: sid(1) }, 2)), [sid(2)]);
      assert.deepEqual(await store.listSubscriptionPage(owner, { createdAt: NOW + 9, id: sid(2) }, 2), []);
      // A cursor needs no subscription behind it: one deleted since still marks the place.
      await store.deleteSubscription(sid(3));
      assert.deepEqual(ids(await store.listSubscriptionPage(owner, { createdAt: NOW + 5, id: sid(3) }, 5)), [sid(9), sid(1), sid(2)]);
      assert.deepEqual(await store.listSubscriptionPage({ ...owner, creatorId: uid(502) }, null, 5), []);
      assert.deepEqual(await store.listSubscriptionPage(owner, null, 0), [], 'a limit of 0 asks for nothing');
    });

    it('listSubscriptionPage pages through many subscriptions of one app among many of other creators', async () => {
      const owner = { tenantId: T1, applicationId: APP, creatorId: uid(500) };
      const mine: string[] = [];
      for (let n = 1; n <= 450; n++) {
        const other = n % 3 !== 0;
        await store.putSubscription(subscription(n, [uid(1)], { createdAt: NOW + (n % 7), ...(other ? { creatorId: uid(501) } : {}) }));
        if (!other) mine.push(sid(n));
      }
      const seen: string[] = [];
      let after: { createdAt: number; id: string } | null = null;
      for (;;) {
        const page = await store.listSubscriptionPage(owner, after, 40);
        seen.push(...ids(page));
        if (page.length < 40) break;
        const last = page[page.length - 1]!;
        after = { createdAt: last.createdAt, id: last.id };
      }
      assert.equal(seen.length, 150);
      assert.deepEqual([...seen].sort(), [...mine].sort(), 'every one once');
    });

    it('subscriptionsExpiringBy lists those expiring at or before an instant, earliest first, up to limit', async () => {
      assert.equal(await store.nextSubscriptionExpiry(), null);
      await store.putSubscription(subscription(1, [uid(1)], { expiresAt: NOW + 30 * MIN }));
      await store.putSubscription(subscription(2, [uid(1)], { expiresAt: NOW + 10 * MIN, tenantId: T2 }));
      await store.putSubscription(subscription(3, [uid(1)], { expiresAt: NOW + 20 * MIN }));
      await store.putSubscription(subscription(4, [uid(1)], { expiresAt: NOW + HOUR }));
      const expiring = async (at: number, limit: number) => ids(await store.subscriptionsExpiringBy(at, limit));

      assert.deepEqual(await expiring(NOW + 10 * MIN - 1, 10), []);
      assert.deepEqual(await expiring(NOW + 10 * MIN, 10), [sid(2)], 'at expiresAt exactly');
      assert.deepEqual(await expiring(NOW + 30 * MIN, 10), [sid(2), sid(3), sid(1)]);
      assert.deepEqual(await expiring(NOW + 30 * MIN, 2), [sid(2), sid(3)]);
      assert.deepEqual(await expiring(NOW + 30 * MIN, 0), []);
      assert.deepEqual(await expiring(NOW + 30 * MIN, -1), []);
      assert.deepEqual((await store.subscriptionsExpiringBy(NOW + 10 * MIN, 1))[0], subscription(2, [uid(1)], { expiresAt: NOW + 10 * MIN, tenantId: T2 }));
      assert.equal(await store.nextSubscriptionExpiry(), NOW + 10 * MIN);

      // Renewal moves a subscription; deletion takes it out.
      await store.putSubscription(subscription(2, [uid(1)], { expiresAt: NOW + 2 * HOUR, tenantId: T2 }));
      assert.deepEqual(await expiring(NOW + HOUR, 10), [sid(3), sid(1), sid(4)]);
      assert.equal(await store.nextSubscriptionExpiry(), NOW + 20 * MIN);
      await store.deleteSubscription(sid(3));
      assert.equal(await store.nextSubscriptionExpiry(), NOW + 30 * MIN);
    });

    describe('compare-and-set', () => {
      it('compareAndSetSubscription stores `next` only over the subscription as read, and the indexes follow', async () => {
        const sub = subscription(1, [uid(1)]);
        await store.putSubscription(sub);
        const moved = { ...sub, userIds: [uid(2)], expiresAt: NOW + 2 * HOUR, clientState: 'moved' };
        assert.equal(await store.compareAndSetSubscription({ ...sub, clientState: 'stale' }, moved), false, 'not what is stored');
        assert.deepEqual(await store.getSubscription(sid(1)), sub);
        assert.equal(await store.compareAndSetSubscription(sub, moved, [delivery(1)]), true);
        assert.deepEqual(await store.getSubscription(sid(1)), moved);
        assert.deepEqual(await store.subscriptionsForUser(T1, uid(1)), []);
        assert.deepEqual(await store.subscriptionsForUser(T1, uid(2)), [moved]);
        assert.deepEqual(ids(await store.subscriptionsExpiringBy(NOW + HOUR, 10)), []);
        assert.equal(await store.nextSubscriptionExpiry(), NOW + 2 * HOUR);
        assert.equal(await store.countDeliveries(), 1, 'the winner enqueues');
        assert.equal(await store.compareAndSetSubscription(sub, { ...sub, clientState: 'again' }, [delivery(1)]), false, 'it changed');
        assert.equal(await store.countDeliveries(), 1, 'a loser enqueues nothing');
        await store.deleteSubscription(sid(1));
        assert.equal(await store.compareAndSetSubscription(moved, sub), false, 'gone');
        assert.equal(await store.getSubscription(sid(1)), null, 'not created by the write');
      });

      it('updateSubscription resolves to what it stored; null for no subscription or a null decision', async () => {
        await store.putSubscription(subscription(1));
        const stored = await store.updateSubscription(sid(1), (s) => ({ ...s, clientState: 'x' }));
        assert.deepEqual(stored, { ...subscription(1), clientState: 'x' });
        assert.deepEqual(await store.getSubscription(sid(1)), stored);
        assert.equal(await store.updateSubscription(sid(1), () => null, [delivery(1)]), null);
        assert.equal(await store.updateSubscription(sid(9), (s) => s, [delivery(9)]), null);
        assert.equal(await store.countDeliveries(), 0);
      });

      it('updateSubscription loses no update: racing writers each apply theirs to what the others stored', async () => {
        await store.putSubscription(subscription(1, [uid(1)], { clientState: '' }));
        await Promise.all(Array.from({ length: 8 }, (_, i) =>
          store.updateSubscription(sid(1), (s) => ({ ...s, clientState: `${s.clientState}${i}` }))));
        const final = (await store.getSubscription(sid(1)))!.clientState!;
        assert.deepEqual([...final].sort(), ['0', '1', '2', '3', '4', '5', '6', '7']);
      });
    });

    // The lifecycle's exactly-once reauthorizationRequired notice: its rule (src/notifications/reauthorization.ts)
    // applied with updateSubscription, as the lifecycle does.
    describe('the reauthorisation mark (updateSubscription)', () => {
      const mark = async (id: string, expiresAt: number, at: number, since: number, notice?: NewDelivery) =>
        (await store.updateSubscription(id, (s) => markReauthorizationNotice(s, { expiresAt, since }, at), notice && [notice])) !== null;

      const since = NOW + 50 * MIN;
      const notice = (n: number): NewDelivery => delivery(n, {
        kind: 'lifecycle', url: 'https://app.example/lifecycle', userId: null, item: { subscriptionId: sid(n), lifecycleEvent: 'reauthorizationRequired' },
      });

      it('sets the mark and enqueues the notice; changes nothing else', async () => {
        const sub = richSubscription(1);
        const unmarked = { ...sub, reauthorizationNotifiedAt: null };
        await store.putSubscription(unmarked);
        // Read first, so a backend that keeps what it read cannot pass by not having read it.
        assert.deepEqual(await store.getSubscription(sid(1)), unmarked);
        assert.equal(await mark(sid(1), sub.expiresAt, NOW + 51 * MIN, since, notice(1)), true);
        assert.deepEqual(await store.getSubscription(sid(1)), { ...sub, reauthorizationNotifiedAt: NOW + 51 * MIN });
        assert.deepEqual((await store.subscriptionsForUser(T1, uid(2)))[0], { ...sub, reauthorizationNotifiedAt: NOW + 51 * MIN });
        assert.deepEqual((await store.claimDeliveries(NOW, 10, MIN)).map(withoutId), [notice(1)]);
      });

      it('at most once per lifetime: a second call, or a mark already in the window, changes and enqueues nothing', async () => {
        await store.putSubscription(subscription(1));
        assert.equal(await mark(sid(1), NOW + HOUR, since, since, notice(1)), true, 'a mark at `since` exactly');
        assert.equal(await mark(sid(1), NOW + HOUR, since + MIN, since, notice(1)), false);
        assert.equal((await store.getSubscription(sid(1)))!.reauthorizationNotifiedAt, since);
        assert.equal(await store.countDeliveries(), 1);
        // Without a notice: only the mark.
        await store.putSubscription(subscription(2));
        assert.equal(await mark(sid(2), NOW + HOUR, since + MIN, since), true);
        assert.equal((await store.getSubscription(sid(2)))!.reauthorizationNotifiedAt, since + MIN);
        assert.equal(await store.countDeliveries(), 1);
      });

      it('a mark from an earlier lifetime (before `since`) does not count', async () => {
        await store.putSubscription(subscription(1, [uid(1)], { reauthorizationNotifiedAt: since - 1 }));
        assert.equal(await mark(sid(1), NOW + HOUR, since + 2 * MIN, since, notice(1)), true);
        assert.equal((await store.getSubscription(sid(1)))!.reauthorizationNotifiedAt, since + 2 * MIN);
        assert.equal(await store.countDeliveries(), 1);
      });

      it('false, changing nothing, when the expiry moved (renewed) or the subscription is gone', async () => {
        await store.putSubscription(subscription(1, [uid(1)], { expiresAt: NOW + 2 * HOUR }));
        assert.equal(await mark(sid(1), NOW + HOUR, since + MIN, since, notice(1)), false);
        assert.deepEqual(await store.getSubscription(sid(1)), subscription(1, [uid(1)], { expiresAt: NOW + 2 * HOUR }));
        assert.equal(await mark(sid(9), NOW + HOUR, since + MIN, since, notice(9)), false);
        await store.deleteSubscription(sid(1));
        assert.equal(await mark(sid(1), NOW + 2 * HOUR, since + MIN, since, notice(1)), false);
        assert.equal(await store.getSubscription(sid(1)), null, 'not created by the mark');
        assert.equal(await store.countDeliveries(), 0);
      });

      it('racing callers: exactly one wins, and exactly one notice is queued', async () => {
        await store.putSubscription(subscription(1));
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
          mark(sid(1), NOW + HOUR, since + i, since, notice(1))));
        assert.equal(results.filter(Boolean).length, 1, `winners: ${JSON.stringify(results)}`);
        assert.equal((await store.getSubscription(sid(1)))!.reauthorizationNotifiedAt, since + results.indexOf(true));
        assert.equal(await store.countDeliveries(), 1);
      });
    });
  });
}
