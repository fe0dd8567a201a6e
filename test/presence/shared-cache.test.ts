/**
 * The read cache on a store other processes write too (src/presence/cacheCoherence.ts, decision d-shared-read-cache):
 * the store tells every change, and a node keeps only what no change has overtaken. Here the store is a memory store
 * playing a shared one: the test writes to it behind the service's back (another node), tells the changes itself, and
 * holds reads and writes on their way to let a change overtake them. test/store/redis-changes.test.ts does the same
 * with Redis telling the changes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRecord } from '../../src/domain/record.ts';
import { manualClock } from '../../src/platform/clock/manual.ts';
import { PresenceService } from '../../src/presence/service.ts';
import { TIMED } from '../../src/presence/events.ts';
import { CacheCoherence } from '../../src/presence/cacheCoherence.ts';
import { SnapshotCache } from '../../src/presence/snapshotCache.ts';
import { openStore } from '../../src/store/index.ts';
import type { PresenceSnapshot, PresenceWatcher, Store } from '../../src/store/types.ts';
import { withStatus } from '../store/contract/fixtures.ts';

const T = '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01';
const U = '00000000-0000-4000-8000-000000000001';
const NOW = Date.UTC(2026, 11, 6, 9);

interface Shared {
  store: Store;
  presence: PresenceService;
  /** What the service gave the store to tell changes to (null: the store cannot tell). */
  watcher: () => PresenceWatcher;
  /** Store reads made so far. */
  reads: () => number;
  /** The next store read answers at once, as of then, but resolves only when `release` is called. */
  holdNextRead: () => { release: () => void };
  /** Another node's write: the status message, straight into the store (the change is told separately). */
  writeBehind: (message: string) => Promise<void>;
  /** What the service told the operator. */
  warnings: string[];
}

async function sharedStore(opts: { canTell?: boolean } = {}): Promise<Shared> {
  const store = openStore({ kind: 'memory', dataDir: '' });
  await store.putUser({ id: U, tenantId: T, displayName: 'Adele', userPrincipalName: 'adele@contoso.example' }, newRecord(NOW));
  let watcher: PresenceWatcher | null = null;
  store.watchChanges = (w) => {
    if (opts.canTell === false) return false;
    watcher = w;
    return true;
  };
  let reads = 0;
  let hold: Promise<void> | null = null;
  const getSnapshots = store.getSnapshots.bind(store);
  store.getSnapshots = async (tenantId, ids) => {
    reads++;
    const answer = await getSnapshots(tenantId, ids);
    const wait = hold;
    hold = null;
    if (wait) await wait;
    return answer;
  };
  const warnings: string[] = [];
  const presence = new PresenceService(store, manualClock(NOW), undefined, {
    readCache: true, cacheLimit: 100, sharedStore: true, warn: (m) => warnings.push(m),
  });
  return {
    store, presence, warnings,
    watcher: () => watcher!,
    reads: () => reads,
    holdNextRead: () => {
      let release!: () => void;
      hold = new Promise((resolve) => { release = resolve; });
      return { release };
    },
    writeBehind: async (message) => {
      await store.updatePresence(T, U, (r) => withStatus(r, message, NOW, null));
    },
  };
}

/** A shared store telling changes, with U read once and so kept. */
async function withUCached(): Promise<Shared> {
  const s = await sharedStore();
  s.watcher().watching();
  await s.presence.read(T, U);
  assert.ok(s.presence.known(T, U), 'U is kept once read');
  return s;
}

const messageOf = (snap: PresenceSnapshot | null | undefined) => snap?.view.statusMessage?.content ?? null;

