/**
 * The sink (`POST /_presently/sink/{name}`, open without authentication) holds what it counts: records are kept as
 * the JSON text that arrived, not as parsed objects (a 1 MiB `[{},{},…]` used to become ~20 MiB of heap), and all
 * sinks together stay under a total, dropping the sinks written least recently.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startInProcess, type TestServer } from '../kit/server.ts';
import { DEFAULT_SINK_LIMITS, type SinkRecord } from '../../src/admin/sink.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;
/** A JSON body of just under 1 MiB made of empty objects: the shape that costs the most once parsed. */
const EMPTY_OBJECTS = Buffer.from(`[${'{},'.repeat(Math.floor((MiB - 16) / 3))}{}]`);
/** A JSON body of just under 1 MiB that is cheap to parse. */
const ONE_STRING = Buffer.from(JSON.stringify('x'.repeat(MiB - 256)));

function held(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('sink memory', () => {
  let s: TestServer;
  before(async () => {
    s = await startInProcess();
  });
  after(() => s.close());

  const post = (name: string, payload: Buffer) => s.inject({
    method: 'POST', url: `/_presently/sink/${name}`, payload, headers: { 'content-type': 'application/json' },
  });

  it('16 bodies of 1 MiB of empty objects hold about 16 MiB, not hundreds', async () => {
    const before = held();
    for (let i = 0; i < 16; i++) assert.equal((await post(`mem-${i}`, EMPTY_OBJECTS)).statusCode, 202);
    const grown = held() - before;
    assert.ok(grown < 40 * MiB, `sinks grew memory by ${Math.round(grown / MiB)} MiB for 16 MiB received`);
    assert.ok(s.presently.sinks.heldBytes < 17 * MiB);
    // Read back whole, as JSON.
    const res = await s.inject({ method: 'GET', url: '/_presently/sink/mem-3' });
    assert.equal(res.statusCode, 200);
    const records = (res.json() as { value: SinkRecord[] }).value;
    assert.equal(records.length, 1);
    assert.equal((records[0]!.body as unknown[]).length, Math.floor((MiB - 16) / 3) + 1);
  });

  it('all sinks together stay under the total; the sinks written least recently go first', async () => {
    const total = DEFAULT_SINK_LIMITS.maxTotalBytes;
    for (let i = 0; i < 80; i++) assert.equal((await post(`total-${i % 64}-${i}`, ONE_STRING)).statusCode, 202);
    assert.ok(s.presently.sinks.heldBytes <= total, `held ${s.presently.sinks.heldBytes} bytes`);
    const first = await s.inject({ method: 'GET', url: '/_presently/sink/total-0-0' });
    assert.deepEqual(first.json(), { value: [] });
    const last = await s.inject({ method: 'GET', url: '/_presently/sink/total-15-79' });
    assert.equal((last.json() as { value: SinkRecord[] }).value.length, 1);
  });

  it('a deeply nested JSON body is kept as text, so reading it back cannot overflow', async () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    assert.equal((await post('deep', Buffer.from(deep))).statusCode, 202);
    const res = await s.inject({ method: 'GET', url: '/_presently/sink/deep' });
    assert.equal(res.statusCode, 200);
    assert.equal((res.json() as { value: SinkRecord[] }).value[0]!.body, deep);
  });
});
