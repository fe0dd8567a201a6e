/**
 * The read cache's typed-array table (src/presence/guidTable.ts) and the cache over it, against a plain Map as the
 * model: whatever mix of writes, fills, reads and deletions, a user read back is the user's latest snapshot or not
 * there at all, never another user's and never an older one, and while the users fit the limit nothing is lost.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { GUID_WITH_CAPITALS, NOT_A_GUID, readGuid } from '../../src/platform/json/guid.ts';
import { GuidTable } from '../../src/presence/guidTable.ts';
import { SnapshotCache } from '../../src/presence/snapshotCache.ts';
import type { PresenceSnapshot } from '../../src/store/types.ts';
import { formatSequence } from '../../src/domain/record.ts';
import { SEQ, SLOT_NUMS } from '../../src/presence/guidTable.ts';

const TENANTS = ['2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01', '7d1e0c9a-5b7f-4e2b-9a61-3f0b6c2d8e42', 'contoso'];
/** GUIDs that differ in their last digits only (as generated test users do), some spelled in capitals. */
const guid = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
/** A snapshot as the store makes them (formatSequence numbers: the cache keeps the number), its own view object. */
const snapshot = (n: number): PresenceSnapshot =>
  ({ view: {} as PresenceSnapshot['view'], sequenceNumber: formatSequence(1_765_000_000_000_000 + n), dueAt: n % 3 ? null : 1e12 + n });

/** The same snapshot: equal parts and the very same view object (the cache hands out a new snapshot each read). */
function same(got: PresenceSnapshot | undefined, expected: PresenceSnapshot | undefined, message: string): void {
  assert.deepEqual(got, expected, message);
  assert.equal(got?.view, expected?.view, message);
}

describe('read cache table', () => {
  it('reads the 128 bits of a GUID in either case, says whether it has capitals, and refuses anything else', () => {
    const out = new Uint32Array(4);
    assert.equal(readGuid('0123abcd-4567-89ef-ABCD-0123456789EF', out, 0), GUID_WITH_CAPITALS);
    assert.deepEqual([...out], [0x0123abcd, 0x456789ef, 0xabcd0123, 0x456789ef]);
    assert.equal(readGuid('ffffffff-ffff-ffff-ffff-fffffffffffe', out, 0), 0);
    assert.deepEqual([...out], [0xffffffff, 0xffffffff, 0xffffffff, 0xfffffffe]);
    for (const bad of ['', '0123abcd-4567-89ef-abcd-0123456789e', '0123abcd-4567-89ef-abcd-0123456789eg',
      '0123abcd+4567-89ef-abcd-0123456789ef', '0123abcd-4567-89ef-abcd-0123456789eé', '{123abcd-4567-89ef-abcd-0123456789e}',
      '0123abcd-4567-89ef-abcd-0123456789e\u{1F600}'.slice(0, 36), 'g123abcd-4567-89ef-abcd-0123456789ef']) {
      assert.equal(readGuid(bad, out, 0), NOT_A_GUID, bad);
    }
    fc.assert(fc.property(fc.uuid(), fc.boolean(), (id, upper) => {
      assert.equal(readGuid(upper ? id.toUpperCase() : id, out, 0) !== NOT_A_GUID, true);
      const hex = [...out].map((w) => w.toString(16).padStart(8, '0')).join('');
      assert.equal(hex, id.replaceAll('-', ''));
    }));
  });

  it('finds every key it holds after any inserts and deletions, across growth and wrapped runs', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.nat({ max: 3_000 })), { minLength: 1_000, maxLength: 4_000 }),
      (ops) => {
        const table = new GuidTable(3_001);
        const model = new Map<number, number>();
        const probe = new Uint32Array(4);
        const tenantOf = (n: number) => 1 + (n % 3);
        const keyOf = (n: number) => {
          assert.equal(readGuid(guid(n), probe, 0), 0);
          return probe;
        };
        for (const [add, n] of ops) {
          const slot = table.find(tenantOf(n), keyOf(n), 0);
          if (add && slot < 0) {
            table.insert(tenantOf(n), keyOf(n), 0, {} as PresenceSnapshot['view'], n, NaN, false);
            model.set(n, n);
          } else if (!add && slot >= 0) {
            table.removeAt(slot);
            model.delete(n);
          }
        }
        assert.equal(table.count, model.size);
        for (let n = 0; n <= 3_000; n++) {
          const slot = table.find(tenantOf(n), keyOf(n), 0);
          assert.equal(slot < 0 ? undefined : table.nums[slot * SLOT_NUMS + SEQ], model.get(n), `key ${n}`);
        }
      }), { numRuns: 30 });
  });

  it('the cache answers as a map would while the users fit, and never a wrong or stale snapshot past its limit', () => {
    const op = fc.record({
      kind: fc.constantFrom('set', 'fill', 'get', 'delete'),
      tenant: fc.constantFrom(...TENANTS),
      user: fc.oneof(fc.nat({ max: 400 }).map(guid), fc.nat({ max: 400 }).map((n) => guid(n).toUpperCase()),
        fc.constantFrom('alice@foreign-idp', 'bob')),
    });
    fc.assert(fc.property(fc.array(op, { minLength: 1_000, maxLength: 3_000 }), fc.constantFrom(64, 3_000), (ops, limit) => {
      const cache = new SnapshotCache(limit);
      const model = new Map<string, PresenceSnapshot>();
      const keyOf = (tenant: string, user: string) => `${tenant}/${user.toLowerCase()}`;
      let n = 0;
      for (const { kind, tenant, user } of ops) {
        const key = keyOf(tenant, user);
        if (kind === 'set') {
          const snap = snapshot(n++);
          cache.set(tenant, user, snap);
          model.set(key, snap);
        } else if (kind === 'fill') {
          const snap = snapshot(n++);
          const held = cache.get(tenant, user);
          const took = cache.fill(tenant, user, snap);
          if (held) same(cache.get(tenant, user), held, 'a fill leaves a held user as they were');
          else if (took) model.set(key, snap);
          if (limit > 1_000) assert.ok(took, 'a fill with room always takes the user');
        } else if (kind === 'delete') {
          cache.delete(tenant, user);
          model.delete(key);
        }
        const got = cache.get(tenant, user);
        if (got !== undefined || limit > 1_000) same(got, model.get(key), `${kind} ${key}`);
        assert.ok(cache.size <= limit);
      }
    }), { numRuns: 20 });
  });

  it('getGuids answers a list as get answers each of its ids: hits, misses, repeats, any tenant', () => {
    fc.assert(fc.property(
      fc.array(fc.nat({ max: 3_000 }), { minLength: 1, maxLength: 650 }), fc.constantFrom(...TENANTS, 'a tenant never seen'),
      (list, tenant) => {
        const cache = new SnapshotCache(2_000);
        for (let n = 0; n < 3_000; n += 2) cache.set(TENANTS[n % 3]!, guid(n), snapshot(n));
        const words = new Uint32Array(list.length * 4);
        list.forEach((n, i) => assert.equal(readGuid(guid(n), words, i * 4), 0));
        const got = new Array<PresenceSnapshot | undefined>(list.length).fill(undefined);
        cache.getGuids(tenant, words, list.length, got);
        list.forEach((n, i) => same(got[i], cache.get(tenant, guid(n)), `id ${i}`));
      }), { numRuns: 50 });
  });
});
