/**
 * `presently_sqlite_wal_bytes` on /metrics (docs/operations/admin-api.md#metrics): the size of the SQLite WAL file, on
 * a server whose data is in a folder; absent where there is no such file (the memory store).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DB_FILE } from '../../src/store/index.ts';
import { ADELE, startInProcess, type TestServer } from '../kit/server.ts';
import { message, setStatusOk } from '../kit/graph.ts';
import { sampleValue } from '../kit/metrics.ts';

const walBytes = (body: string): number | undefined => sampleValue(body, 'presently_sqlite_wal_bytes');

describe('/metrics: presently_sqlite_wal_bytes', () => {
  let s: TestServer;
  before(async () => {
    s = await startInProcess({ store: 'sqlite' });
  });
  after(() => s.close());

  it('is the WAL file\'s size on SQLite, as it grows with writes', async () => {
    const token = await s.userToken(ADELE);
    await setStatusOk(s, ADELE, token, message('first'));
    const res = await s.inject({ method: 'GET', url: '/metrics' });
    assert.match(res.body, /^# TYPE presently_sqlite_wal_bytes gauge$/m);
    const wal = `${path.join(s.dataDir, DB_FILE)}-wal`;
    assert.equal(walBytes(res.body), fs.statSync(wal).size, 'the file beside the database');
    assert.ok(walBytes(res.body)! > 0, 'a write is in the WAL');
  });

  it('is absent on the memory store, which has no file', async () => {
    const memory = await startInProcess({ store: 'memory' });
    try {
      const res = await memory.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.equal(walBytes(res.body), undefined);
    } finally {
      await memory.close();
    }
  });
});
