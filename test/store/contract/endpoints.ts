/** The store contract, the endpoint health port: samples and throttle turns. Run by ./index.ts against every backend. */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Store } from '../../../src/store/types.ts';
import { NOW, MIN, HOUR } from './fixtures.ts';

export function endpointsContract(use: () => Store): void {
  let store: Store;
  beforeEach(() => {
    store = use();
  });

  describe('webhook endpoints (slow-endpoint accounting)', () => {
    const HOOK = 'https://app.example/hooks/presence?tenant=a&x=%20y';

    it('has no samples for an endpoint never recorded', async () => {
      assert.deepEqual(await store.endpointDurations(HOOK), []);
    });

    it('records durations per endpoint, oldest first, exactly as given', async () => {
      assert.deepEqual(await store.recordEndpointDuration(HOOK, 120.5, NOW, 100), [{ at: NOW, ms: 120.5 }]);
      assert.deepEqual(await store.recordEndpointDuration(HOOK, 3000, NOW + 1, 100), [{ at: NOW, ms: 120.5 }, { at: NOW + 1, ms: 3000 }]);
      await store.recordEndpointDuration(`${HOOK}/other`, 7, NOW + 2, 100);
      await store.recordEndpointDuration('https://APP.example/hooks/presence?tenant=a&x=%20y', 8, NOW + 3, 100);
      assert.deepEqual(await store.endpointDurations(HOOK), [{ at: NOW, ms: 120.5 }, { at: NOW + 1, ms: 3000 }]);
      assert.deepEqual(await store.endpointDurations(`${HOOK}/other`), [{ at: NOW + 2, ms: 7 }]);
    });

    it('keeps only the latest `keep` samples of an endpoint', async () => {
      let last: { at: number; ms: number }[] = [];
      for (let i = 0; i < 105; i++) last = await store.recordEndpointDuration(HOOK, i, NOW + i * MIN, 100);
      const expected = Array.from({ length: 100 }, (_, j) => ({ at: NOW + (j + 5) * MIN, ms: j + 5 }));
      assert.deepEqual(last, expected);
      assert.deepEqual(await store.endpointDurations(HOOK), expected);
      assert.deepEqual(await store.recordEndpointDuration(HOOK, 999, NOW + HOUR * 3, 2), [
        { at: NOW + 104 * MIN, ms: 104 }, { at: NOW + HOUR * 3, ms: 999 },
      ], 'a smaller keep trims to it');
    });

    it('loses no sample recorded concurrently', async () => {
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.recordEndpointDuration(HOOK, i, NOW + i, 100)));
      const kept = await store.endpointDurations(HOOK);
      assert.equal(kept.length, 50);
      assert.deepEqual(kept.map((k) => k.ms).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
      for (const k of kept) assert.equal(k.at, NOW + k.ms);
    });

    it('hands out a throttled endpoint\'s turn once until it ends', async () => {
      assert.deepEqual(await store.takeEndpointTurn(HOOK, NOW, NOW + 10 * MIN), { taken: true, until: NOW + 10 * MIN });
      assert.deepEqual(await store.takeEndpointTurn(HOOK, NOW + MIN, NOW + 11 * MIN), { taken: false, until: NOW + 10 * MIN });
      assert.deepEqual(await store.takeEndpointTurn(`${HOOK}/other`, NOW + MIN, NOW + 11 * MIN), { taken: true, until: NOW + 11 * MIN });
      assert.deepEqual(await store.takeEndpointTurn(HOOK, NOW + 10 * MIN, NOW + 20 * MIN), { taken: true, until: NOW + 20 * MIN }, 'the turn ended');
    });

    it('gives a throttled endpoint\'s turn to one of several concurrent takers', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.takeEndpointTurn(HOOK, NOW, NOW + 10 * MIN + i)));
      const winners = results.filter((r) => r.taken);
      assert.equal(winners.length, 1);
      assert.ok(results.every((r) => r.until === winners[0]!.until));
    });
  });
}
