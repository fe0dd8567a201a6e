/**
 * When Redis goes away, a node answers fast, Graph-shaped 503s (with Retry-After) instead of hanging or a 500, and
 * serves again by itself when Redis is back. Uses a redis-server of its own on a free port, so the shared one is
 * never touched.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { after, before, it } from 'node:test';
import { freePort } from '../kit/receiver.ts';
import { ADELE, startInProcess, type TestServer } from '../kit/server.ts';
import { eventually, sleep } from '../kit/time.ts';

const haveRedisServer = spawnSync('redis-server', ['--version']).status === 0;
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
  if (!haveRedisServer) return;
  port = await freePort();
  await startRedis();
  server = await startInProcess({ store: 'redis', redisUrl: `redis://127.0.0.1:${port}`, redisPrefix: 'presently-down-test:' });
});

after(async () => {
  await server?.close().catch(() => {});
  await stopRedis();
});

it('Redis unreachable: 503 ServiceUnavailable with Retry-After within seconds; back to 200 when Redis returns',
  { skip: haveRedisServer ? false : '*** redis-server is not installed: skipped' }, async () => {
    const s = server!;
    const token = await s.userToken(ADELE);
    const read = () => s.inject({ url: '/v1.0/me/presence', headers: { authorization: `Bearer ${token}` } });
    assert.equal((await read()).statusCode, 200);

    await stopRedis();
    for (const request of [read, () => s.inject({
      method: 'POST', url: `/v1.0/users/${ADELE}/presence/setStatusMessage`, headers: { authorization: `Bearer ${token}` },
      payload: { statusMessage: { message: { content: 'while Redis is down', contentType: 'text' } } },
    })]) {
      const started = performance.now();
      const res = await request();
      const took = performance.now() - started;
      assert.equal(res.statusCode, 503, res.body);
      assert.equal(res.json().error.code, 'ServiceUnavailable');
      assert.equal(res.headers['retry-after'], '5');
      assert.ok(took < 6000, `answered in ${Math.round(took)} ms`);
    }
    assert.equal((await s.inject({ url: '/_presently/ready' })).statusCode, 503);

    // Back (empty: this Redis keeps nothing). The node reconnects by itself; the user's data is gone, so 404.
    await startRedis();
    await eventually(async () => (await read()).statusCode, (status) => status === 404, 10_000,
      'served again (a Graph 404 for the user lost with the data) once Redis is back');
    assert.equal((await s.inject({ url: '/_presently/ready' })).statusCode, 200);
  });
