/**
 * A Redis store that is not what it seems is refused or reported (docs/operations/storage.md#redis-that-comes-back-empty):
 * a database number the Redis does not have, and a Redis that came back empty — at start (the node remembers the store
 * it opened) and while running (/_presently/ready fails).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { needsRedis } from '../kit/backends.ts';
import { runCli } from '../kit/cli.ts';
import { TEST_REDIS_URL, deleteRedisPrefix, newRedisPrefix } from '../kit/redis.ts';
import { startInProcess, tempDir } from '../kit/server.ts';

const dirs: string[] = [];
const newDir = () => {
  const d = tempDir();
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The keys under `prefix` in database 0 of the test Redis. */
async function keysIn(prefix: string): Promise<string[]> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(TEST_REDIS_URL);
  try {
    return await redis.keys(`${prefix}*`);
  } finally {
    redis.disconnect();
  }
}

needsRedis('a Redis database number that does not exist', { timeout: 30_000 }, () => {
  it('redis://…/99 is refused (exit 1) with a message naming the database and the ones there are, and nothing is written to 0', async () => {
    const prefix = newRedisPrefix();
    const r = await runCli(['serve', '--port', '0', '--store', 'redis', '--redis-url', `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/99`, '--redis-prefix', prefix, '--data', newDir()]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /has no database 99 \(it has \d+: 0 to \d+\)/);
    assert.doesNotMatch(r.stdout, /listening/);
    assert.deepEqual(await keysIn(prefix), [], 'nothing was written to database 0');
  });

  it('a database that exists is used: /1 keeps its data apart from /0', async () => {
    const prefix = newRedisPrefix();
    const server = await startInProcess({ store: 'redis', redisUrl: `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/1`, redisPrefix: prefix });
    try {
      assert.equal((await server.inject({ method: 'GET', url: '/_presently/ready' })).statusCode, 200);
      assert.deepEqual(await keysIn(prefix), [], 'database 0 holds none of its keys');
    } finally {
      await server.close();
      await deleteRedisPrefix(prefix, `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/1`);
    }
  });
});

needsRedis('a Redis that comes back empty', { timeout: 30_000 }, () => {
  it('at start: a node that used a store there refuses the empty Redis (exit 1), writing nothing, until told to start over', async () => {
    const dataDir = newDir();
    const prefix = newRedisPrefix();
    const first = await startInProcess({ store: 'redis', dataDir, redisPrefix: prefix });
    await first.close();
    await deleteRedisPrefix(prefix); // Redis restarted without persistence.

    const args = ['serve', '--port', '0', '--store', 'redis', '--redis-url', TEST_REDIS_URL, '--redis-prefix', prefix, '--data', dataDir];
    const r = await runCli(args);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /holds no Presently data, but this node last used store [0-9a-f-]{36} there .*Redis lost its data/);
    assert.ok(r.stderr.includes(`delete ${join(dataDir, 'redis-stores.json')} and start again`), r.stderr);
    assert.deepEqual(await keysIn(prefix), [], 'the demo tenant was not seeded again');

    rmSync(join(dataDir, 'redis-stores.json'));
    const again = await startInProcess({ store: 'redis', dataDir, redisPrefix: prefix });
    try {
      assert.equal((await again.inject({ method: 'GET', url: '/_presently/ready' })).statusCode, 200);
    } finally {
      await again.close();
      await deleteRedisPrefix(prefix);
    }
  });

  it('a restart on a Redis that kept its data starts as before', async () => {
    const dataDir = newDir();
    const prefix = newRedisPrefix();
    await (await startInProcess({ store: 'redis', dataDir, redisPrefix: prefix })).close();
    const again = await startInProcess({ store: 'redis', dataDir, redisPrefix: prefix });
    await again.close();
    await deleteRedisPrefix(prefix);
  });

  it('while running: /_presently/ready answers 503 saying Redis lost its data', async () => {
    const prefix = newRedisPrefix();
    const server = await startInProcess({ store: 'redis', dataDir: newDir(), redisPrefix: prefix });
    try {
      assert.equal((await server.inject({ method: 'GET', url: '/_presently/ready' })).statusCode, 200);
      await deleteRedisPrefix(prefix);
      const ready = await server.inject({ method: 'GET', url: '/_presently/ready' });
      assert.equal(ready.statusCode, 503);
      assert.match(ready.json().error.message, /no longer holds store [0-9a-f-]{36} .*\(it is empty\): Redis lost its data/);
    } finally {
      await server.close();
      await deleteRedisPrefix(prefix);
    }
  });
});
