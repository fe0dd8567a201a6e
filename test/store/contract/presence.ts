/** The store contract, the presence port: records, snapshots, the due index. Run by ./index.ts against every backend. */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { newRecord, parseSequence, transition } from '../../../src/domain/record.ts';
import type { PresenceRecord } from '../../../src/domain/types.ts';
import type { Store } from '../../../src/store/types.ts';
import { T1, T2, NOW, MIN, HOUR, uid, user, withStatus, clearStatus, recordDueAt, richRecord, snapshotOf, key } from './fixtures.ts';

export function presenceContract(use: () => Store): void {
  let store: Store;
  beforeEach(() => {
    store = use();
  });

  describe('presence', () => {
    it('stores and returns every kind of fact exactly', async () => {
      const rich = richRecord();
      await store.putUser(user(1), rich);
      assert.deepEqual(await store.getPresence(T1, uid(1)), rich);
      await store.putUser(user(2), newRecord(NOW));
      await store.updatePresence(T1, uid(2), () => ({ record: rich, changed: true, at: NOW }));
      assert.deepEqual(await store.getPresence(T1, uid(2)), rich);
    });

    it('updatePresence gives fn the current record and commits what fn returns', async () => {
      const initial = newRecord(NOW);
      await store.putUser(user(1), initial);
      let seen: PresenceRecord | undefined;
      const result = await store.updatePresence(T1, uid(1), (r) => {
        seen = r;
        return withStatus(r, 'In a meeting', NOW, NOW + HOUR);
      });
      assert.deepEqual(seen, initial);
      assert.ok(result);
      assert.equal(result.changed, true);
      assert.equal(result.record.facts.statusMessage?.content, 'In a meeting');
      assert.deepEqual(await store.getPresence(T1, uid(1)), result.record);
      assert.ok(result.record.sequenceNumber > initial.sequenceNumber);
    });

    it('updatePresence writes nothing when fn returns null', async () => {
      await store.putUser(user(1), recordDueAt(NOW + MIN));
      const before = await store.getPresence(T1, uid(1));
      assert.equal(await store.updatePresence(T1, uid(1), () => null), null);
      assert.deepEqual(await store.getPresence(T1, uid(1)), before);
      assert.equal(await store.nextDueAt(), NOW + MIN);
    });

    it('updatePresence rejects with the error fn throws, and writes nothing', async () => {
      const initial = newRecord(NOW);
      await store.putUser(user(1), initial);
      const boom = new Error('boom');
      await assert.rejects(store.updatePresence(T1, uid(1), () => {
        throw boom;
      }), (err) => err === boom);
      assert.deepEqual(await store.getPresence(T1, uid(1)), initial);
    });

    it('applies every one of 50 concurrent updates to one user (no lost update)', async () => {
      const initial = newRecord(NOW);
      await store.putUser(user(1), initial);
      const increment = (r: PresenceRecord) => withStatus(r, String(Number(r.facts.statusMessage?.content ?? '0') + 1), NOW, null);
      const results = await Promise.all(Array.from({ length: 50 }, () => store.updatePresence(T1, uid(1), increment)));

      const final = await store.getPresence(T1, uid(1));
      assert.equal(final?.facts.statusMessage?.content, '50');
      // Each update saw a different predecessor: together they committed 1..50, each exactly once.
      const committed = results.map((t) => Number(t?.record.facts.statusMessage?.content)).sort((a, b) => a - b);
      assert.deepEqual(committed, Array.from({ length: 50 }, (_, i) => i + 1));
      // Every update changed the view, so the sequence number moved 50 times.
      assert.equal(parseSequence(final.sequenceNumber), parseSequence(initial.sequenceNumber) + 50);
    });

    it('keeps concurrent updates to different users apart', async () => {
      await store.putUser(user(1), newRecord(NOW));
      await store.putUser(user(2), newRecord(NOW));
      const append = (suffix: string) => (r: PresenceRecord) =>
        withStatus(r, (r.facts.statusMessage?.content ?? '') + suffix, NOW, null);
      await Promise.all(Array.from({ length: 20 }, (_, i) =>
        store.updatePresence(T1, uid(i % 2 === 0 ? 1 : 2), append(i % 2 === 0 ? 'a' : 'b'))));
      assert.equal((await store.getPresence(T1, uid(1)))?.facts.statusMessage?.content, 'a'.repeat(10));
      assert.equal((await store.getPresence(T1, uid(2)))?.facts.statusMessage?.content, 'b'.repeat(10));
    });
  });

  describe('snapshots', () => {
    it('returns the view, sequence number and due instant of existing users only', async () => {
      const records = [recordDueAt(NOW + MIN), recordDueAt(null), richRecord()];
      for (const [i, r] of records.entries()) await store.putUser(user(i + 1), r);
      await store.putUser(user(9, T2), newRecord(NOW));

      const snaps = await store.getSnapshots(T1, [uid(3), uid(404), uid(1), uid(9), uid(2)]);
      assert.deepEqual(snaps, new Map([
        [uid(1), snapshotOf(records[0]!)],
        [uid(2), snapshotOf(records[1]!)],
        [uid(3), snapshotOf(records[2]!)],
      ]));
    });

    it('does not depend on the order of ids, and tolerates duplicates', async () => {
      for (const n of [1, 2, 3]) await store.putUser(user(n), recordDueAt(NOW + n * MIN));
      const ids = [uid(1), uid(2), uid(3), uid(4)];
      const forward = await store.getSnapshots(T1, ids);
      assert.equal(forward.size, 3);
      assert.deepEqual(await store.getSnapshots(T1, [...ids].reverse()), forward);
      assert.deepEqual(await store.getSnapshots(T1, [...ids, ...ids]), forward);
    });

    it('users with the same view share one view object, which cannot be changed (a large read cache stays small)', async () => {
      for (const n of [1, 2, 3]) await store.putUser(user(n), newRecord(NOW));
      const snaps = await store.getSnapshots(T1, [uid(1), uid(2), uid(3)]);
      const views = new Set([...snaps.values()].map((s) => s.view));
      assert.equal(views.size, 1, 'one object for three equal views');
      const [view] = views;
      assert.ok(Object.isFrozen(view) && Object.isFrozen(view!.outOfOffice), 'the shared view is frozen, nested parts too');
      assert.throws(() => { (view as { availability: string }).availability = 'Busy'; }, TypeError);
      await store.updatePresence(T1, uid(2), (r) => withStatus(r, 'Lunch', NOW, NOW + HOUR));
      const after = await store.getSnapshots(T1, [uid(1), uid(2)]);
      assert.equal(after.get(uid(1))!.view, view, 'an unchanged user keeps the shared view');
      assert.equal(after.get(uid(2))!.view.statusMessage?.content, 'Lunch');
    });

    it('snapshotPage lists every user of every tenant in key order, a page at a time (sole writers only)', async () => {
      if (!store.facts.soleWriter) {
        assert.equal(store.snapshotPage, undefined, 'a shared store has no read cache to fill, and no snapshotPage');
        return;
      }
      const records = [recordDueAt(NOW + MIN), richRecord(), newRecord(NOW), recordDueAt(null), newRecord(NOW)];
      for (const [i, r] of records.entries()) await store.putUser(user(i + 1, i < 3 ? T1 : T2), r);
      const pages: Array<Array<{ tenantId: string; userId: string }>> = [];
      for (let after = null as { tenantId: string; userId: string } | null; ;) {
        const page = await store.snapshotPage!(after, 2);
        if (page.length === 0) break;
        pages.push(page);
        after = page.at(-1)!;
      }
      assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
      const expected = records.map((r, i) => ({ tenantId: i < 3 ? T1 : T2, userId: uid(i + 1), ...snapshotOf(r) }))
        .sort((a, b) => (a.tenantId + a.userId < b.tenantId + b.userId ? -1 : 1));
      assert.deepEqual(pages.flat(), expected);
      assert.deepEqual(await store.snapshotPage!(null, 0), []);
    });

    it('returns an empty map for no ids', async () => {
      await store.putUser(user(1), newRecord(NOW));
      assert.deepEqual(await store.getSnapshots(T1, []), new Map());
    });

    it('getPresences returns the whole records of existing users of the tenant only, any order, duplicates once', async () => {
      const records = [recordDueAt(NOW + MIN), recordDueAt(null), richRecord()];
      for (const [i, r] of records.entries()) await store.putUser(user(i + 1), r);
      await store.putUser(user(9, T2), newRecord(NOW));
      const ids = [uid(3), uid(404), uid(1), uid(9), uid(2), uid(3)];
      const full = await store.getPresences(T1, ids);
      assert.deepEqual(full, new Map([[uid(1), records[0]!], [uid(2), records[1]!], [uid(3), records[2]!]]));
      assert.deepEqual(await store.getPresences(T1, [...ids].reverse()), full);
      assert.deepEqual(await store.getPresences(T1, []), new Map());
    });

    it('reflects the latest committed update', async () => {
      await store.putUser(user(1), newRecord(NOW));
      const t = await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'Lunch', NOW, NOW + HOUR));
      assert.deepEqual((await store.getSnapshots(T1, [uid(1)])).get(uid(1)), snapshotOf(t!.record));
    });

    it('serves a batch of 650 ids, some missing', async () => {
      const records = new Map<string, PresenceRecord>();
      for (let n = 0; n < 500; n++) {
        const r = n % 3 === 0 ? recordDueAt(NOW + (n + 1) * MIN) : withStatus(newRecord(NOW), `Status ${n}`, NOW, null).record;
        await store.putUser(user(n), r);
        records.set(uid(n), r);
      }
      // 400 existing ids (every fifth one skipped) and 250 unknown ones, interleaved.
      const existing = [...records.keys()].filter((_, i) => i % 5 !== 0);
      const missing = Array.from({ length: 250 }, (_, i) => uid(10_000 + i));
      const ids = existing.flatMap((id, i) => (i < 250 ? [id, missing[i]!] : [id]));
      assert.equal(ids.length, 650);

      const snaps = await store.getSnapshots(T1, ids);
      assert.equal(snaps.size, existing.length);
      for (const id of existing) assert.deepEqual(snaps.get(id), snapshotOf(records.get(id)!));
    });
  });

  describe('due index', () => {
    it('dueUsers returns the users due at or before now, earliest first, up to limit', async () => {
      const a = user(1);
      const b = user(2);
      const c = user(3, T2);
      const later = user(4);
      const never = user(5);
      await store.putUser(a, recordDueAt(NOW + 3 * MIN));
      await store.putUser(b, recordDueAt(NOW + MIN));
      await store.putUser(c, recordDueAt(NOW + 2 * MIN));
      await store.putUser(later, recordDueAt(NOW + HOUR));
      await store.putUser(never, recordDueAt(null));

      assert.deepEqual(await store.dueUsers(NOW + MIN - 1, 10), []);
      assert.deepEqual(await store.dueUsers(NOW + MIN, 10), [key(b)], 'due exactly at dueAt');
      assert.deepEqual(await store.dueUsers(NOW + 5 * MIN, 10), [key(b), key(c), key(a)]);
      assert.deepEqual(await store.dueUsers(NOW + 5 * MIN, 2), [key(b), key(c)]);
      assert.deepEqual(await store.dueUsers(NOW + 5 * MIN, 0), []);
      assert.deepEqual(await store.dueUsers(NOW + 5 * MIN, -1), [], 'a negative limit is not "no limit"');
      assert.deepEqual(await store.dueUsers(NOW + 2 * HOUR, 10), [key(b), key(c), key(a), key(later)]);
    });

    it('never lists users whose dueAt is null', async () => {
      await store.putUser(user(1), newRecord(NOW));
      await store.putUser(user(2), recordDueAt(null));
      assert.deepEqual(await store.dueUsers(Number.MAX_SAFE_INTEGER, 100), []);
      assert.equal(await store.nextDueAt(), null);
    });

    it('nextDueAt is the earliest dueAt of any user, in any tenant', async () => {
      assert.equal(await store.nextDueAt(), null);
      await store.putUser(user(1), recordDueAt(NOW + HOUR));
      assert.equal(await store.nextDueAt(), NOW + HOUR);
      await store.putUser(user(2, T2), recordDueAt(NOW + MIN));
      await store.putUser(user(3), recordDueAt(null));
      assert.equal(await store.nextDueAt(), NOW + MIN);
    });

    it('follows updates: a new dueAt moves the user, a null one takes them out', async () => {
      await store.putUser(user(1), recordDueAt(NOW + MIN));
      await store.putUser(user(2), recordDueAt(NOW + 10 * MIN));

      await store.updatePresence(T1, uid(1), (r) => clearStatus(r, NOW));
      assert.equal((await store.getPresence(T1, uid(1)))?.dueAt, null);
      assert.deepEqual(await store.dueUsers(NOW + HOUR, 10), [key(user(2))]);
      assert.equal(await store.nextDueAt(), NOW + 10 * MIN);

      await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'Focus time', NOW, NOW + 30 * MIN));
      assert.deepEqual(await store.dueUsers(NOW + 29 * MIN, 10), [key(user(2))]);
      assert.deepEqual(await store.dueUsers(NOW + 30 * MIN, 10), [key(user(2)), key(user(1))]);

      // The timed transition itself: once expired, the message is pruned and the user is no longer due.
      await store.updatePresence(T1, uid(2), (r) => transition(r, r.facts, NOW + 10 * MIN));
      assert.deepEqual(await store.dueUsers(NOW + HOUR, 10), [key(user(1))]);
      assert.equal(await store.nextDueAt(), NOW + 30 * MIN);
    });
  });
}
