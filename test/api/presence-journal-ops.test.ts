/**
 * What an operator sees of the presence journal (docs/operations/storage.md#presence-journal): its size on /metrics
 * (`presently_presence_journal_bytes`), its records in memory (`presently_store_memory_bytes`), and a ready store's
 * warnings (a snapshot that failed: test/store/journal.test.ts) in /_presently/ready's answer and the log.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { healthRoutes } from '../../src/admin/health.ts';
import { JOURNAL_DIR } from '../../src/store/index.ts';
import { ADELE, startInProcess, type TestServer } from '../kit/server.ts';
import { message, setStatusOk } from '../kit/graph.ts';
import { sampleValue } from '../kit/metrics.ts';

const journalBytes = (body: string): number | undefined => sampleValue(body, 'presently_presence_journal_bytes');

describe('/metrics: presently_presence_journal_bytes', () => {
  let s: TestServer;
  before(async () => {
    s = await startInProcess({ store: 'journal' });
  });
  after(() => s.close());

  it('is the size of the journal files a start would replay, growing with writes', async () => {
    const metric = async () => journalBytes((await s.inject({ method: 'GET', url: '/metrics' })).body);
    const before = await metric();
    await setStatusOk(s, ADELE, await s.userToken(ADELE), message('first'));
    const dir = path.join(s.dataDir, JOURNAL_DIR);
    const files = fs.readdirSync(dir).filter((n) => n.startsWith('journal-'));
    const after = await metric();
    assert.equal(after, files.reduce((sum, n) => sum + fs.statSync(path.join(dir, n)).size, 0));
    assert.ok(after! > before!, `a write is in the journal (${before} → ${after} bytes)`);
  });

  it('is 0 on a data folder that keeps its records in the presence table', async () => {
    const table = await startInProcess({ store: 'sqlite' });
    try {
      const res = await table.inject({ method: 'GET', url: '/metrics' });
      assert.match(res.body, /^# TYPE presently_presence_journal_bytes gauge$/m);
      assert.equal(journalBytes(res.body), 0);
    } finally {
      await table.close();
    }
  });
});

describe('/metrics: presently_store_memory_bytes', () => {
  const part = (body: string, name: string) => sampleValue(body, `presently_store_memory_bytes{part="${name}"}`);

  it("is the journal's records in memory: an own message adds to the records, a replaced one to the garbage", async () => {
    const s = await startInProcess({ store: 'journal' });
    try {
      const metrics = async () => (await s.inject({ method: 'GET', url: '/metrics' })).body;
      const first = await metrics();
      assert.equal(part(first, 'segments'), 8 * 1024 * 1024, 'one segment holds the seeded users\' records');
      const token = await s.userToken(ADELE);
      await setStatusOk(s, ADELE, token, message('a message of her own, written beside the record users share'));
      const second = await metrics();
      const [records1, records2] = [part(first, 'records')!, part(second, 'records')!];
      assert.ok(records2 > records1, `records ${records1} → ${records2}`);
      const longer = 'a much longer message, which no longer fits the room her record had: '.repeat(4);
      await setStatusOk(s, ADELE, token, message(longer));
      const [garbage2, garbage3] = [part(second, 'garbage')!, part(await metrics(), 'garbage')!];
      assert.ok(garbage3 > garbage2, `garbage ${garbage2} → ${garbage3}`);
    } finally {
      await s.close();
    }
  });

  it('is absent where the records are in the presence table', async () => {
    const table = await startInProcess({ store: 'sqlite' });
    try {
      assert.doesNotMatch((await table.inject({ method: 'GET', url: '/metrics' })).body, /presently_store_memory_bytes/);
    } finally {
      await table.close();
    }
  });
});

describe('/_presently/ready: a ready store with warnings', () => {
  it('answers 200 with the warnings, and logs them', async () => {
    const lines: string[] = [];
    const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => void lines.push(line) } } });
    const warning = 'the last snapshot of the presence journal in /data/presence-journal failed (ENOSPC: no space left on device)';
    healthRoutes(app, { kind: 'sqlite', readiness: async () => ({ ready: true, warnings: [warning] }) });
    const res = await app.inject({ method: 'GET', url: '/_presently/ready' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ready', store: 'sqlite', warnings: [warning] });
    assert.ok(lines.some((l) => l.includes('the store is ready, with warnings') && l.includes('ENOSPC')), lines.join('\n'));
    await app.close();
  });
});
