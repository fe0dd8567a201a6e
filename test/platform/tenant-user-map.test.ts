/**
 * TenantUserMap (src/platform/tenantUserMap.ts) behaves like one Map keyed by tenant and user together, in the order
 * the values were last set: checked against that model over random operations, tenants sharing user ids.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TenantUserMap } from '../../src/platform/tenantUserMap.ts';

const tenant = fc.constantFrom('t1', 't2', 't3');
const user = fc.constantFrom('u1', 'u2', 'u3', 'u4');
const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), tenant, user, value: fc.integer() }),
  fc.record({ kind: fc.constant('touch' as const), tenant, user }),
  fc.record({ kind: fc.constant('get' as const), tenant, user }),
  fc.record({ kind: fc.constant('delete' as const), tenant, user }),
  fc.record({ kind: fc.constant('dropOldest' as const), count: fc.integer({ min: 0, max: 4 }) }),
);

describe('TenantUserMap', () => {
  it('answers and orders like one Map keyed by tenant and user', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const map = new TenantUserMap<number>();
      const model = new Map<string, number>();
      const key = (t: string, u: string) => `${t}/${u}`;
      for (const o of ops) {
        if (o.kind === 'set') {
          map.set(o.tenant, o.user, o.value);
          model.delete(key(o.tenant, o.user));
          model.set(key(o.tenant, o.user), o.value);
        } else if (o.kind === 'touch') {
          const expected = model.get(key(o.tenant, o.user));
          assert.equal(map.touch(o.tenant, o.user), expected);
          if (expected !== undefined) {
            model.delete(key(o.tenant, o.user));
            model.set(key(o.tenant, o.user), expected);
          }
        } else if (o.kind === 'get') {
          assert.equal(map.get(o.tenant, o.user), model.get(key(o.tenant, o.user)));
        } else if (o.kind === 'delete') {
          assert.equal(map.delete(o.tenant, o.user), model.get(key(o.tenant, o.user)));
          model.delete(key(o.tenant, o.user));
        } else {
          const removed: number[] = [];
          let left = o.count;
          map.dropOldest(() => left-- > 0, (v) => removed.push(v));
          const expected = [...model.entries()].slice(0, o.count);
          for (const [k] of expected) model.delete(k);
          assert.deepEqual(removed, expected.map(([, v]) => v), 'the least recently set go first');
        }
        assert.equal(map.size, model.size);
      }
    }), { numRuns: 300 });
  });
});
