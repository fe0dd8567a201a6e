/**
 * The store contract against Redis, plus what only the Redis store has: hash slots, several nodes (store instances,
 * each with its own connection) racing on one user, one delivery queue and one outbox, the UPN index, and start-up
 * errors.
 *
 * Redis is PRESENTLY_TEST_REDIS_URL, else redis://127.0.0.1:6379 (CI starts one). Every store opened here gets its
 * own key prefix under one per-run prefix, and every key under that is deleted at the end. When Redis cannot be
 * reached the suite is skipped, saying so (CI=true: it fails). The same suites run against a Redis Cluster: the
 * one PRESENTLY_TEST_REDIS_CLUSTER_URL names (redis://h1:p1,h2:p2,...), else three masters this file starts from the
 * machine's redis-server (test/kit/redisCluster.ts) and stops at the end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { newRecord, parseSequence, transition } from '../../src/domain/record.ts';
import { setStatusMessage } from '../../src/domain/statusMessage.ts';
import type { PresenceRecord } from '../../src/domain/types.ts';
import type { NewDelivery } from '../../src/domain/subscription.ts';
import { markReauthorizationNotice } from '../../src/notifications/reauthorization.ts';
import { UpnTaken } from '../../src/store/errors.ts';
import { openStore } from '../../src/store/index.ts';
import { SHARDS, openRedisStore, parseRedisUrl, redact, scanAll, shardOf, type RedisStore } from '../../src/store/redis/redisStore.ts';
import { storeContract } from './contract/index.ts';
import { APP, subscription } from './contract/fixtures.ts';
import { redisUnreachable } from '../kit/redis.ts';
import { clusterUnavailable, startRedisCluster, type RedisCluster } from '../kit/redisCluster.ts';

const REDIS_URL = process.env.PRESENTLY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const clusterMissing = process.env.PRESENTLY_TEST_REDIS_CLUSTER_URL ? null : clusterUnavailable();
if (clusterMissing) {
  if (process.env.CI) throw new Error(`the Redis Cluster suites need redis-server and redis-cli: ${clusterMissing}`);
  process.stderr.write(`\n*** Redis Cluster store tests SKIPPED: ${clusterMissing}.\n\n`);
}
const ownCluster: RedisCluster | null = process.env.PRESENTLY_TEST_REDIS_CLUSTER_URL || clusterMissing ? null : await startRedisCluster();
const CLUSTER_URL = process.env.PRESENTLY_TEST_REDIS_CLUSTER_URL ?? ownCluster?.url;
const RUN = `presently-test-${process.pid}-${randomBytes(4).toString('hex')}:`;
const T1 = '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01';
const NOW = Date.UTC(2026, 10, 28, 8, 0, 0);

const unreachable = await redisUnreachable(REDIS_URL);
if (unreachable) {
  process.stderr.write(`\n*** Redis store tests SKIPPED: cannot reach Redis at ${redact(REDIS_URL)} (${unreachable}).\n`
    + '*** Start one (redis-server) or set PRESENTLY_TEST_REDIS_URL.\n\n');
}
const skip = unreachable ? `Redis not reachable at ${redact(REDIS_URL)}` : false;

let stores = 0;
/** A prefix no other store of this run (or of another run) uses. */
const freshPrefix = () => `${RUN}${++stores}:`;

/** Deletes the keys of this run on one node. */
async function unlinkRun(node: Redis): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', `${RUN}*`, 'COUNT', 1000);
    cursor = next;
    // One key per UNLINK: on a cluster node, one command may not span hash slots.
    await Promise.all(keys.map((key) => node.unlink(key)));
  } while (cursor !== '0');
}

/** Deletes every key of this run: SCAN MATCH <run prefix>* and UNLINK, on every master of a cluster. */
async function cleanUp(url: string): Promise<void> {
  const target = parseRedisUrl(url);
  if (target.kind === 'single') {
    const node = new Redis(url);
    try {
      await unlinkRun(node);
    } finally {
      await node.quit();
    }
    return;
  }
  const cluster = new Cluster(target.nodes);
  try {
    await cluster.ping();
    for (const node of cluster.nodes('master')) await unlinkRun(node);
  } finally {
    await cluster.quit();
  }
}

