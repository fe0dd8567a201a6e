/**
 * Two nodes on one Redis, each with its read cache (src/store/redis/changes.ts, src/presence/cacheCoherence.ts,
 * decision d-shared-read-cache): a write on one node drops the user from the other's cache, told by Redis itself, so
 * the other node's next read shows it; a lost connection to Redis drops everything and the cache starts again once
 * Redis tells changes again. The waits below wait for Redis's message, not for time.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { newRecord } from '../../src/domain/record.ts';
import { systemClock } from '../../src/platform/clock/system.ts';
import { PresenceService } from '../../src/presence/service.ts';
import { TIMED } from '../../src/presence/events.ts';
import { openStore } from '../../src/store/index.ts';
import { RedisContext } from '../../src/store/redis/context.ts';
import type { Store } from '../../src/store/types.ts';
import { needsRedis } from '../kit/backends.ts';
import { TEST_REDIS_URL, deleteRedisPrefix, newRedisPrefix } from '../kit/redis.ts';
import { withStatus } from './contract/fixtures.ts';

const T = '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01';
const U = '00000000-0000-4000-8000-0000000000c1';

/** Resolves once `ready()` is true; fails after 5 s naming `what` (a message Redis never sent). */
async function until(what: string, ready: () => boolean | Promise<boolean>): Promise<void> {
  const give = Date.now() + 5_000;
  while (!(await ready())) {
    if (Date.now() > give) assert.fail(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

needsRedis('read caches of two nodes on one Redis', { timeout: 30_000 }, () => {
  const prefix = newRedisPrefix();
  const stores: Store[] = [];
  const node = async () => {
    const store = await openStore({ kind: 'redis', redisUrl: TEST_REDIS_URL, redisPrefix: prefix });
    stores.push(store);
    return new PresenceService(store, systemClock(), undefined, { readCache: true, sharedStore: true });
  };
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await deleteRedisPrefix(prefix);
  });
  const message = (snap: { view: { statusMessage: { content: string } | null } } | null | undefined) => snap?.view.statusMessage?.content ?? null;
  const setStatus = (p: PresenceService, text: string) =>
    p.apply(T, U, (facts, now) => withStatus({ ...newRecord(now), facts }, text, now, null).record.facts, TIMED);

  it('a write on node B drops the user from node A\'s cache; A\'s next read shows it and is kept', async () => {
    const a = await node();
    const b = await node();
    await stores[0]!.putUser({ id: U, tenantId: T, displayName: 'Adele', userPrincipalName: 'adele@contoso.example' }, newRecord(Date.now()));
    // Until A's connection for changes is up, nothing is kept: read until the read is kept.
    await until('node A keeps a read', async () => (await a.read(T, U), a.known(T, U) !== undefined));
    assert.equal(message(a.known(T, U)), null);
    await setStatus(b, 'Written on B');
    await until('Redis tells node A of B\'s write', () => a.known(T, U) === undefined);
    assert.equal(message(await a.read(T, U)), 'Written on B');
    assert.equal(message(a.known(T, U)), 'Written on B', 'A keeps what it read after the change');
    // A deletion is a change too.
    await stores[1]!.deleteUser(T, U);
    await until('Redis tells node A of the deletion', () => a.known(T, U) === undefined);
    assert.equal(await a.read(T, U), null);
  });

  it('a node started on users already in Redis fills its cache from them; users created in bulk are cached as created', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `00000000-0000-4000-8000-0000000003${String(i).padStart(2, '0')}`);
    const writer = await node();
    const store = stores.at(-1)!;
    await store.putUsers(ids.map((id, i) => ({ id, tenantId: T, displayName: `F${i}`, userPrincipalName: `f${i}@contoso.example` })), newRecord(Date.now()));
    await setStatus(writer, 'Before the start');
    const fresh = await node();
    const filled = await fresh.warm();
    assert.ok(filled >= ids.length, `filled ${filled}`);
    for (const id of ids) assert.ok(fresh.known(T, id), `${id} is cached without a read`);
    // A user created in bulk through this node is cached at once.
    const more = { tenantId: T, userId: '00000000-0000-4000-8000-000000000399' };
    await fresh.creating([more], newRecord(Date.now()), () => stores.at(-1)!.putUsers([
      { id: more.userId, tenantId: T, displayName: 'New', userPrincipalName: 'new@contoso.example' },
    ], newRecord(Date.now())));
    assert.ok(fresh.known(T, more.userId));
  });

  it('the connection for changes dropped: A drops everything, and keeps reads again once Redis tells changes again', async () => {
    const a = await node();
    await stores.at(-1)!.putUser({ id: U, tenantId: T, displayName: 'Adele', userPrincipalName: 'adele@contoso.example' }, newRecord(Date.now()));
    await until('node A keeps a read', async () => (await a.read(T, U), a.known(T, U) !== undefined));
    const admin = new Redis(TEST_REDIS_URL);
    try {
      const killed = await admin.call('CLIENT', 'KILL', 'ID', await changesConnectionOf(admin, prefix, stores.length)) as number;
      assert.equal(killed, 1, 'one connection killed');
    } finally {
      admin.disconnect();
    }
    await until('node A drops its cache when its connection for changes drops', () => a.known(T, U) === undefined);
    await until('node A keeps reads again once reconnected', async () => (await a.read(T, U), a.known(T, U) !== undefined));
  });

  it('the connection for changes dropped and came back: a node that filled its cache at start fills it again, without a read', async () => {
    const a = await node();
    await stores.at(-1)!.putUser({ id: U, tenantId: T, displayName: 'Adele', userPrincipalName: 'adele@contoso.example' }, newRecord(Date.now()));
    await a.warm();
    assert.ok(a.known(T, U), 'filled at start');
    const admin = new Redis(TEST_REDIS_URL);
    try {
      await admin.call('CLIENT', 'KILL', 'ID', await changesConnectionOf(admin, prefix, stores.length));
    } finally {
      admin.disconnect();
    }
    await until('node A drops its cache when its connection for changes drops', () => a.known(T, U) === undefined);
    await until('node A fills its cache again once reconnected, with no read of the user', () => a.known(T, U) !== undefined);
  });
});

