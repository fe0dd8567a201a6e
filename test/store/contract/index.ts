/**
 * The one behavioural contract of a Store, split by port (one file each beside this one), run against every backend
 * (sqlite file, sqlite :memory:, Redis, Redis Cluster). Only the Store interface is used, so a new backend passes by
 * behaving the same, not by sharing code.
 *
 * Usage, in a backend's *.test.ts:
 *   storeContract('sqlite', () => openMyStore(freshPlace()), (closed) => openMyStore(placeOf(closed)));
 * `open` must return a new, empty store each time; `reopen`, when the backend persists, opens the data of a store
 * that has just been closed.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Store } from '../../../src/store/types.ts';
import { deliveriesContract } from './deliveries.ts';
import { directoryContract } from './directory.ts';
import { endpointsContract } from './endpoints.ts';
import { T1 } from './fixtures.ts';
import { guardsContract } from './guards.ts';
import { metaContract } from './meta.ts';
import { outboxContract } from './outbox.ts';
import { persistenceContract } from './persistence.ts';
import { presenceContract } from './presence.ts';
import { rateLimitsContract } from './rateLimits.ts';
import { subscriptionsContract } from './subscriptions.ts';

export function storeContract<S extends Store>(
  name: string,
  open: () => Promise<S> | S,
  reopen?: (closed: S) => Promise<S> | S,
): void {
  describe(`Store contract: ${name}`, () => {
    let store: S;
    let closed: boolean;

    beforeEach(async () => {
      store = await open();
      closed = false;
    });
    afterEach(async () => {
      if (!closed) await store.close();
    });
    const use = () => store;

    describe('ping and close', () => {
      it('answers ping while open, and not after close', async () => {
        assert.equal(await store.ping(), true);
        await store.close();
        closed = true;
        assert.equal(await store.ping(), false);
      });

      it('is ready (answers and takes a write) while open, and not after close, saying why', async () => {
        assert.deepEqual(await store.readiness(), { ready: true });
        await store.close();
        closed = true;
        const after = await store.readiness();
        assert.equal(after.ready, false);
        assert.ok(!after.ready && after.problem.length > 0);
      });

      it('starts empty', async () => {
        assert.deepEqual(await store.listTenants(), []);
        assert.deepEqual(await store.listApps(), []);
        assert.deepEqual(await store.listUsers(T1), []);
        assert.equal(await store.nextDueAt(), null);
      });
    });

    metaContract(use);
    directoryContract(use);
    presenceContract(use);
    outboxContract(use);
    subscriptionsContract(use);
    deliveriesContract(use);
    endpointsContract(use);
    rateLimitsContract(use);
    guardsContract(use);
    if (reopen) {
      persistenceContract({
        current: use,
        reopen: async () => (store = await reopen(store)),
      });
    }
  });
}
