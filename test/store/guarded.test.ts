/**
 * The wrapper every backend sits behind (src/store/guarded.ts): an outage the backend recognises becomes
 * StoreUnavailable, which HTTP answers 503 with Retry-After; other errors pass through untouched. The wrapper's
 * guards (limits, empty input) are part of the contract suite, run against every backend.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { newRecord } from '../../src/domain/record.ts';
import { toGraphError } from '../../src/http/errors.ts';
import { CONFLICT, TooManyConflicts, retryOnConflict } from '../../src/platform/retry.ts';
import { StoreUnavailable, UpnTaken } from '../../src/store/errors.ts';
import { GuardedStore } from '../../src/store/guarded.ts';
import { RedisBackend } from '../../src/store/redis/redisStore.ts';
import { isRedisOutage } from '../../src/store/redis/outage.ts';
import { SqliteBackend, openSqliteStore } from '../../src/store/sqlite/sqliteStore.ts';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe('the store wrapper: outages', () => {
  it('a Redis store whose Redis is not there answers StoreUnavailable, fast, naming Redis', async () => {
    const port = await closedPort();
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 1000, retryStrategy: () => null });
    client.on('error', () => {});
    const store = new GuardedStore(new RedisBackend(client, `redis://127.0.0.1:${port}`, 'presently-guard-test:'));
    try {
      const started = performance.now();
      const err = await store.getMeta('k').then(() => null, (e: unknown) => e);
      assert.ok(err instanceof StoreUnavailable, `got ${String(err)}`);
      assert.equal(err.backend, 'Redis');
      assert.ok(performance.now() - started < 3000);
      await assert.rejects(store.claimDeliveries(0, 10, 1000), StoreUnavailable);
      await assert.rejects(store.sharedClock!().read(), StoreUnavailable, 'the shared clock too');
      assert.equal(await store.ping(), false);
    } finally {
      client.disconnect();
    }
  });

  it('recognises ioredis\'s outage errors, and nothing else', () => {
    for (const err of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' }),
      new Error('Command timed out'), new Error('Connection is closed.'), new Error('Stream isn\'t writeable and enableOfflineQueue options is false'),
      new Error('Failed to refresh slots cache.'), Object.assign(new Error('x'), { message: 'ClusterAllFailedError: Failed' }),
    ]) assert.equal(isRedisOutage(err), true, err.message);
    for (const err of [new Error('ERR syntax error'), new Error('NOSCRIPT No matching script'), new UpnTaken('a@b'), null, 'ECONNREFUSED']) {
      assert.equal(isRedisOutage(err), false, String(err));
    }
  });

  it('other errors pass through as they are; SQLite never reports an outage', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await store.putUser({ tenantId: 't', id: 'u1', displayName: 'A', userPrincipalName: 'a@x' }, newRecord(0));
    await assert.rejects(
      store.putUser({ tenantId: 't', id: 'u2', displayName: 'B', userPrincipalName: 'A@X' }, newRecord(0)),
      UpnTaken,
    );
    assert.equal(store.backend instanceof SqliteBackend && store.backend.isOutage(), false);
    await store.close();
    await assert.rejects(store.getMeta('k'), (err: Error) => !(err instanceof StoreUnavailable));
  });

  it('HTTP answers StoreUnavailable with 503 ServiceUnavailable and Retry-After', () => {
    const e = toGraphError(new StoreUnavailable('Redis', new Error('connect ECONNREFUSED')));
    assert.ok(e);
    assert.equal(e.status, 503);
    assert.equal(e.code, 'ServiceUnavailable');
    assert.equal(e.headers['Retry-After'], '5');
    assert.match(e.message, /presence store \(Redis\) is not reachable/);
    assert.equal(toGraphError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), null,
      'a driver error that did not come through the store is no 503');
  });
});

describe('the store wrapper: conflicts', () => {
  const sub = {
    id: '5ab5c000-0000-4000-8000-000000000001', tenantId: 't', applicationId: 'a', creatorId: 'c', changeType: 'updated',
    resource: 'communications/presences', userIds: ['u1'], notificationUrl: 'https://app.example/h', lifecycleNotificationUrl: null,
    expiresAt: 1000, clientState: '', includeResourceData: false, encryptionCertificate: null, encryptionCertificateId: null,
    latestSupportedTlsVersion: 'v1_2', reauthorizationNotifiedAt: null, createdAt: 0,
  } as const;

  it('updateSubscription re-reads and re-decides when another writer got in first', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await store.putSubscription({ ...sub, userIds: [...sub.userIds] });
    const cas = store.backend.subscriptions.compareAndSetSubscription.bind(store.backend.subscriptions);
    let writes = 0;
    // Another writer appends to clientState just before each of this caller's first two compare-and-sets.
    store.backend.subscriptions.compareAndSetSubscription = async (expected, next, enqueue) => {
      if (writes < 2) await store.putSubscription({ ...expected, clientState: `${expected.clientState}w${++writes}` });
      return cas(expected, next, enqueue);
    };
    const decisions: string[] = [];
    const stored = await store.updateSubscription(sub.id, (s) => {
      decisions.push(s.clientState ?? '');
      return { ...s, clientState: `${s.clientState}!` };
    });
    assert.deepEqual(decisions, ['', 'w1', 'w1w2'], 'decided again on what the other writer stored');
    assert.equal(stored?.clientState, 'w1w2!');
    assert.equal((await store.getSubscription(sub.id))?.clientState, 'w1w2!');
    await store.close();
  });

  it('gives up with TooManyConflicts after losing `max` times in a row', async () => {
    let attempts = 0;
    await assert.rejects(retryOnConflict('updating x', async () => {
      attempts++;
      return CONFLICT;
    }, 3), (err: Error) => err instanceof TooManyConflicts && /updating x: another writer committed first 3 times in a row/.test(err.message));
    assert.equal(attempts, 3);
    assert.equal(await retryOnConflict('y', async () => (++attempts < 5 ? CONFLICT : 'done'), 3), 'done', 'a win within `max` attempts returns its result');
  });
});