/** The id of the newest connection for changes of the nodes on `prefix` (named `<prefix>changes`), once there are `count`. */
async function changesConnectionOf(admin: Redis, prefix: string, count: number): Promise<string> {
  let ids: string[] = [];
  await until(`${count} connections for changes named ${prefix}changes`, async () => {
    const list = await admin.call('CLIENT', 'LIST') as string;
    ids = list.split('\n').filter((line) => line.includes(` name=${prefix}changes `)).map((line) => /\bid=(\d+)/.exec(line)![1]!);
    return ids.length >= count;
  });
  return ids.sort((x, y) => Number(x) - Number(y)).at(-1)!;
}

needsRedis('a Redis that refuses client-side caching', { timeout: 30_000 }, () => {
  it('the node says so in its log and keeps no cache: every read goes to Redis, and reads are right', async () => {
    const prefix = newRedisPrefix();
    const user = `presently-test-${prefix.replace(/[^a-z0-9]/gi, '')}`;
    const admin = new Redis(TEST_REDIS_URL);
    // A user allowed everything but CLIENT (as some managed Redis services do).
    await admin.call('ACL', 'SETUSER', user, 'on', '>secret', '~*', '&*', '+@all', '-client');
    const url = new URL(TEST_REDIS_URL);
    url.username = user;
    url.password = 'secret';
    let store: Store | null = null;
    try {
      store = await openStore({ kind: 'redis', redisUrl: url.toString(), redisPrefix: prefix });
      const warnings: string[] = [];
      const p = new PresenceService(store, systemClock(), undefined, { readCache: true, sharedStore: true, warn: (m) => warnings.push(m) });
      await until('the refusal is logged', () => warnings.length > 0);
      assert.match(warnings[0]!, /^no read cache: Redis refused client-side caching \(CLIENT TRACKING\): NOPERM.*every read goes to the store$/);
      await store.putUser({ id: U, tenantId: T, displayName: 'Adele', userPrincipalName: 'adele@contoso.example' }, newRecord(Date.now()));
      await p.apply(T, U, (facts, now) => withStatus({ ...newRecord(now), facts }, 'No cache here', now, null).record.facts, TIMED);
      assert.equal((await p.read(T, U))?.view.statusMessage?.content, 'No cache here');
      assert.equal(p.known(T, U), undefined, 'nothing kept');
    } finally {
      await store?.close();
      await admin.call('ACL', 'DELUSER', user);
      admin.disconnect();
      await deleteRedisPrefix(prefix);
    }
  });
});

describe('which user a key Redis names is', () => {
  it('a user record\'s key, under any prefix, names its user; no other key does', () => {
    for (const prefix of ['presently:', 'a:u:', 'x}:u:y{', '']) {
      const ctx = new RedisContext({} as never, prefix);
      for (let k = 0; k < 16; k++) {
        assert.deepEqual(ctx.userOfKey(`${ctx.shardBase(k)}:u:${T}/${U}`), { tenantId: T, userId: U });
      }
      const others = [`${ctx.shardBase(3)}:due`, `${ctx.shardBase(3)}:tu:${T}`, `${prefix}{${prefix}s16}:u:${T}/${U}`,
        `${prefix}{${prefix}s03}:u:${T}/${U}`, `other:u:${T}/${U}`, `${prefix}meta`];
      for (const key of others) assert.equal(ctx.userOfKey(key), null, `${JSON.stringify(prefix)}: ${key}`);
    }
  });
});
