/**
 * The read cache of a server that is its store's only writer (src/presence/snapshotCache.ts): bounded, and past its
 * limit it keeps the users read or written lately instead of starting over. Before, it emptied itself whole at the
 * limit, so with more users than that a hot set of users went back to the store after every sweep of the others.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRecord } from '../../src/domain/record.ts';
import { manualClock } from '../../src/platform/clock/manual.ts';
import { PresenceService } from '../../src/presence/service.ts';
import { SnapshotCache } from '../../src/presence/snapshotCache.ts';
import { openStore } from '../../src/store/index.ts';
import type { Store } from '../../src/store/types.ts';

const T = '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01';
const NOW = Date.UTC(2026, 11, 4, 9);
const userId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/** A memory store that counts the users it was asked to read. */
async function countingStore(users: number): Promise<{ store: Store; reads: () => number }> {
  const store = openStore({ kind: 'memory', dataDir: '' });
  for (let i = 0; i < users; i++) {
    await store.putUser({ id: userId(i), tenantId: T, displayName: `User ${i}`, userPrincipalName: `u${i}@contoso.example` }, newRecord(NOW));
  }
  let read = 0;
  const getSnapshots = store.getSnapshots.bind(store);
  store.getSnapshots = (tenantId, ids) => {
    read += ids.length;
    return getSnapshots(tenantId, ids);
  };
  return { store, reads: () => read };
}

describe('presence read cache', () => {
  it('a hot set of users stays cached while many more users pass through than the cache holds', async () => {
    const { store, reads } = await countingStore(1_000);
    const presence = new PresenceService(store, manualClock(NOW), undefined, { readCache: true, cacheLimit: 200 });
    const hot = Array.from({ length: 20 }, (_, i) => userId(i));
    await presence.readMany(T, hot);
    const first = reads();
    assert.equal(first, 20);
    // 900 other users read one by one, four and a half times the cache's size, with the hot set read after every 50
    // of them (a distance under half the limit, which is what the cache promises to keep).
    for (let i = 100; i < 1_000; i++) {
      await presence.read(T, userId(i));
      if (i % 50 === 49) assert.equal((await presence.readMany(T, hot)).size, 20);
    }
    assert.equal(reads() - first, 900, 'each cold user read once from the store; the hot set never again');
    await store.close();
  });

  it('holds at most its limit', () => {
    const cache = new SnapshotCache(100);
    const snap = { view: newRecord(NOW).view, sequenceNumber: 'C1', dueAt: null };
    for (let i = 0; i < 1_000; i++) cache.set(T, userId(i), snap);
    assert.ok(cache.size <= 100, `${cache.size} held`);
    assert.equal(cache.get(T, userId(999)), snap, 'the latest is kept');
    assert.equal(cache.get(T, userId(0)), undefined, 'the oldest is gone');
  });

  it('a deleted user is forgotten in both generations', () => {
    const cache = new SnapshotCache(4);
    const snap = { view: newRecord(NOW).view, sequenceNumber: 'C1', dueAt: null };
    cache.set(T, userId(1), snap);
    cache.set(T, userId(2), snap);
    cache.set(T, userId(3), snap); // userId(1) and (2) are now the old generation
    cache.delete(T, userId(1));
    assert.equal(cache.get(T, userId(1)), undefined);
    assert.equal(cache.get(T, userId(2)), snap, 'read from the old generation, and moved back to the young one');
  });
});
