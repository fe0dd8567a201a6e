/** The store contract, the meta port: small named values. Run by ./index.ts against every backend. */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Store } from '../../../src/store/types.ts';

export function metaContract(use: () => Store): void {
  let store: Store;
  beforeEach(() => {
    store = use();
  });

  describe('meta', () => {
    it('gets null for a key never set, and what was set otherwise', async () => {
      assert.equal(await store.getMeta('seeded'), null);
      await store.setMeta('seeded', 'yes');
      assert.equal(await store.getMeta('seeded'), 'yes');
      await store.setMeta('seeded', 'again');
      assert.equal(await store.getMeta('seeded'), 'again');
      assert.equal(await store.getMeta('other'), null);
    });

    it('getMetas returns the values of the keys that have one, in one call', async () => {
      await store.setMeta('a', '1');
      await store.setMeta('b', '');
      await store.setMeta('c', '3');
      assert.deepEqual(await store.getMetas(['a', 'b', 'missing', 'a']), new Map([['a', '1'], ['b', '']]));
      assert.deepEqual(await store.getMetas([]), new Map());
      const many = Array.from({ length: 3000 }, (_, i) => `k${i}`);
      await store.setMeta('k2999', 'last');
      assert.deepEqual(await store.getMetas(many), new Map([['k2999', 'last']]));
    });

    it('stores the empty string as a value, distinct from no value', async () => {
      await store.setMeta('empty', '');
      assert.equal(await store.getMeta('empty'), '');
      assert.equal(await store.setMetaIfAbsent('empty', 'x'), '');
    });

    it('setMetaIfAbsent sets an absent key and returns the new value', async () => {
      assert.equal(await store.setMetaIfAbsent('signing-key', 'k1'), 'k1');
      assert.equal(await store.getMeta('signing-key'), 'k1');
    });

    it('setMetaIfAbsent keeps an existing value and returns it', async () => {
      await store.setMeta('signing-key', 'k1');
      assert.equal(await store.setMetaIfAbsent('signing-key', 'k2'), 'k1');
      assert.equal(await store.getMeta('signing-key'), 'k1');
    });

    it('concurrent setMetaIfAbsent calls agree on one winner', async () => {
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((v) => store.setMetaIfAbsent('race', v)));
      const stored = await store.getMeta('race');
      assert.ok(stored !== null);
      assert.deepEqual(results, [stored, stored, stored, stored]);
    });
  });
}
