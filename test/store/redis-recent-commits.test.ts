/**
 * Updates on Redis start from this process's last commit of the user (src/store/redis/recentCommits.ts, decision
 * d-redis-recent-commits): the second update of a user reads nothing before its commit; a copy another node has
 * overtaken costs one refused commit, then the update reads the record and loses nothing of the other node's change,
 * and the user's next commits read at once for a while.
 * Redis's MONITOR (filtered to this test's own keys; on a plain socket: ../kit/redis.ts monitorRedis) shows which
 * commands each update sent.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { newRecord, transition } from '../../src/domain/record.ts';
import { clearPresence, setPresence } from '../../src/domain/sessions.ts';
import { openStore } from '../../src/store/index.ts';
import { SKIP_AFTER_REFUSAL } from '../../src/store/redis/recentCommits.ts';
import type { Store } from '../../src/store/types.ts';
import { needsRedis } from '../kit/backends.ts';
import { TEST_REDIS_URL, deleteRedisPrefix, monitorRedis, newRedisPrefix } from '../kit/redis.ts';
import { withStatus } from './contract/fixtures.ts';

const T = '2b5f4ac6-0f43-4b31-8a3c-2d8b8e4f5c01';
const U = '00000000-0000-4000-8000-0000000000d1';
const NOW = Date.UTC(2026, 11, 6, 9);

needsRedis('updates on Redis from the last commit of this process', { timeout: 30_000 }, () => {
  const prefix = newRedisPrefix();
  const stores: Store[] = [];
  const monitor: { watch: Awaited<ReturnType<typeof monitorRedis>> | null } = { watch: null };
  after(async () => {
    monitor.watch?.close();
    await Promise.all(stores.map((s) => s.close()));
    await deleteRedisPrefix(prefix);
  });
  const open = async () => {
    const store = await openStore({ kind: 'redis', redisUrl: TEST_REDIS_URL, redisPrefix: prefix });
    stores.push(store);
    return store;
  };
  let marks = 0;
  /**
   * The commands sent about this test's user record since the last call. MONITOR's lines come on their own connection:
   * a marker command sent last is waited for, so that every command before it has been seen.
   */
  const sent = async () => {
    const mark = `${prefix}mark:${marks++}`;
    await stores[0]!.getMeta(mark);
    const give = Date.now() + 5_000;
    const commands = monitor.watch!.lines;
    while (!commands.some((c) => c.includes(mark))) {
      if (Date.now() > give) assert.fail('MONITOR never showed the marker');
      await new Promise((resolve) => setImmediate(resolve));
    }
    // An EVAL is ioredis sending a script again whose EVALSHA Redis did not know (NOSCRIPT: the first run of that script
    // on a Redis just started, which depends on the order the suites ran in): one commit either way, so it is left out.
    return commands.splice(0).filter((c) => c.includes(prefix) && c.includes(`:u:${T}/${U}`))
      .map((c) => /"(\w+)"/.exec(c)![1]!.toLowerCase()).filter((c) => c !== 'eval');
  };
  const status = (s: Store, text: string) => s.updatePresence(T, U, (r) => withStatus(r, text, NOW, null));

  it('the second update commits without a read; an update overtaken by another node reads again and keeps both changes', async () => {
    const a = await open();
    const b = await open();
    await a.putUser({ id: U, tenantId: T, displayName: 'Dana', userPrincipalName: 'dana@contoso.example' }, newRecord(NOW));
    monitor.watch = await monitorRedis();
    await sent();

    await status(a, 'first');
    await status(a, 'second');
    // (A commit script's own commands on the record, HGET of its rev and HSET, show after its EVALSHA.)
    assert.deepEqual(await sent(), ['hmget', 'evalsha', 'hget', 'hset', 'evalsha', 'hget', 'hset'], 'one read, for the first update only');

    // Node B sets a session of the user; node A's kept copy no longer has the record's rev.
    await b.updatePresence(T, U, (r) => transition(r, setPresence(r.facts, { sessionId: 'node-b', availability: 'Busy', activity: 'Busy', durationMs: 3_600_000 }, NOW), NOW));
    await status(a, 'third');
    assert.deepEqual(await sent(), [
      'hmget', 'evalsha', 'hget', 'hset', // node B's update
      'evalsha', 'hget', // node A's commit from its copy, refused: the rev moved
      'hmget', 'evalsha', 'hget', 'hset', // node A reads the record and commits
    ]);
    const record = await a.getPresence(T, U);
    assert.equal(record?.view.statusMessage?.content, 'third');
    assert.equal(record?.view.availability, 'Busy', 'node B\'s change is kept');
    await sent();

    // Refused once, the user's next commits keep no copy: they read at once, no try that is likely refused again.
    for (let i = 0; i < SKIP_AFTER_REFUSAL; i++) await status(a, `again ${i}`);
    assert.equal((await sent()).filter((c) => c === 'hmget').length, SKIP_AFTER_REFUSAL);
    await status(a, 'from the copy again');
    assert.deepEqual(await sent(), ['evalsha', 'hget', 'hset'], 'then a copy is kept and tried again');

    // A command that changes nothing is decided again on the stored record (the copy might be overtaken); it leaves
    // the copy for the next command.
    assert.equal(await a.updatePresence(T, U, () => null), null);
    assert.deepEqual(await sent(), ['hmget']);
    await status(a, 'after a no-op');
    assert.deepEqual(await sent(), ['evalsha', 'hget', 'hset']);
  });

  it('a command that fails on an overtaken copy is decided again on the record: ending a session another node made', async () => {
    const a = stores[0]!;
    const b = stores[1]!;
    await status(a, 'kept by A');
    // Node B starts a session; node A's copy has none, and ending it there would be "no such session".
    await b.updatePresence(T, U, (r) => transition(r, setPresence(r.facts, { sessionId: 'from-b', availability: 'Busy', activity: 'Busy', durationMs: 3_600_000 }, NOW), NOW));
    const ended = await a.updatePresence(T, U, (r) => transition(r, clearPresence(r.facts, 'from-b', NOW), NOW));
    assert.ok(ended, 'ended on the stored record');
    assert.equal((await a.getPresence(T, U))?.facts.sessions.some((x) => x.sessionId === 'from-b'), false);
  });
});