describe('read cache on a shared store: kept only while the store tells every change', () => {
  it('nothing read is kept until the store tells changes; then a read is kept, and answered without the store', async () => {
    const s = await sharedStore();
    await s.presence.read(T, U);
    await s.presence.read(T, U);
    assert.equal(s.reads(), 2, 'not telling yet: every read goes to the store');
    assert.equal(s.presence.known(T, U), undefined);
    s.watcher().watching();
    await s.presence.read(T, U);
    await s.presence.read(T, U);
    assert.equal(s.reads(), 3, 'the first read after `watching` is kept, the next is the cache\'s');
    assert.ok(s.presence.known(T, U));
  });

  it('a change told drops the user: the next read goes to the store and shows the other node\'s write', async () => {
    const s = await sharedStore();
    s.watcher().watching();
    assert.equal(messageOf(await s.presence.read(T, U)), null);
    await s.writeBehind('From node B');
    assert.equal(messageOf(await s.presence.read(T, U)), null, 'untold yet: the cached snapshot (what Redis makes impossible past its message)');
    s.watcher().changed([{ tenantId: T, userId: U }]);
    assert.equal(s.presence.known(T, U), undefined);
    assert.equal(messageOf(await s.presence.read(T, U)), 'From node B');
    assert.equal(messageOf(s.presence.known(T, U)), 'From node B', 'and that read is kept');
  });

  it('a change told while a read is on its way: the read\'s answer is given, but not kept', async () => {
    const s = await sharedStore();
    s.watcher().watching();
    const held = s.holdNextRead();
    const reading = s.presence.read(T, U);
    await s.writeBehind('Overtook the read');
    s.watcher().changed([{ tenantId: T, userId: U }]);
    held.release();
    assert.equal(messageOf(await reading), null, 'the read answers what it found');
    assert.equal(s.presence.known(T, U), undefined, 'overtaken: not kept');
    assert.equal(messageOf(await s.presence.read(T, U)), 'Overtook the read');
    assert.ok(s.presence.known(T, U), 'a later read is kept again');
  });

  it('a change of another user while a read is on its way does not stop it being kept', async () => {
    const s = await sharedStore();
    s.watcher().watching();
    const held = s.holdNextRead();
    const reading = s.presence.read(T, U);
    s.watcher().changed([{ tenantId: T, userId: '00000000-0000-4000-8000-000000000002' }]);
    held.release();
    await reading;
    assert.ok(s.presence.known(T, U));
  });

  it('lost: everything kept is dropped, nothing is kept until the store tells again, nor by a read sent before', async () => {
    const s = await withUCached();
    const held = s.holdNextRead();
    const before = s.presence.read(T, '00000000-0000-4000-8000-000000000009');
    s.watcher().lost();
    assert.equal(s.presence.known(T, U), undefined, 'dropped');
    await s.presence.read(T, U);
    assert.equal(s.presence.known(T, U), undefined, 'not telling: not kept');
    s.watcher().watching();
    held.release();
    await before;
    await s.writeBehind('Missed while away');
    const heldAgain = s.holdNextRead();
    const sentBeforeLoss = s.presence.read(T, U);
    s.watcher().lost();
    s.watcher().watching();
    heldAgain.release();
    assert.equal(messageOf(await sentBeforeLoss), 'Missed while away');
    assert.equal(s.presence.known(T, U), undefined, 'sent before the loss: not kept, even though telling again');
    await s.presence.read(T, U);
    assert.ok(s.presence.known(T, U));
  });

  it('this node\'s own write drops the user from its cache: the next read goes to the store and shows it', async () => {
    const s = await withUCached();
    await s.presence.apply(T, U, (facts, now) => withStatus({ ...newRecord(now), facts }, 'Mine', now, null).record.facts, TIMED);
    assert.equal(s.presence.known(T, U), undefined, 'dropped: the store tells of this write too');
    const reads = s.reads();
    assert.equal(messageOf(await s.presence.read(T, U)), 'Mine');
    assert.equal(s.reads() - reads, 1);
    assert.equal(messageOf(s.presence.known(T, U)), 'Mine', 'and that read is kept');
  });

  it('users created in bulk are cached as they are created, once changes are told; one a change overtook is read again', async () => {
    const s = await sharedStore();
    const key = (i: number) => ({ tenantId: T, userId: `00000000-0000-4000-8000-00000000010${i}` });
    const put = (keys: Array<{ tenantId: string; userId: string }>) =>
      s.store.putUsers(keys.map((k, i) => ({ id: k.userId, tenantId: T, displayName: `U${i}`, userPrincipalName: `${k.userId}@contoso.example` })), newRecord(NOW));
    const before = [key(1)];
    await s.presence.creating(before, newRecord(NOW), () => put(before));
    assert.equal(s.presence.known(T, key(1).userId), undefined, 'not telling yet: not kept');
    s.watcher().watching();
    const keys = [key(2), key(3)];
    const reads = s.reads();
    const created = await s.presence.creating(keys, newRecord(NOW), async () => {
      const flags = await put(keys);
      // Another node wrote user 3 before this node's answer came back.
      await s.store.updatePresence(T, key(3).userId, (r) => withStatus(r, 'Set at once elsewhere', NOW, null));
      s.watcher().changed([key(3)]);
      return flags;
    });
    assert.deepEqual(created, [true, true]);
    assert.equal(messageOf(s.presence.known(T, key(2).userId)), null, 'kept as created');
    assert.equal(s.reads() - reads, 1, 'the overtaken user alone is read again');
    assert.equal(messageOf(s.presence.known(T, key(3).userId)), 'Set at once elsewhere', 'and kept as it now is');
  });

  it('after a start the cache fills itself from the store\'s pages once changes are told, skipping what a change overtook', async () => {
    const s = await sharedStore();
    const ids = Array.from({ length: 5 }, (_, i) => `00000000-0000-4000-8000-00000000020${i}`);
    await s.store.putUsers(ids.map((id, i) => ({ id, tenantId: T, displayName: `W${i}`, userPrincipalName: `w${i}@contoso.example` })), newRecord(NOW));
    // Pages of two users; while the last page's snapshots are read, a change of its last user is told.
    const all = [U, ...ids];
    let lastPage = false;
    s.store.userPage = async (cursor) => {
      const at = Number(cursor ?? 0);
      lastPage = at + 2 >= all.length;
      return { users: all.slice(at, at + 2).map((userId) => ({ tenantId: T, userId })), next: lastPage ? null : String(at + 2) };
    };
    const getSnapshots = s.store.getSnapshots.bind(s.store);
    s.store.getSnapshots = async (tenantId, userIds) => {
      const found = await getSnapshots(tenantId, userIds);
      if (lastPage) s.watcher().changed([{ tenantId: T, userId: all.at(-1)! }]);
      return found;
    };
    const warming = s.presence.warm();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(s.reads(), 0, 'waits until the store tells changes');
    s.watcher().watching();
    assert.equal(await warming, all.length - 1);
    for (const id of all.slice(0, -1)) assert.ok(s.presence.known(T, id), id);
    assert.equal(s.presence.known(T, all.at(-1)!), undefined, 'the user changed while its page was read');
  });

  it('after a loss, once changes are told again, the cache fills itself again; a loss during that fill starts it over', async () => {
    const s = await sharedStore();
    const ids = Array.from({ length: 5 }, (_, i) => `00000000-0000-4000-8000-00000000030${i}`);
    await s.store.putUsers(ids.map((id, i) => ({ id, tenantId: T, displayName: `R${i}`, userPrincipalName: `r${i}@contoso.example` })), newRecord(NOW));
    const all = [U, ...ids];
    let passes = 0;
    let onPage: (at: number) => void = () => {};
    s.store.userPage = async (cursor) => {
      const at = Number(cursor ?? 0);
      if (at === 0) passes++;
      onPage(at);
      return { users: all.slice(at, at + 2).map((userId) => ({ tenantId: T, userId })), next: at + 2 >= all.length ? null : String(at + 2) };
    };
    const turns = async (n: number) => { for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve)); };
    const known = () => all.filter((id) => s.presence.known(T, id)).length;
    const warming = s.presence.warm();
    s.watcher().watching();
    assert.equal(await warming, all.length);

    s.watcher().lost();
    assert.equal(known(), 0, 'the loss empties the cache');
    await turns(5);
    assert.equal(passes, 1, 'no fill while changes are not told');
    s.watcher().watching();
    await turns(20);
    assert.equal(passes, 2);
    assert.equal(known(), all.length, 'filled again without a read of any user');

    // Lost again, and lost once more while the second page of the next fill is read: that fill stops, the next one runs.
    s.watcher().lost();
    onPage = (at) => {
      if (at !== 2) return;
      onPage = () => {};
      s.watcher().lost();
      s.watcher().watching();
    };
    s.watcher().watching();
    await turns(40);
    assert.equal(passes, 4, 'the interrupted fill and the one after it');
    assert.equal(known(), all.length);
  });

  it('a service whose fill was stopped (the server closing) does not fill again', async () => {
    const s = await sharedStore();
    let pages = 0;
    s.store.userPage = async () => {
      pages++;
      return { users: [{ tenantId: T, userId: U }], next: null };
    };
    const stop = new AbortController();
    const warming = s.presence.warm(stop.signal);
    s.watcher().watching();
    await warming;
    stop.abort();
    s.watcher().lost();
    s.watcher().watching();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(pages, 1);
    assert.equal(s.presence.known(T, U), undefined);
  });

  it('a store that cannot tell its changes (a Redis Cluster) gets no cache, and the operator is told: every read goes to the store', async () => {
    const s = await sharedStore({ canTell: false });
    for (let i = 0; i < 3; i++) await s.presence.read(T, U);
    assert.equal(s.reads(), 3);
    assert.equal(s.presence.known(T, U), undefined);
    assert.match(s.warnings[0] ?? '', /^no read cache: this store cannot tell .* \(a Redis Cluster\); every read goes to the store$/);
  });

  it('a store that refuses to tell its changes: what was kept goes, nothing is kept after, and the operator is told why', async () => {
    const s = await withUCached();
    s.watcher().refused('the store said no');
    assert.equal(s.presence.known(T, U), undefined);
    await s.presence.read(T, U);
    assert.equal(s.presence.known(T, U), undefined);
    assert.deepEqual(s.warnings, ['no read cache: the store said no; every read goes to the store']);
  });
});

describe('the coherence\'s book of reads on their way', () => {
  it('two reads of one user, a change between: the first may not be kept, the second may; ended, nothing is left behind', () => {
    const c = new CacheCoherence(new SnapshotCache(10));
    c.watching();
    const user = { tenantId: T, userId: U };
    const first = c.begin([user]);
    c.changed([user]);
    const second = c.begin([user]);
    assert.equal(c.mayKeep(first, 0), false);
    assert.equal(c.mayKeep(second, 0), true);
    c.end(first);
    assert.equal(c.mayKeep(second, 0), true, 'the first ending does not forget the second');
    c.end(second);
    assert.equal(c.reading, 0);
  });
});
