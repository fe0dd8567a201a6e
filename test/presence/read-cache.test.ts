/**
 * The read cache of a server that is its store's only writer (src/presence/snapshotCache.ts): bounded, and past its
 * limit it keeps the users read or written lately, one user leaving for each that comes in, instead of starting
 * over. Before, it emptied itself whole at the limit (later, half of it at a time), so with more users than that a
 * hot set of users went back to the store after every sweep of the others. It fills itself from the store after a
 * start and with users created in bulk, so reads after a restart or a bulk import are hits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSequence, newRecord } from '../../src/domain/record.ts';
import { manualClock } from '../../src/platform/clock/manual.ts';
import { CACHE_LIMIT, PresenceService } from '../../src/presence/service.ts';
import { SnapshotCache } from '../../src/presence/snapshotCache.ts';
import { Directory } from '../../src/directory/directory.ts';
import { UsageError, toConfig } from '../../src/cli/options.ts';
import { ADELE, startInProcess } from '../kit/server.ts';
import { mintToken, readPresence } from '../kit/graph.ts';
import { TIMED } from '../../src/presence/events.ts';
import { withStatus } from '../store/contract/fixtures.ts';
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
    const snap = { view: newRecord(NOW).view, sequenceNumber: formatSequence(1), dueAt: null };
    for (let i = 0; i < 1_000; i++) cache.set(T, userId(i), snap);
    assert.ok(cache.size <= 100, `${cache.size} held`);
    assert.deepEqual(cache.get(T, userId(999)), snap, 'the latest is kept');
    assert.equal(cache.get(T, userId(0)), undefined, 'the oldest is gone');
  });

  it('past its limit one user leaves for each that comes in, the one not used for longest', () => {
    const cache = new SnapshotCache(100);
    const snap = { view: newRecord(NOW).view, sequenceNumber: formatSequence(1), dueAt: null };
    for (let i = 0; i < 100; i++) cache.set(T, userId(i), snap);
    for (let i = 1; i < 100; i++) cache.get(T, userId(i));
    cache.set(T, userId(100), snap);
    assert.equal(cache.size, 100);
    assert.equal(cache.get(T, userId(0)), undefined, 'the one user not read since it came in left');
    for (let i = 1; i <= 100; i++) assert.deepEqual(cache.get(T, userId(i)), snap, `user ${i} stayed`);
  });

  it('full of users whose id is no GUID, lets the one set longest ago go for each that comes in', () => {
    const cache = new SnapshotCache(1_000);
    const snap = { view: newRecord(NOW).view, sequenceNumber: formatSequence(1), dueAt: null };
    for (let i = 0; i < 50_000; i++) cache.set(T, `user${i}@foreign-idp`, snap);
    assert.equal(cache.size, 1_000);
    assert.equal(cache.get(T, 'user48999@foreign-idp'), undefined, 'set before the last 1,000');
    assert.deepEqual(cache.get(T, 'user49000@foreign-idp'), snap, 'the oldest of the last 1,000 stayed');
  });

  it('keeps tenants apart, reads an id in either case, forgets a deleted user, and keeps users whose id is no GUID', () => {
    const other = '7d1e0c9a-5b7f-4e2b-9a61-3f0b6c2d8e42';
    const cache = new SnapshotCache(4);
    const snap = (n: number) => ({ view: newRecord(NOW).view, sequenceNumber: formatSequence(n), dueAt: null });
    const a = snap(1);
    const b = snap(2);
    cache.set(T, userId(1), a);
    cache.set(other, userId(1), b);
    assert.deepEqual(cache.get(T, userId(1)), a);
    assert.deepEqual(cache.get(other, userId(1)), b, 'the same user id in another tenant is another user');
    assert.deepEqual(cache.get(T, userId(1).toUpperCase()), a, 'a GUID is the same user in either case');
    assert.equal(cache.get('0d6c4e0e-0000-4000-8000-000000000000', userId(1)), undefined, 'a tenant never seen');
    const c = snap(3);
    cache.set(T, 'alice@foreign-idp', c);
    assert.deepEqual(cache.get(T, 'alice@foreign-idp'), c);
    assert.equal(cache.size, 3);
    for (const i of [2, 3, 4, 5]) cache.set(T, userId(i), snap(i));
    assert.equal(cache.size, 4, 'users whose id is no GUID count toward the limit');
    cache.delete(T, userId(5));
    assert.equal(cache.get(T, userId(5)), undefined);
    assert.equal(cache.size, 3);
  });

  it('hands back what was set, due instant included, and keeps no snapshot whose sequence number it could not remake', () => {
    const cache = new SnapshotCache(10);
    const view = newRecord(NOW).view;
    const due = { view, sequenceNumber: formatSequence(1_765_000_000_123_456), dueAt: NOW + 90_000 };
    cache.set(T, userId(1), due);
    assert.deepEqual(cache.get(T, userId(1)), due);
    assert.equal(cache.get(T, userId(1))?.view, view, 'the very view object set (renderings are kept by view)');
    assert.notEqual(cache.get(T, userId(1)), cache.get(T, userId(1)), 'a new snapshot object each read');
    // A sequence number formatSequence would not make: the user's older snapshot must not stay either.
    cache.set(T, userId(1), { view, sequenceNumber: 'C1', dueAt: null });
    assert.equal(cache.get(T, userId(1)), undefined, 'not kept, so the read goes to the store');
    assert.equal(cache.fill(T, userId(2), { view, sequenceNumber: 'S2', dueAt: null }), true, 'a fill not kept is no full cache');
    assert.equal(cache.size, 0);
  });

  it('fill adds users while there is room and never evicts anyone', () => {
    const cache = new SnapshotCache(3);
    const snap = { view: newRecord(NOW).view, sequenceNumber: formatSequence(1), dueAt: null };
    const newer = { ...snap, sequenceNumber: formatSequence(2) };
    cache.set(T, userId(1), newer);
    assert.deepEqual([1, 2, 3, 4].map((i) => cache.fill(T, userId(i), snap)), [true, true, true, false]);
    assert.deepEqual(cache.get(T, userId(1)), newer, 'a held user keeps their (newer) snapshot');
    assert.equal(cache.get(T, userId(4)), undefined);
    assert.equal(cache.size, 3);
  });
});

describe('presence read cache: filling itself', () => {
  it('warm() reads every user into the cache, a page at a time, so the reads after a start are all hits', async () => {
    const { store, reads } = await countingStore(4_500);
    const presence = new PresenceService(store, manualClock(NOW), undefined, { readCache: true, cacheLimit: 10_000 });
    assert.equal(await presence.warm(), 4_500);
    const all = Array.from({ length: 4_500 }, (_, i) => userId(i));
    assert.equal((await presence.readMany(T, all)).size, 4_500);
    assert.equal(reads(), 0, 'no read went to the store');
    await store.close();
  });

  it('warm() stops at the limit, evicting nobody', async () => {
    const { store, reads } = await countingStore(300);
    const presence = new PresenceService(store, manualClock(NOW), undefined, { readCache: true, cacheLimit: 120 });
    await presence.read(T, userId(299));
    assert.equal(await presence.warm(), 119);
    await presence.read(T, userId(299));
    assert.equal(reads(), 1, 'the user read before the fill is still cached');
    await store.close();
  });

  it('warm() puts back no user deleted, and no older presence than a write, while its page was being read', async () => {
    const { store } = await countingStore(10);
    const presence = new PresenceService(store, manualClock(NOW), undefined, { readCache: true });
    const page = store.snapshotPage!.bind(store);
    store.snapshotPage = async (after, limit) => {
      const rows = await page(after, limit);
      // What other requests did while the page was on its way: a status set for user 1, user 2 deleted.
      await presence.apply(T, userId(1), (facts, now) => withStatus({ ...newRecord(now), facts }, 'Lunch', now, null).record.facts, TIMED);
      await store.deleteUser(T, userId(2));
      presence.forget(T, userId(2));
      return rows;
    };
    assert.equal(await presence.warm(), 9);
    assert.equal((await presence.read(T, userId(1)))?.view.statusMessage?.content, 'Lunch', 'the write is not undone by the page');
    assert.equal(await presence.read(T, userId(2)), null, 'the deleted user is not read from the cache');
    await store.close();
  });

  it('users created in bulk are cached as they are created', async () => {
    const store = openStore({ kind: 'memory', dataDir: '' });
    const clock = manualClock(NOW);
    const presence = new PresenceService(store, clock, undefined, { readCache: true });
    const directory = new Directory(store, presence, clock);
    const users = Array.from({ length: 2_500 }, (_, i) => ({ id: userId(i), tenantId: T, displayName: `User ${i}`, userPrincipalName: `u${i}@contoso.example` }));
    await directory.putUsers(users);
    let read = 0;
    const getSnapshots = store.getSnapshots.bind(store);
    store.getSnapshots = (tenantId, ids) => { read += ids.length; return getSnapshots(tenantId, ids); };
    const snapshots = await presence.readMany(T, users.map((u) => u.id));
    assert.equal(snapshots.size, 2_500);
    assert.equal(read, 0);
    // Each as created: the users of one bulk chunk share its first sequence number and view.
    const values = [...snapshots.values()];
    assert.ok(new Set(values.map((s) => s.sequenceNumber)).size <= 3, 'one sequence number per chunk (2,000 users)');
    assert.ok(new Set(values.map((s) => s.view)).size <= 3, 'one view object per chunk');
    await store.close();
  });
});

describe('presence read cache: --read-cache', () => {
  it('sets the most users kept (flag or PRESENTLY_READ_CACHE), 1,000,000 by default, 0 for none; a bad value names the flag', () => {
    assert.equal(toConfig({}, {}).readCacheUsers, CACHE_LIMIT, 'the default of the flag is the service\'s own');
    assert.equal(CACHE_LIMIT, 1_000_000);
    assert.equal(toConfig({ readCache: '250000' }, {}).readCacheUsers, 250_000);
    assert.equal(toConfig({}, { PRESENTLY_READ_CACHE: '0' }).readCacheUsers, 0);
    for (const bad of ['-1', 'lots', '1.5']) {
      assert.throws(() => toConfig({ readCache: bad }, {}), (e: unknown) => e instanceof UsageError && /--read-cache/.test(e.message), bad);
    }
  });

  it('a server without a read cache (--read-cache 0) answers reads all the same', async () => {
    const s = await startInProcess({ readCacheUsers: 0 });
    try {
      const token = await mintToken(s, { userId: ADELE });
      assert.equal((await readPresence(s, '/v1.0/me/presence', token)).availability, 'PresenceUnknown');
    } finally {
      await s.close();
    }
  });
});