after(async () => {
  if (!unreachable) await cleanUp(REDIS_URL);
  if (CLUSTER_URL) await cleanUp(CLUSTER_URL);
  await ownCluster?.stop();
});

if (!unreachable) {
  storeContract(
    'redis',
    () => openRedisStore({ url: REDIS_URL, prefix: freshPrefix() }),
    (closed) => openRedisStore({ url: closed.backend.url, prefix: closed.backend.prefix }),
  );
}
if (CLUSTER_URL) {
  storeContract(
    'redis cluster',
    () => openRedisStore({ url: CLUSTER_URL, prefix: freshPrefix() }),
    (closed) => openRedisStore({ url: closed.backend.url, prefix: closed.backend.prefix }),
  );
}

/** The Redis Cluster hash slot of a key: CRC16 (XMODEM) of its hash tag, or of the whole key, mod 16384. */
function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key, 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

function uid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

function user(n: number) {
  return { tenantId: T1, id: uid(n), displayName: `User ${n}`, userPrincipalName: `user${n}@contoso.example` };
}

const increment = (r: PresenceRecord) => transition(r, setStatusMessage(r.facts, {
  kind: 'set',
  message: { content: String(Number(r.facts.statusMessage?.content ?? '0') + 1), contentType: 'text', expiry: null, expiresAt: null },
}, NOW), NOW);

function delivery(n: number, over: Partial<NewDelivery> = {}): NewDelivery {
  return {
    subscriptionId: `5ab5c000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    tenantId: T1, kind: 'change', url: `https://app.example/hooks/${n}`, item: { n }, resourceView: null, userId: uid(n),
    attempt: 0, nextAttemptAt: NOW, createdAt: NOW, ...over,
  };
}

/** A plain client on `url`: a Redis, or a Cluster for several nodes. */
function adminClient(url: string): Redis | Cluster {
  const target = parseRedisUrl(url);
  return target.kind === 'single' ? new Redis(url) : new Cluster(target.nodes);
}

if (CLUSTER_URL) redisSuite('redis cluster', CLUSTER_URL, false);
redisSuite('redis', REDIS_URL, skip);

