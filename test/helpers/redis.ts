/**
 * Running the suites on Redis (issue 5). PRESENTLY_TEST_STORE=redis makes the harnesses of ./server.ts start their
 * servers on the Redis at PRESENTLY_TEST_REDIS_URL (default redis://127.0.0.1:6379), each with a key prefix of its
 * own, `presently-test-<pid>-<random>:`, whose keys are deleted afterwards. test/on-redis/ sets the variable and
 * re-runs whole suite folders (runFolderOnRedis).
 *
 * Lifetime of a prefix: a server on a data directory the harness made keeps its keys until it closes; a server on
 * a data directory the test passed in (a test that restarts a server on the same data) gets the prefix bound to
 * that directory, so every restart finds its data, and those keys are deleted when the test process ends.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { openStore } from '../../src/store/index.ts';
import { redact } from '../../src/store/redis/redisStore.ts';
import type { Store } from '../../src/store/types.ts';

export const TEST_REDIS_URL = process.env.PRESENTLY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** True when this test process runs its servers on Redis (PRESENTLY_TEST_STORE=redis). Read at each call. */
export function onRedis(): boolean {
  return process.env.PRESENTLY_TEST_STORE === 'redis';
}

/**
 * The store for a server whose test prefers `preferred` but does not test that backend: `preferred`, or 'redis'
 * when this run is on Redis. (A test that tests sqlite or memory itself passes `store` directly.)
 */
export function storeUnderTest(preferred: 'sqlite' | 'memory'): 'sqlite' | 'memory' | 'redis' {
  return onRedis() ? 'redis' : preferred;
}

/** Every prefix of this process starts with this; the sweep at exit deletes everything under it. */
const RUN = `presently-test-${process.pid}-`;
const byDataDir = new Map<string, string>();
let sweepArmed = false;

/** A prefix no other server (of this or another test process) uses. */
export function newRedisPrefix(): string {
  armSweep();
  return `${RUN}${randomBytes(6).toString('hex')}:`;
}

/** The prefix of the data in `dataDir`: the same for every server started on that directory in this process. */
export function redisPrefixFor(dataDir: string): string {
  const key = resolve(dataDir);
  let prefix = byDataDir.get(key);
  if (!prefix) {
    prefix = newRedisPrefix();
    byDataDir.set(key, prefix);
  }
  return prefix;
}

/** Deletes every key starting with `prefix`: SCAN MATCH prefix* and UNLINK. */
export async function deleteRedisPrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  if (!/^[\w.:-]+$/.test(prefix)) throw new Error(`refusing to delete keys under '${prefix}'`);
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Once this process made a prefix: delete every key of the run when the process is about to exit. */
function armSweep(): void {
  if (sweepArmed) return;
  sweepArmed = true;
  process.once('beforeExit', () => {
    deleteRedisPrefix(RUN).catch((err: Error) => {
      process.stderr.write(`could not delete the test keys under ${RUN}* in ${redact(TEST_REDIS_URL)}: ${err.message}\n`);
    });
  });
}

/** Null when Redis answers PING, else why not. */
export async function redisUnreachable(url = TEST_REDIS_URL): Promise<string | null> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  let why: string | null = null;
  probe.on('error', (err: Error) => {
    why = err.message;
  });
  try {
    await probe.connect();
    await probe.ping();
    return null;
  } catch (err) {
    return why ?? (err as Error).message;
  } finally {
    probe.disconnect();
  }
}

/**
 * A store for tests that drive the store directly: a private in-memory SQLite store, or on Redis a store on a fresh
 * prefix whose keys its close() deletes. The Redis one is also closed when the test (or suite) that opened it ends,
 * passed or failed: its open connection would keep the test process from exiting.
 */
export async function openTestStore(): Promise<Store> {
  if (!onRedis()) return openStore({ kind: 'memory', dataDir: '' });
  const prefix = newRedisPrefix();
  const store = await openStore({ kind: 'redis', redisUrl: TEST_REDIS_URL, redisPrefix: prefix });
  const close = store.close.bind(store);
  let closing: Promise<void> | null = null;
  const closeOnce = () => closing ??= close().finally(() => deleteRedisPrefix(prefix));
  after(closeOnce);
  return Object.assign(store, { close: closeOnce });
}

/**
 * test/on-redis/: runs every `*.test.ts` of `folder` (relative to the calling file's URL `from`) in this process
 * with PRESENTLY_TEST_STORE=redis, each inside a suite named "on Redis: <folder>/<file>", so its hooks and servers
 * stay within it. Files in `except` are left out (pure suites that never touch a store). When Redis cannot be
 * reached, registers one skipped test saying so.
 */
export async function runFolderOnRedis(from: string, folder: string, except: string[] = []): Promise<void> {
  const dir = fileURLToPath(new URL(`${folder}/`, from));
  const name = basename(dir);
  const why = await redisUnreachable();
  if (why) {
    process.stderr.write(`\n*** ${name} suites on Redis SKIPPED: cannot reach Redis at ${redact(TEST_REDIS_URL)} (${why}).\n`
      + '*** Start one (redis-server) or set PRESENTLY_TEST_REDIS_URL.\n\n');
    it(`${name} suites on Redis`, { skip: `Redis not reachable at ${redact(TEST_REDIS_URL)} (${why})` }, () => {});
    return;
  }
  process.env.PRESENTLY_TEST_STORE = 'redis';
  const all = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort();
  const unknown = except.filter((f) => !all.includes(f));
  if (unknown.length > 0) throw new Error(`runFolderOnRedis: no ${unknown.join(', ')} in ${dir}`);
  for (const file of all.filter((f) => !except.includes(f))) {
    describe(`on Redis: ${name}/${file}`, async () => {
      await import(pathToFileURL(join(dir, file)).href);
    });
  }
}
