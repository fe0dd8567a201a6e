/**
 * The backend matrix. A suite that runs servers or stores says on which backends it runs:
 *
 *   forEachBackend(['memory', 'redis'], (backend) => { ... startInProcess({ store: backend }) ... });
 *
 * registers the suite once per backend, inside a describe named "on <backend>". Redis is the one at
 * PRESENTLY_TEST_REDIS_URL (./redis.ts), probed once per test process. When it cannot be reached, the Redis suites
 * are skipped with the reason, so the run's summary counts them as skipped — and with CI=true they fail instead:
 * a CI run without its Redis proves less than it claims.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openStore } from '../../src/store/index.ts';
import { redact } from '../../src/store/redis/redisStore.ts';
import type { Store } from '../../src/store/types.ts';
import { TEST_REDIS_URL, deleteRedisPrefix, newRedisPrefix, redisUnreachable } from './redis.ts';

/** `journal`: SQLite with its presence records in the presence journal (`--presence-store journal`). */
export type Backend = 'memory' | 'sqlite' | 'journal' | 'redis';

/**
 * Why Redis cannot be used by this test process, or null: probed once, when the kit is loaded, so that suites are
 * registered synchronously (a describe registered after an await may land in another file's suite when several test
 * files share a process, test/kit/suites.ts).
 */
export const whyNoRedis: string | null = await redisUnreachable();

/** True when the run must not skip what needs Redis. */
const strict = () => process.env.CI === 'true';

/**
 * `suite` for a describe that needs Redis: registered as given when Redis answers; else skipped with the reason
 * (visible in the summary's `skipped` count), or, with CI=true, replaced by a failing test saying why.
 */
export function needsRedis(name: string, options: { timeout?: number }, suite: () => void | Promise<void>): void {
  const why = whyNoRedis;
  if (why === null) {
    describe(name, options, suite);
    return;
  }
  const reason = `Redis not reachable at ${redact(TEST_REDIS_URL)} (${why}); start one (redis-server) or set PRESENTLY_TEST_REDIS_URL`;
  if (strict()) {
    it(`${name} [needs Redis]`, () => assert.fail(`${reason}. CI=true: a CI run must not skip its Redis suites.`));
    return;
  }
  process.stderr.write(`\n*** SKIPPED (${name}): ${reason}.\n\n`);
  // A skipped test, not a skipped describe: the runner's summary counts only tests as skipped.
  it(`${name} [needs Redis]`, { skip: reason }, () => {});
}

/** Registers `suite(backend)` once per backend, each in a describe named "on <backend>". */
export function forEachBackend(backends: readonly Backend[], suite: (backend: Backend) => void | Promise<void>): void {
  for (const backend of backends) {
    if (backend === 'redis') needsRedis(`on ${backend}`, {}, () => suite(backend));
    else describe(`on ${backend}`, () => suite(backend));
  }
}

/**
 * A store for tests that drive the store directly: a private in-memory SQLite store, or on Redis a store on a fresh
 * prefix whose keys its close() deletes. The Redis one is also closed when the test (or suite) that opened it ends,
 * passed or failed: its open connection would keep the test process from exiting.
 */
export async function openTestStore(backend: Backend): Promise<Store> {
  if (backend !== 'redis') return openStore({ kind: 'memory', dataDir: '' });
  const prefix = newRedisPrefix();
  const store = await openStore({ kind: 'redis', redisUrl: TEST_REDIS_URL, redisPrefix: prefix });
  const close = store.close.bind(store);
  let closing: Promise<void> | null = null;
  const closeOnce = () => closing ??= close().finally(() => deleteRedisPrefix(prefix));
  after(closeOnce);
  return Object.assign(store, { close: closeOnce });
}