function redisSuite(name: string, url: string, skip: string | false): void {
  describe(`${name} store`, { skip }, () => {
    /** Opens `n` stores on one prefix: like `n` nodes, each with its own connection. */
    async function nodes(n: number): Promise<RedisStore[]> {
      const prefix = freshPrefix();
      return Promise.all(Array.from({ length: n }, () => openRedisStore({ url, prefix })));
    }
    async function closeAll(stores: RedisStore[]): Promise<void> {
      await Promise.all(stores.map((s) => s.close()));
    }

    let admin: Redis | Cluster;
    before(async () => {
      admin = adminClient(url);
      await admin.ping();
    });
    after(async () => {
      await admin.quit();
    });

    it('counts subscriptions stored before the per-application index once a node has started on the data', async () => {
      const [first] = await nodes(1) as [RedisStore];
      const { prefix } = first.backend;
      try {
        for (let n = 1; n <= 3; n++) await first.putSubscription(subscription(n));
        // Data as the version before the index left it: no application zset, no upgrade marker.
        // One key per DEL: on a cluster the two are in different slots.
        await admin.del(`${prefix}subs:a:${T1}/${APP}`);
        await admin.del(`${prefix}layout:subs-by-app`);
        assert.equal(await first.countSubscriptions({ tenantId: T1, applicationId: APP }), 0, 'the old data has no index');
      } finally {
        await first.close();
      }
      const upgraded = await openRedisStore({ url, prefix });
      try {
        assert.equal(await upgraded.countSubscriptions({ tenantId: T1, applicationId: APP }), 3, 'the caps count all three');
        assert.equal((await upgraded.listSubscriptionPage({ tenantId: T1, applicationId: APP, creatorId: subscription(1).creatorId }, null, 10)).length, 3);
        assert.equal(await admin.get(`${prefix}layout:subs-by-app`), '1', 'the upgrade is recorded, so it runs once');
      } finally {
        await upgraded.close();
      }
    });

    it('upgrades data laid out as v1: each tenant-users set becomes a zset, and its users still page and count', async () => {
      const [first] = await nodes(1) as [RedisStore];
      const { prefix } = first.backend;
      const ids = Array.from({ length: 40 }, (_, i) => uid(i + 1));
      try {
        await first.putUsers(ids.map((_, i) => user(i + 1)), newRecord(NOW));
        // Data as version 1 left it: one set of ids per shard, and its layout.
        for (const key of await scanAll(admin, `${prefix}*:tu:*`)) {
          const members = await admin.zrange(key, 0, -1);
          await admin.del(key);
          await admin.sadd(key, ...members);
        }
        await admin.set(`${prefix}layout`, 'v1 shards=16 hash=fnv1a32');
      } finally {
        await first.close();
      }
      const upgraded = await openRedisStore({ url, prefix });
      try {
        assert.equal(await admin.get(`${prefix}layout`), 'v2 shards=16 hash=fnv1a32', 'the new layout is recorded');
        const keys = await scanAll(admin, `${prefix}*:tu:*`);
        assert.ok(keys.length > 1, 'the users span several shards');
        for (const key of keys) assert.equal(await admin.type(key), 'zset', key);
        assert.equal(await upgraded.countUsers(T1), 40);
        const pages: string[][] = [];
        for (let after: string | null = null; ;) {
          const page: string[] = (await upgraded.listUserPage(T1, after, 15)).map((u) => u.id);
          if (page.length === 0) break;
          pages.push(page);
          after = page.at(-1)!;
        }
        assert.deepEqual(pages.map((p) => p.length), [15, 15, 10]);
        assert.deepEqual(pages.flat(), [...ids].sort(), 'every user once, in id order, across the pages');
        await upgraded.putUser(user(41), newRecord(NOW));
        assert.equal(await upgraded.deleteUser(T1, uid(1)), true);
        assert.equal(await upgraded.countUsers(T1), 40, 'creating and deleting users works on the upgraded keys');
      } finally {
        await upgraded.close();
      }
      const second = await openRedisStore({ url, prefix });
      await second.close();
      await admin.set(`${prefix}layout`, 'v1 shards=64 hash=fnv1a32');
      await assert.rejects(openRedisStore({ url, prefix }), /laid out as 'v1 shards=64/, 'another v1 layout is still refused');
    });

    it('computes hash slots as Redis Cluster does', async () => {
      assert.equal(keySlot('123456789'), 12739);
      assert.equal(keySlot('{user1000}.following'), keySlot('user1000'));
      // A cluster answers CLUSTER KEYSLOT; a single Redis without cluster support does not, and the CRC above stands in.
      try {
        assert.equal(await admin.cluster('KEYSLOT', 'a{shard}b'), keySlot('a{shard}b'));
      } catch (err) {
        assert.match((err as Error).message, /cluster support disabled/);
      }
    });

    it('keeps every key of a user, and of their shard, in one hash slot; shards spread over slots', async () => {
      const [store] = await nodes(1) as [RedisStore];
      try {
        for (let n = 0; n < 40; n++) {
          const keys = store.backend.keysOfUser(T1, uid(n));
          assert.equal(new Set(keys.map(keySlot)).size, 1, `keys of ${uid(n)}: ${keys.join(', ')}`);
          assert.equal(keySlot(keys[0]!), keySlot(`${store.backend.shardBase(shardOf(`${T1}/${uid(n)}`))}:anything`));
        }
        const slots = new Set(Array.from({ length: SHARDS }, (_, k) => keySlot(store.backend.shardBase(k))));
        assert.equal(slots.size, SHARDS, 'one slot per shard');

        // What the store really wrote: every key with a hash tag is in its shard's slot, and a user's keys are in
        // their shard.
        await store.putUser(user(1), newRecord(NOW));
        await store.updatePresence(T1, uid(1), increment);
        const [event] = await store.readChanges(10);
        await store.dispatchChanges([event!.id], [delivery(1)]);
        const written = await scanAll(admin, `${store.backend.prefix}*`);
        const userSlot = keySlot(store.backend.keysOfUser(T1, uid(1))[0]!);
        const tagged = written.filter((k) => k.includes('{'));
        assert.ok(tagged.length >= 6, tagged.join(', '));
        for (const key of tagged) assert.equal(keySlot(key), userSlot, key);
      } finally {
        await store.close();
      }
    });

    it('applies all 150 increments made concurrently through 3 nodes to one user, sequence strictly increasing', async () => {
      const stores = await nodes(3);
      try {
        const [a] = stores as [RedisStore];
        const initial = newRecord(NOW);
        await a.putUser(user(1), initial);
        const results = await Promise.all(stores.flatMap((s) =>
          Array.from({ length: 50 }, () => s.updatePresence(T1, uid(1), increment))));
        const final = await a.getPresence(T1, uid(1));
        assert.equal(final?.facts.statusMessage?.content, '150');
        const committed = results.map((t) => Number(t?.record.facts.statusMessage?.content)).sort((x, y) => x - y);
        assert.deepEqual(committed, Array.from({ length: 150 }, (_, i) => i + 1));
        assert.equal(parseSequence(final.sequenceNumber), parseSequence(initial.sequenceNumber) + 150);

        const events = await a.readChanges(500);
        assert.equal(events.length, 150);
        assert.deepEqual(events.map((e) => e.view.statusMessage?.content), Array.from({ length: 150 }, (_, i) => String(i + 1)));
        const seqs = events.map((e) => parseSequence(e.sequenceNumber));
        assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'strictly increasing in commit order');
      } finally {
        await closeAll(stores);
      }
    });

    it('two nodes claiming concurrently never get the same delivery, and together get them all', async () => {
      const stores = await nodes(2);
      try {
        await stores[0]!.enqueueDeliveries(Array.from({ length: 300 }, (_, i) => delivery(i)));
        const claimAll = async (s: RedisStore) => {
          const mine: string[] = [];
          for (;;) {
            const batch = await s.claimDeliveries(NOW, 7, 60_000);
            if (batch.length === 0) return mine;
            mine.push(...batch.map((d) => d.id));
          }
        };
        const [x, y] = await Promise.all(stores.map(claimAll)) as [string[], string[]];
        assert.equal(new Set([...x, ...y]).size, x.length + y.length, 'no delivery claimed twice');
        assert.equal(x.length + y.length, 300);
      } finally {
        await closeAll(stores);
      }
    });

    it('a delivery leased by a node that died is claimed by another when the lease ends', async () => {
      const stores = await nodes(2);
      try {
        const [dead, alive] = stores as [RedisStore, RedisStore];
        await dead.enqueueDeliveries([delivery(1)]);
        const [d] = await dead.claimDeliveries(NOW, 10, 30_000);
        await dead.close();
        assert.deepEqual(await alive.claimDeliveries(NOW + 29_999, 10, 30_000), []);
        assert.deepEqual(await alive.claimDeliveries(NOW + 30_000, 10, 30_000), [d]);
      } finally {
        await closeAll(stores);
      }
    });

    it('two nodes dispatching the same events enqueue their deliveries once', async () => {
      const stores = await nodes(2);
      try {
        const [a, b] = stores as [RedisStore, RedisStore];
        // Users in several shards, so a dispatch spans shards.
        const users = Array.from({ length: 12 }, (_, i) => i + 1);
        for (const n of users) await a.putUser(user(n), newRecord(NOW));
        for (const n of users) await a.updatePresence(T1, uid(n), increment);
        assert.ok(new Set(users.map((n) => shardOf(`${T1}/${uid(n)}`))).size > 3);
        const [ea, eb] = await Promise.all([a.readChanges(100), b.readChanges(100)]);
        assert.deepEqual(ea, eb);
        const made = ea!.map((e) => delivery(parseInt(e.userId.slice(-12), 16)));
        for (let round = 0; round < 5; round++) {
          const results = await Promise.all([a, b].map((s) => s.dispatchChanges(ea!.map((e) => e.id), made)));
          if (round === 0) assert.ok(results.includes(true));
          else assert.deepEqual(results, [false, false]);
        }
        assert.equal(await a.countDeliveries(), 12);
        assert.deepEqual(await b.readChanges(100), []);
        const claimed = await b.claimDeliveries(NOW, 100, 60_000);
        assert.deepEqual(claimed.map((d) => d.userId).sort(), users.map(uid).sort(), 'one delivery per event');
      } finally {
        await closeAll(stores);
      }
    });

    it('four nodes marking one subscription\'s reauthorisation notice: exactly one wins and queues it', async () => {
      const stores = await nodes(4);
      try {
        const sub = {
          id: '5ab5c000-0000-4000-8000-000000000042', tenantId: T1, applicationId: T1, creatorId: uid(1),
          changeType: 'updated' as const, resource: `communications/presences/${uid(1)}`, userIds: [uid(1)],
          notificationUrl: 'https://app.example/h', lifecycleNotificationUrl: 'https://app.example/life',
          expiresAt: NOW + 3_600_000, clientState: null, includeResourceData: false, encryptionCertificate: null,
          encryptionCertificateId: null, latestSupportedTlsVersion: 'v1_2', reauthorizationNotifiedAt: null, createdAt: NOW,
        };
        await stores[0]!.putSubscription(sub);
        const lifetime = { expiresAt: sub.expiresAt, since: sub.expiresAt - 600_000 };
        const notice = { ...delivery(1), kind: 'lifecycle' as const, userId: null, url: sub.lifecycleNotificationUrl };
        const results = await Promise.all(stores.flatMap((s, n) => [0, 1, 2].map((i) => s.updateSubscription(
          sub.id, (current) => markReauthorizationNotice(current, lifetime, lifetime.since + n * 3 + i), [notice]))));
        const winners = results.filter((r) => r !== null);
        assert.equal(winners.length, 1, `winners: ${winners.length}`);
        assert.deepEqual(await stores[3]!.getSubscription(sub.id), winners[0]);
        assert.equal(await stores[2]!.countDeliveries(), 1, 'one notice over all nodes');
      } finally {
        await closeAll(stores);
      }
    });

    it('readChanges merges the shards in commit order, a batch at a time', async () => {
      const [store] = await nodes(1) as [RedisStore];
      try {
        // Most events in one shard, a few in others: reading must go past each shard's first share.
        const users = [1, 2, 3, 4, 5];
        for (const n of users) await store.putUser(user(n), newRecord(NOW));
        const order: string[] = [];
        for (let i = 0; i < 120; i++) {
          const n = i % 10 === 0 ? users[(i / 10) % users.length]! : 1;
          const t = await store.updatePresence(T1, uid(n), increment);
          order.push(`${uid(n)} ${t!.record.sequenceNumber}`);
        }
        const all = await store.readChanges(1000);
        assert.deepEqual(all.map((e) => `${e.userId} ${e.sequenceNumber}`), order);
        for (const limit of [1, 7, 50, 119]) {
          assert.deepEqual(await store.readChanges(limit), all.slice(0, limit), `limit ${limit}`);
        }
        assert.equal(await store.dispatchChanges(all.slice(0, 100).map((e) => e.id), []), true);
        assert.deepEqual(await store.readChanges(1000), all.slice(100));
      } finally {
        await store.close();
      }
    });

    it('takes over a UPN left claimed by an interrupted call once the claim is old, and never a live one', async () => {
      const [store] = await nodes(1) as [RedisStore];
      try {
        const upnKey = `${store.backend.prefix}upn:ghost@contoso.example`;
        // A claim whose owner never got written, made just now: kept (a putUser may be in flight).
        const serverNow = Number((await admin.time())[0]);
        await admin.set(upnKey, `${T1}/${uid(99)}|${serverNow}`);
        assert.equal(await store.findUserByUpn('ghost@contoso.example'), null, 'a claim alone is not a user');
        await assert.rejects(store.putUser({ ...user(1), userPrincipalName: 'Ghost@contoso.example' }, newRecord(NOW)), UpnTaken);
        // The same claim an hour old: taken over.
        await admin.set(upnKey, `${T1}/${uid(99)}|${serverNow - 3600}`);
        assert.equal(await store.putUser({ ...user(1), userPrincipalName: 'Ghost@contoso.example' }, newRecord(NOW)), true);
        assert.equal((await store.findUserByUpn('GHOST@contoso.example'))?.id, uid(1));
        // A live owner's UPN is never taken over, however old the claim.
        await admin.set(upnKey, `${T1}/${uid(1)}|${serverNow - 3600}`);
        await assert.rejects(store.putUser({ ...user(2), userPrincipalName: 'ghost@contoso.example' }, newRecord(NOW)), UpnTaken);
      } finally {
        await store.close();
      }
    });

    it('deleting a subscription removes its deliveries in every shard', async () => {
      const [store] = await nodes(1) as [RedisStore];
      try {
        const sub = delivery(1).subscriptionId;
        await store.putUser(user(1), newRecord(NOW));
        for (let i = 0; i < 3; i++) await store.updatePresence(T1, uid(1), increment);
        const events = await store.readChanges(10);
        // Change deliveries go to the event's shard; lifecycle ones to the subscription's.
        await store.dispatchChanges(events.map((e) => e.id), [delivery(1), delivery(1)]);
        await store.enqueueDeliveries([delivery(1, { kind: 'lifecycle', userId: null }), delivery(2)]);
        assert.equal(await store.countDeliveries(), 4);
        await store.deleteSubscription(sub);
        assert.equal(await store.countDeliveries(), 1);
        assert.deepEqual(await scanAll(admin, `${store.backend.prefix}*:ds:${sub}`), [], 'no delivery set left behind');
      } finally {
        await store.close();
      }
    });

    it('refuses data laid out with another shard count', async () => {
      const prefix = freshPrefix();
      await admin.set(`${prefix}layout`, 'v1 shards=64 hash=fnv1a32');
      await assert.rejects(openRedisStore({ url, prefix }), /laid out as 'v1 shards=64/);
    });

    it('openStore opens Redis with the given URL and prefix', async () => {
      const prefix = freshPrefix();
      const store = await openStore({ kind: 'redis', redisUrl: url, redisPrefix: prefix });
      try {
        assert.equal(store.kind, 'redis');
        assert.equal(store.facts.soleWriter, false);
        await store.setMeta('k', 'v');
        assert.equal(await admin.hget(`${prefix}meta`, 'k'), 'v');
      } finally {
        await store.close();
      }
    });
  });

}

describe('redis store: URLs and start-up', () => {
  it('fails with a clear message when Redis cannot be reached', async () => {
    await assert.rejects(openRedisStore({ url: 'redis://user:s3cret@127.0.0.1:1', prefix: freshPrefix() }), (err: Error) => {
      assert.match(err.message, /^cannot reach Redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:1: .*ECONNREFUSED/);
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    });
  });

  it('rejects a prefix that would change the hash tags', async () => {
    await assert.rejects(openRedisStore({ url: REDIS_URL, prefix: 'a{b}:' }), /must not contain/);
  });

  it('reads one node as a single Redis and several as a cluster', () => {
    assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6379/2'), { kind: 'single', url: 'redis://127.0.0.1:6379/2' });
    assert.deepEqual(parseRedisUrl('redis://h1:7000,h2:7001, h3'), {
      kind: 'cluster', tls: false, nodes: [{ host: 'h1', port: 7000 }, { host: 'h2', port: 7001 }, { host: 'h3', port: 6379 }],
    });
    assert.deepEqual(parseRedisUrl('rediss://app:p%40ss@[::1]:7000,10.0.0.2:7000'), {
      kind: 'cluster', tls: true, username: 'app', password: 'p@ss', nodes: [{ host: '::1', port: 7000 }, { host: '10.0.0.2', port: 7000 }],
    });
    assert.deepEqual(parseRedisUrl('redis://:pw@h1:1,h2:2'), {
      kind: 'cluster', tls: false, password: 'pw', nodes: [{ host: 'h1', port: 1 }, { host: 'h2', port: 2 }],
    });
    assert.throws(() => parseRedisUrl('redis://h1:1,h2:2/3'), /only database 0/);
    assert.throws(() => parseRedisUrl('http://h1:1'), /not a Redis URL/);
    assert.equal(redact('redis://:pw@h:1'), 'redis://:***@h:1');
    assert.equal(redact('redis://h:1'), 'redis://h:1');
  });
});
