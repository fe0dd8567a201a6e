/**
 * The store contract, the rate-limit port: fixed-window counters for throttling. Run by ./index.ts against every
 * backend.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Store } from '../../../src/store/types.ts';
import { NOW } from './fixtures.ts';

const WINDOW = 30_000;
const READ = { total: 5, reads: 3 };
const OTHER = { total: 5 };

export function rateLimitsContract(use: () => Store): void {
  let store: Store;
  beforeEach(() => {
    store = use();
  });
  const take = (limits: Record<string, number>, at = NOW, key = 'tenant/app') => store.takeRate(key, limits, at, WINDOW);

  describe('rate limits (throttling counters)', () => {
    it('counts up to each limit, then answers the ms left in the window', async () => {
      for (let i = 0; i < 3; i++) assert.equal(await take(READ, NOW + i), 0);
      assert.equal(await take(READ, NOW + 10_000), WINDOW - 10_000, 'the window opened at the first call');
      assert.equal(await take(OTHER, NOW + 10_000), 0, 'another counter still has room');
      assert.equal(await take(OTHER, NOW + 10_000), 0);
      assert.equal(await take(OTHER, NOW + 10_001), WINDOW - 10_001, 'the shared counter is full');
    });

    it('counts nothing when any counter is full: all or none', async () => {
      for (let i = 0; i < 3; i++) assert.equal(await take(READ), 0);
      for (let i = 0; i < 10; i++) assert.ok(await take(READ) > 0);
      assert.equal(await take(OTHER), 0, 'the refused reads did not spend the total');
      assert.equal(await take(OTHER), 0);
      assert.ok(await take(OTHER) > 0);
    });

    it('opens a new window, all counters at 0, at or after the end of the last', async () => {
      for (let i = 0; i < 3; i++) await take(READ);
      assert.equal(await take(READ, NOW + WINDOW - 1), 1);
      for (let i = 0; i < 3; i++) assert.equal(await take(READ, NOW + WINDOW), 0);
      assert.equal(await take(READ, NOW + WINDOW + 5), WINDOW - 5, 'the new window opened at its first call');
    });

    it('keeps one window per key', async () => {
      for (let i = 0; i < 3; i++) await take(READ);
      assert.ok(await take(READ) > 0);
      assert.equal(await take(READ, NOW, 'tenant/other-app'), 0);
      assert.equal(await take(READ, NOW, 'other-tenant/app'), 0);
    });

    it('counts each of many concurrent calls once, and never past a limit', async () => {
      const answers = await Promise.all(Array.from({ length: 20 }, () => take(OTHER)));
      assert.equal(answers.filter((a) => a === 0).length, 5);
      assert.ok(answers.every((a) => a === 0 || a === WINDOW));
    });
  });
}
