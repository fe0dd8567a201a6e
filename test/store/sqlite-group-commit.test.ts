/**
 * What only the SQLite store does with presence updates: the updates of one turn of the event loop commit in one
 * transaction (docs/decisions.md#d-group-commit), and a change event is appended only for a user some subscription
 * watches (docs/decisions.md#d-outbox-watched). The contract (./contract/) holds for both; these tests pin the rest.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { newRecord } from '../../src/domain/record.ts';
import type { PresenceRecord } from '../../src/domain/types.ts';
import { DB_FILE } from '../../src/store/index.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';
import { NOW, T1, sid, subscription, uid, user, withStatus } from './contract/fixtures.ts';

// As `npm test` sets it (src/store/recentRecords.ts): each store opened below hands out frozen records.
process.env.PRESENTLY_FREEZE_RECORDS = '1';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presently-group-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let dirs = 0;

const USERS = 20;

describe('sqlite presence updates', () => {
  let store: SqliteStore;
  let file: string;
  beforeEach(async () => {
    file = path.join(root, `d${++dirs}`, DB_FILE);
    store = openSqliteStore({ path: file });
    for (let i = 1; i <= USERS; i++) await store.putUser(user(i), newRecord(NOW));
  });
  afterEach(async () => {
    await store.close();
  });

  const set = (i: number, content: string) => store.updatePresence(T1, uid(i), (r) => withStatus(r, content, NOW, null));
  const walBytes = () => fs.statSync(`${file}-wal`).size;

  it('appends a change event only for a user a subscription watches, from the moment it is stored', async () => {
    await set(1, 'nobody watches');
    assert.deepEqual(await store.readChanges(10), [], 'an unwatched change leaves the outbox empty');
    await store.putSubscription(subscription(1, [uid(1)]));
    const t = await set(1, 'watched');
    assert.deepEqual((await store.readChanges(10)).map((e) => e.sequenceNumber), [t!.record.sequenceNumber]);
    await store.deleteSubscription(sid(1));
    await set(1, 'nobody again');
    assert.equal((await store.readChanges(10)).length, 1, 'no event after the subscription is gone');
  });

  it('commits the updates of one turn together: a fraction of the WAL that one at a time writes', async () => {
    // The WAL must only grow while it is measured: no checkpoint thread (./sqlite-checkpoint.test.ts), which could
    // let it start over from its beginning.
    await store.backend.checkpointer?.stop();
    const before = walBytes();
    const together = await Promise.all(Array.from({ length: USERS }, (_, i) => set(i + 1, 'together')));
    assert.ok(together.every((t) => t?.changed), 'each update resolves to its own committed transition');
    const grouped = walBytes() - before;
    for (let i = 1; i <= USERS; i++) await set(i, 'one by one');
    const single = walBytes() - before - grouped;
    // A WAL frame is a page (4,096 bytes) and its 24-byte header: each commit appends the pages it changed.
    const frames = (bytes: number) => bytes / (4096 + 24);
    assert.ok(frames(grouped) <= 5 && frames(single) >= USERS,
      `${USERS} updates appended ${frames(grouped)} WAL frames together, ${frames(single)} one by one`);
    for (let i = 1; i <= USERS; i++) assert.equal((await store.getPresence(T1, uid(i)))?.facts.statusMessage?.content, 'one by one');
  });

  it('updates of one user in one group apply in the order asked, each seeing the one before', async () => {
    const increment = (r: PresenceRecord) => withStatus(r, String(Number(r.facts.statusMessage?.content ?? '0') + 1), NOW, null);
    const results = await Promise.all(Array.from({ length: 10 }, () => store.updatePresence(T1, uid(1), increment)));
    assert.deepEqual(results.map((t) => t?.record.facts.statusMessage?.content), ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
  });

  it('an update whose command throws fails alone; the rest of its group commits', async () => {
    const outcomes = await Promise.allSettled([
      set(1, 'first'),
      store.updatePresence(T1, uid(2), () => {
        throw new Error('bad command');
      }),
      set(3, 'third'),
      store.updatePresence(T1, uid(99), (r) => withStatus(r, 'nobody', NOW, null)),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    assert.equal((outcomes[1] as PromiseRejectedResult).reason.message, 'bad command');
    assert.equal((outcomes[3] as PromiseFulfilledResult<unknown>).value, undefined, 'a user that does not exist');
    assert.equal((await store.getPresence(T1, uid(1)))?.facts.statusMessage?.content, 'first');
    assert.equal((await store.getPresence(T1, uid(2)))?.facts.statusMessage, null);
    assert.equal((await store.getPresence(T1, uid(3)))?.facts.statusMessage?.content, 'third');
  });

  it('an update the database refuses fails alone: the group is rolled back and the others commit on their own', async () => {
    // A BigInt cannot be stored (JSON): the statement throws after the group's earlier updates were written.
    const unstorable = (r: PresenceRecord) => {
      const t = withStatus(r, 'x', NOW, null);
      return { ...t, record: { ...t.record, facts: { ...t.record.facts, extra: 1n } as never } };
    };
    const outcomes = await Promise.allSettled([set(1, 'kept'), store.updatePresence(T1, uid(2), unstorable), set(3, 'kept too')]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal((await store.getPresence(T1, uid(1)))?.facts.statusMessage?.content, 'kept');
    assert.equal((await store.getPresence(T1, uid(2)))?.facts.statusMessage, null);
    assert.equal((await store.getPresence(T1, uid(3)))?.facts.statusMessage?.content, 'kept too');
    const next = await store.updatePresence(T1, uid(2), (r) => withStatus(r, `after ${r.facts.statusMessage?.content ?? 'nothing'}`, NOW, null));
    assert.equal(next?.record.facts.statusMessage?.content, 'after nothing', 'the rolled-back record left no copy behind');
  });

  // The copies of recently committed records (src/store/recentRecords.ts): an update starts from one instead
  // of its row, so each must be exactly the row.
  it('an update starts from the record committed before it, also once that record is only in memory', async () => {
    const content = (r: PresenceRecord) => r.facts.statusMessage?.content ?? 'nothing';
    const seen: string[] = [];
    for (const text of ['one', 'two', 'three']) {
      await store.updatePresence(T1, uid(1), (r) => {
        seen.push(content(r));
        return withStatus(r, text, NOW, null);
      });
    }
    assert.deepEqual(seen, ['nothing', 'one', 'two']);
    await store.updatePresence(T1, uid(1), () => null);
    assert.equal(content((await store.getPresence(T1, uid(1)))!), 'three', 'an update that changes nothing keeps the row');
  });

  it('a user deleted and created again starts from the new record, not the copy of the old one', async () => {
    await set(1, 'before the deletion');
    assert.equal(await store.deleteUser(T1, uid(1)), true);
    assert.equal(await set(1, 'while deleted'), undefined, 'no user, no update');
    await store.putUser(user(1), newRecord(NOW));
    let started: PresenceRecord | null = null;
    await store.updatePresence(T1, uid(1), (r) => withStatus((started = r), 'after', NOW, null));
    assert.equal(started!.facts.statusMessage, null);
    await set(2, 'two');
    await store.putUsers([user(2)], newRecord(NOW));
    assert.equal((await store.getPresence(T1, uid(2)))?.facts.statusMessage?.content, 'two', 'putting an existing user keeps their presence');
    assert.equal((await set(2, 'two again'))?.record.facts.statusMessage?.content, 'two again');
  });

  it('hands a command a frozen record, read from the row or kept: a command that changes its input fails and changes nothing', async () => {
    const tamper = (r: PresenceRecord) => {
      (r.facts as { everActive: boolean }).everActive = true;
      return withStatus(r, 'tampered', NOW, null);
    };
    await assert.rejects(store.updatePresence(T1, uid(1), tamper), TypeError, 'a record read from its row');
    await set(1, 'kept');
    await assert.rejects(store.updatePresence(T1, uid(1), tamper), TypeError, 'a record kept in memory');
    const stored = await store.getPresence(T1, uid(1));
    assert.equal(stored?.facts.everActive, false);
    assert.equal(stored?.facts.statusMessage?.content, 'kept');
  });

  it('close commits the updates still waiting for their group', async () => {
    const waiting = set(1, 'just before close');
    await store.close();
    assert.equal((await waiting)?.record.facts.statusMessage?.content, 'just before close');
    store = openSqliteStore({ path: file });
    assert.equal((await store.getPresence(T1, uid(1)))?.facts.statusMessage?.content, 'just before close');
  });
});
