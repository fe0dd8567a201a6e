/**
 * TwoGenerationMap (src/platform/recency.ts): over random sets and gets, a key reads back its latest value or nothing;
 * a key used lately stays for at least `limit - 1` new keys after it; one unused while twice `limit` new keys came is
 * gone, so the memory holds at most twice its limit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TwoGenerationMap } from '../../src/platform/recency.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key: fc.nat(40), value: fc.integer() }),
  fc.record({ kind: fc.constant('get' as const), key: fc.nat(40) }),
);

describe('TwoGenerationMap', () => {
  it('never reads back a value other than the latest set for its key', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 8 }), fc.array(op, { maxLength: 200 }), (limit, ops) => {
      const map = new TwoGenerationMap<number, number>(limit);
      const latest = new Map<number, number>();
      for (const o of ops) {
        if (o.kind === 'set') {
          map.set(o.key, o.value);
          latest.set(o.key, o.value);
        } else {
          const got = map.get(o.key);
          if (got !== undefined) assert.equal(got, latest.get(o.key));
          if (limit <= 0) assert.equal(got, undefined, 'a limit of 0 keeps nothing');
        }
      }
    }), { numRuns: RUNS });
  });

  it('keeps a key used lately for limit - 1 new keys, and forgets it after twice limit', () => {
    const limits = fc.integer({ min: 1, max: 50 });
    fc.assert(fc.property(limits, fc.array(op, { maxLength: 100 }), fc.boolean(), (limit, ops, byGet) => {
      const map = new TwoGenerationMap<number, number>(limit);
      for (const o of ops) {
        if (o.kind === 'set') map.set(o.key, o.value);
        else map.get(o.key);
      }
      map.set(-1, 7);
      if (byGet) map.get(-1);
      for (let k = 1000; k < 1000 + limit - 1; k++) map.set(k, k);
      assert.equal(map.get(-1), 7, 'still there after limit - 1 new keys');
      for (let k = 5000; k < 5000 + 2 * limit; k++) map.set(k, k);
      assert.equal(map.get(-1), undefined, 'gone after twice limit new keys');
    }), { numRuns: RUNS });
  });
});
