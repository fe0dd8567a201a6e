/**
 * What an operator sees of the presence journal (docs/operations/storage.md#presence-journal): its size on /metrics
 * (`presently_presence_journal_bytes`), and a ready store's warnings (a snapshot that failed: test/store/journal.test.ts)
 * in /_presently/ready's answer and the log.
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
