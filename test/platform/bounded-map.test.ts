/**
 * BoundedMap (src/platform/recency.ts) behaves like a Map that re-adds a key on every set and drops its first key past
 * the limit (what the bounded memories did before): checked against that model over random operations and limits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BoundedMap } from '../../src/platform/recency.ts';

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key, value: fc.integer() }),
  fc.record({ kind: fc.constant('get' as const), key }),
  fc.record({ kind: fc.constant('delete' as const), key }),
  fc.record({ kind: fc.constant('clear' as const) }),
);

describe('BoundedMap', () => {
  it('keeps the most recently set keys, at most its limit, oldest first', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 5 }), fc.array(op, { maxLength: 80 }), (limit, ops) => {
      const map = new BoundedMap<string, number>(limit);
      const model = new Map<string, number>();
      for (const o of ops) {
        if (o.kind === 'set') {
          map.set(o.key, o.value);
          const had = model.delete(o.key);
          if (limit > 0 || had) model.set(o.key, o.value);
          if (model.size > limit) model.delete(model.keys().next().value!);
        } else if (o.kind === 'get') {
          assert.equal(map.get(o.key), model.get(o.key));
          assert.equal(map.has(o.key), model.has(o.key));
        } else if (o.kind === 'delete') {
          assert.equal(map.delete(o.key), model.delete(o.key));
        } else {
          map.clear();
          model.clear();
        }
        assert.equal(map.size, model.size);
        assert.deepEqual([...map.keys()], [...model.keys()], 'the same keys, the least recently set first');
        assert.equal(map.oldestKey(), model.keys().next().value, 'the oldest key is the first of the keys');
      }
    }), { numRuns: 300 });
  });

  it('keeps the newest keys of many more than its limit', () => {
    // 200,000 insertions past a 10,000-entry limit: a Map dropping keys().next() walks every earlier eviction's slot
    // (seconds in all); the list drops its oldest at once. The assertion is on the result, not on a time.
    const map = new BoundedMap<number, number>(10_000);
    for (let i = 0; i < 210_000; i++) map.set(i, i);
    assert.equal(map.size, 10_000);
    assert.equal(map.keys().next().value, 200_000, 'the oldest kept is the 10,000th from the end');
    assert.equal(map.get(199_999), undefined);
    assert.equal(map.get(209_999), 209_999);
  });
});
