/**
 * When Redis goes away — stopped (connections refused) or hung (SIGSTOP: connections open, no answers) — a node
 * answers Graph-shaped 503s with Retry-After within 3 s instead of hanging or a 500, and serves again by itself when
 * Redis is back; a write answered 503 was not made, except one whose commit had already reached Redis (it is made,
 * whole, when Redis resumes). Uses a redis-server of its own on a free port, so the shared one is never touched.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { after, before, it } from 'node:test';
import { newRecord } from '../../src/domain/record.ts';
import { StoreUnavailable } from '../../src/store/errors.ts';
import { openRedisStore } from '../../src/store/redis/redisStore.ts';
import { NOW, T1, uid, user, withStatus } from '../store/contract/fixtures.ts';
import { freePort } from '../kit/receiver.ts';
import { ADELE, startInProcess, type TestServer } from '../kit/server.ts';
import { sleep } from '../kit/time.ts';

type Response = Awaited<ReturnType<TestServer['inject']>>;

/** What "fast" means: every answer while Redis is away comes within this (the store's timeout is 1.5 s). */
const WITHIN_MS = 3000;
const skip = { skip: spawnSync('redis-server', ['--version']).status === 0 ? false : '*** redis-server is not installed: skipped' };
let port = 0;
let redis: ChildProcess | null = null;
let server: TestServer | null = null;

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() === 'PONG') return;
    await sleep(50);
  }
  throw new Error('private redis-server did not start');
}

async function stopRedis(): Promise<void> {
  if (!redis) return;
  const exited = new Promise((resolve) => redis!.once('exit', resolve));
  redis.kill('SIGKILL');
  await exited;
  redis = null;
}

before(async () => {
  if (skip.skip) return;
  port = await freePort();
  await startRedis();
  // With throttling on, so the throttle's counters, which are in Redis too, are part of the answer.
  server = await startInProcess({ store: 'redis', redisUrl: `redis://127.0.0.1:${port}`, redisPrefix: 'presently-down-test:', throttle: 'graph' });
});

after(async () => {
  await server?.close().catch(() => {});
  await stopRedis();
});

/** The response and how long it took. */
async function timed(request: () => Promise<Response>): Promise<{ res: Response; ms: number }> {
  const started = performance.now();
  const res = await request();
  return { res, ms: performance.now() - started };
}

function assertFast503({ res, ms }: { res: Response; ms: number }): void {
  assert.equal(res.statusCode, 503, res.body);
  assert.equal(res.json().error.code, 'ServiceUnavailable');
  assert.equal(res.headers['retry-after'], '5');
  assert.ok(ms < WITHIN_MS, `answered in ${Math.round(ms)} ms`);
}

/** The demo user's requests on the test server. */
async function adele(s: TestServer) {
  const headers = { authorization: `Bearer ${await s.userToken(ADELE)}` };
  return {
    read: () => s.inject({ url: '/v1.0/me/presence', headers }),
    write: (content: string) => () => s.inject({
      method: 'POST', url: `/v1.0/users/${ADELE}/presence/setStatusMessage`, headers,
      payload: { statusMessage: { message: { content, contentType: 'text' } } },
    }),
  };
}

it('Redis hung: reads and writes answer 503 within 3 s, however many wait; what was answered 503 was not made; served again when it resumes', skip, async () => {
  const s = server!;
  const { read, write } = await adele(s);
  assert.equal((await write('before the hang')()).statusCode, 200);

  redis!.kill('SIGSTOP');
  try {
    assertFast503(await timed(write('while hung')));
    // Writes to one user wait for each other in a node, and commands wait behind a pipeline in flight: neither may
    // add one timeout to another.
    for (const answer of await Promise.all([1, 2, 3].map((n) => timed(write(`queued ${n}`))))) assertFast503(answer);
    assertFast503(await timed(read));
  } finally {
    redis!.kill('SIGCONT');
  }

  let res = await read();
  for (let i = 0; i < 50 && res.statusCode !== 200; i++) {
    await sleep(100);
    res = await read();
  }
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().statusMessage.message.content, 'before the hang', 'no write answered 503 was made');
  assert.equal((await write('after the hang')()).statusCode, 200);
});

it('a commit that reached Redis just before it hung is answered 503, and made whole when Redis resumes', skip, async () => {
  const store = await openRedisStore({ url: `redis://127.0.0.1:${port}`, prefix: 'presently-down-store:' });
  try {
    await store.putUser(user(1), newRecord(NOW));
    const started = performance.now();
    const err = await store.updatePresence(T1, uid(1), (record) => {
      redis!.kill('SIGSTOP'); // after the read, before the commit is sent
      return withStatus(record, 'sent as Redis stopped', NOW, null);
    }).then(() => null, (e: unknown) => e);
    redis!.kill('SIGCONT');
    assert.ok(err instanceof StoreUnavailable, String(err));
    assert.ok(performance.now() - started < WITHIN_MS);
    const record = await store.getPresence(T1, uid(1));
    assert.equal(record?.facts.statusMessage?.content, 'sent as Redis stopped');
    const changes = await store.readChanges(10);
    assert.deepEqual(changes.map((c) => c.sequenceNumber), [record.sequenceNumber], 'with its change event');
  } finally {
    redis!.kill('SIGCONT');
    await store.close();
  }
});

it('Redis unreachable: 503 ServiceUnavailable with Retry-After within 3 s; back to 200 when Redis returns', skip, async () => {
  const s = server!;
  const { read, write } = await adele(s);
  assert.equal((await read()).statusCode, 200);

  await stopRedis();
  for (const request of [read, write('while Redis is down'), read]) assertFast503(await timed(request));
  assert.equal((await s.inject({ url: '/_presently/ready' })).statusCode, 503);

  // Back (empty: this Redis keeps nothing). The node reconnects by itself; the user's data is gone, so 404.
  await startRedis();
  const back = performance.now();
  let status = 0;
  for (let i = 0; i < 100 && status !== 404; i++) {
    status = (await read()).statusCode;
    if (status !== 404) await sleep(50);
  }
  assert.equal(status, 404, 'served again (a Graph 404 for the user lost with the data) once Redis is back');
  assert.ok(performance.now() - back < 2000, 'within about a second of Redis answering again');
  // Not ready, though: this Redis came back empty, and that is reported, not served as if nothing happened
  // (docs/operations/storage.md#redis-that-comes-back-empty).
  const ready = await s.inject({ url: '/_presently/ready' });
  assert.equal(ready.statusCode, 503);
  assert.match(ready.json().error.message, /no longer holds store .* \(it is empty\): Redis lost its data/);
});
