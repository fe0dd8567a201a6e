/**
 * Throttling over several nodes: `--throttle graph` counts in the store, so two nodes on one Redis prefix share one
 * budget per application per tenant — N nodes allow Graph's limits, not N times them — and a window opened on one
 * node ends at the same instant on the other. Two in-process nodes on the Redis at PRESENTLY_TEST_REDIS_URL (default
 * redis://127.0.0.1:6379), on a key prefix of their own, deleted afterwards; skipped, saying so, without Redis.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { ManualClock } from '../../src/platform/clock/manual.ts';
import { needsRedis } from '../kit/backends.ts';
import { deleteRedisPrefix, newRedisPrefix } from '../kit/redis.ts';
import { ADELE, startInProcess, type TestServer } from '../kit/server.ts';
import { bearer, message, mintToken, postJson } from '../kit/graph.ts';

const START = Date.parse('2026-11-28T07:00:00Z');
const LIMITS = { throttle: 'graph', throttleReadLimit: 3, throttleLimit: 5, throttleWindow: 30, clock: 'manual' } as const;

needsRedis('throttling on two nodes sharing one Redis', {}, () => {
  const prefix = newRedisPrefix();
  let nodes: TestServer[] = [];

  before(async () => {
    for (let i = 0; i < 2; i++) {
      nodes.push(await startInProcess({ ...LIMITS, store: 'redis', redisPrefix: prefix }, { manualStart: START }));
    }
  });
  after(async () => {
    await Promise.allSettled(nodes.map((n) => n.close()));
    nodes = [];
    await deleteRedisPrefix(prefix);
  });

  /** A fresh application (a full budget) and its token, minted on the first node: the signing key is shared. */
  const newApp = async () => mintToken(nodes[0]!, { appId: randomUUID() });
  const read = (node: TestServer, token: string) =>
    node.inject({ method: 'GET', url: `/v1.0/users/${ADELE}/presence`, headers: bearer(token) });
  const write = (node: TestServer, token: string) =>
    postJson(node, `/v1.0/users/${ADELE}/presence/setStatusMessage`, token, message('two nodes'));

  it('one read budget over both nodes: the fourth read is refused whichever node gets it', async () => {
    const token = await newApp();
    const [a, b] = nodes as [TestServer, TestServer];
    assert.equal((await read(a, token)).statusCode, 200);
    assert.equal((await read(b, token)).statusCode, 200);
    assert.equal((await read(a, token)).statusCode, 200);
    for (const node of [a, b]) {
      const res = await read(node, token);
      assert.equal(res.statusCode, 429, res.body);
      assert.equal(res.headers['retry-after'], '30');
    }
    assert.equal((await write(b, token)).statusCode, 200, 'the refused reads spent nothing of the overall budget');
  });

  it('many requests at once on both nodes: exactly the limit succeeds, not twice it', async () => {
    const token = await newApp();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => write(nodes[i % 2]!, token)));
    const statuses = answers.map((r) => r.statusCode).sort();
    assert.deepEqual(statuses, [...Array(5).fill(200), ...Array(15).fill(429)]);
  });

  it('a window opened on one node ends on both at the same instant', async () => {
    const token = await newApp();
    for (let i = 0; i < 3; i++) assert.equal((await read(nodes[0]!, token)).statusCode, 200);
    await (nodes[0]!.presently.clock as ManualClock).advance(29_000);
    const late = await read(nodes[1]!, token);
    assert.equal(late.statusCode, 429);
    assert.equal(late.headers['retry-after'], '1');
    await (nodes[1]!.presently.clock as ManualClock).advance(1_000);
    assert.equal((await read(nodes[1]!, token)).statusCode, 200);
  });
});
