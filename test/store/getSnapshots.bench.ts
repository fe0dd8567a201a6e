/**
 * How fast is getSnapshots for a 650-id batch (the size of a large getPresencesByUserId) out of 10,000 users, and
 * how do the alternatives compare? Not part of `npm test`; run it with:
 *   node --import tsx test/store/getSnapshots.bench.ts
 * The alternatives run on a second, read-only connection to the same file, with the same row-to-snapshot work.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { newRecord, transition } from '../../src/domain/record.ts';
import { setStatusMessage } from '../../src/domain/statusMessage.ts';
import type { PresenceView } from '../../src/domain/types.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';
import type { PresenceSnapshot } from '../../src/store/types.ts';

const USERS = 10_000;
const BATCH = 650;
const MISSING = 10;
const WARMUP = 50;
const RUNS = 200;

const now = Date.now();
const tenantId = randomUUID();
const userIds = Array.from({ length: USERS }, () => randomUUID());

/** 10,000 users; every other one has a status message with an expiry, so views and due instants vary. */
async function populate(store: SqliteStore): Promise<void> {
  for (const [i, id] of userIds.entries()) {
    let record = newRecord(now);
    if (i % 2 === 0) {
      const message = {
        content: `In a meeting until 11 — ping me on chat if urgent (${i})`,
        contentType: 'text' as const,
        expiry: { dateTime: '2030-01-01T11:00:00.0000000', timeZone: 'Pacific Standard Time' },
        expiresAt: now + 3_600_000 + i,
      };
      record = transition(record, setStatusMessage(record.facts, { kind: 'set', message }, now), now).record;
    }
    await store.putUser({ tenantId, id, displayName: `User ${i}`, userPrincipalName: `user${i}@contoso.example` }, record);
  }
}

/** 640 random existing ids and 10 unknown ones, shuffled. */
function batch(): string[] {
  const ids = [...userIds].sort(() => Math.random() - 0.5).slice(0, BATCH - MISSING);
  for (let i = 0; i < MISSING; i++) ids.splice(Math.floor(Math.random() * ids.length), 0, randomUUID());
  return ids;
}

async function measure(name: string, fn: () => Promise<Map<string, PresenceSnapshot>> | Map<string, PresenceSnapshot>) {
  for (let i = 0; i < WARMUP; i++) await fn();
  const times: number[] = [];
  let found = 0;
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    found = (await fn()).size;
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.floor(q * (times.length - 1))]!.toFixed(3);
  console.log(`${name.padEnd(58)} median ${at(0.5)} ms   p90 ${at(0.9)} ms   (${found} found)`);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presently-'));
try {
  const file = path.join(dir, 'presently.db');
  const store = openSqliteStore({ path: file });
  const memory = openSqliteStore({ path: ':memory:' });
  await populate(store);
  await populate(memory);
  const ids = batch();
  console.log(`getSnapshots: ${ids.length} ids (${MISSING} unknown) of ${USERS} users, ${RUNS} runs after ${WARMUP} warm-up\n`);

  await measure('store.getSnapshots, file (json_each, raw rows)', () => store.getSnapshots(tenantId, ids));
  await measure('store.getSnapshots, :memory: (json_each, raw rows)', () => memory.getSnapshots(tenantId, ids));

  const db = new Database(file, { readonly: true });
  const toSnapshot = (r: { view: string; seq: string; due_at: number | null }): PresenceSnapshot =>
    ({ view: JSON.parse(r.view) as PresenceView, sequenceNumber: r.seq, dueAt: r.due_at });
  const inJson = db.prepare<[string, string], { user_id: string; view: string; seq: string; due_at: number | null }>(
    'SELECT user_id, view, seq, due_at FROM presence WHERE tenant_id = ? AND user_id IN (SELECT value FROM json_each(?))',
  );
  const one = db.prepare<[string, string], { view: string; seq: string; due_at: number | null }>(
    'SELECT view, seq, due_at FROM presence WHERE tenant_id = ? AND user_id = ?',
  );
  const loop = () => {
    const m = new Map<string, PresenceSnapshot>();
    for (const id of ids) {
      const r = one.get(tenantId, id);
      if (r) m.set(id, toSnapshot(r));
    }
    return m;
  };
  const loopInTransaction = db.transaction(loop);

  await measure('alternative: json_each, object rows', () =>
    new Map(inJson.all(tenantId, JSON.stringify(ids)).map((r) => [r.user_id, toSnapshot(r)])));
  await measure('alternative: loop of single-row statement', loop);
  await measure('alternative: loop of single-row statement, one read tx', () => loopInTransaction());

  db.close();
  await store.close();
  await memory.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
