/**
 * The store contract against SQLite with its presence records in the presence journal (src/store/journal/), and
 * what only the journal has: its files, the move from the presence table, what a start makes good after a crash, and
 * durability when the process is killed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { toConfig } from '../../src/cli/options.ts';
import { newRecord } from '../../src/domain/record.ts';
import { DB_FILE } from '../../src/store/index.ts';
import { journalName, PresenceJournal } from '../../src/store/journal/journal.ts';
import { JournalPresence, type OwedEvent } from '../../src/store/journal/presence.ts';
import { journalFolder } from '../../src/store/sqlite/presenceJournal.ts';
import { openSqliteStore } from '../../src/store/sqlite/sqliteStore.ts';
import { storeContract } from './contract/index.ts';
import { NOW, T1, key, subscription, uid, user, withStatus } from './contract/fixtures.ts';
import { inspect } from './fixtures/inspect.ts';
import { killedWriter } from './fixtures/killedWriter.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presently-journal-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshFile = (): string => path.join(root, `d${++dirs}`, 'data', DB_FILE);

storeContract(
  'sqlite file, presence journal',
  () => openSqliteStore({ path: freshFile(), presence: 'journal' }),
  (closed) => openSqliteStore({ path: closed.backend.path }),
);

/** The presence journal of a store opened on it. */
const journalOf = (store: ReturnType<typeof openSqliteStore>): PresenceJournal =>
  (store.backend as unknown as { journal: { journal: PresenceJournal } }).journal.journal;

/**
 * Closes the journal's file under it (a write then fails with EBADF, as on a disk gone read-only or full) and answers
 * how to give it back: the same file, opened again for appending.
 */
function takeFileAway(journal: PresenceJournal): () => void {
  const j = journal as unknown as { fd: number; generation: number };
  const saved = fs.openSync(path.join(journal.dir, journalName(j.generation)), 'a');
  fs.closeSync(j.fd);
  return () => {
    j.fd = saved;
  };
}

const content = async (store: ReturnType<typeof openSqliteStore>, n: number): Promise<string | null> =>
  (await store.getPresence(T1, uid(n)))?.facts.statusMessage?.content ?? null;

/** A store on `file` with users 1..n, each given the status message `m<i>`. */
async function withMessages(file: string, n: number, presence: 'table' | 'journal'): Promise<ReturnType<typeof openSqliteStore>> {
  const store = openSqliteStore({ path: file, presence });
  await store.putTenant({ id: T1, displayName: 'Contoso' });
  for (let i = 1; i <= n; i++) await store.putUser(user(i), newRecord(NOW));
  await Promise.all(Array.from({ length: n }, (_, i) =>
    store.updatePresence(T1, uid(i + 1), (r) => withStatus(r, `m${i + 1}`, NOW, null))));
  return store;
}

describe('presence journal: files', () => {
  it('keeps presence records in <data>/presence-journal, none in the presence table, and says so', async () => {
    const file = freshFile();
    const store = await withMessages(file, 3, 'journal');
    assert.equal(store.backend.presenceStorage, 'journal');
    await store.close();
    const dir = journalFolder(file);
    assert.deepEqual(fs.readdirSync(dir), ['journal-00000001']);
    assert.ok(fs.statSync(path.join(dir, 'journal-00000001')).size > 0);
    inspect(file, (db) => {
      assert.equal(db.prepare('SELECT count(*) FROM presence').pluck().get(), 0);
      assert.equal(db.prepare("SELECT value FROM meta WHERE key = 'presence_store'").pluck().get(), 'journal');
    });
    const again = openSqliteStore({ path: file });
    assert.equal(again.backend.presenceStorage, 'journal', 'the folder keeps the journal without the option');
    assert.deepEqual([await content(again, 1), await content(again, 3)], ['m1', 'm3']);
    await again.close();
  });

  it('moves the records of a data folder that kept them in its table into the journal once, sequence numbers and all', async () => {
    const file = freshFile();
    const before = await withMessages(file, 5, 'table');
    const seq = (await before.getPresence(T1, uid(4)))!.sequenceNumber;
    await before.close();
    const store = openSqliteStore({ path: file, presence: 'journal' });
    assert.equal(store.backend.presenceStorage, 'journal');
    assert.match(store.notices?.join('\n') ?? '', /presence records moved from the presence table to .*presence-journal: 5/);
    assert.equal(await content(store, 4), 'm4');
    assert.equal((await store.getPresence(T1, uid(4)))!.sequenceNumber, seq);
    await store.close();
    inspect(file, (db) => assert.equal(db.prepare('SELECT count(*) FROM presence').pluck().get(), 0));
  });

  it('moves the records back into the presence table with --presence-store table: records, sequence numbers, due instants and owed events', async () => {
    const file = freshFile();
    const before = await withMessages(file, 5, 'journal');
    await before.putSubscription(subscription(1, [uid(2)]));
    await before.updatePresence(T1, uid(2), (r) => withStatus(r, 'until', NOW, NOW + 3_600_000));
    const records = await before.getPresences(T1, [1, 2, 3, 4, 5].map(uid));
    await before.close();
    // A crash kept the watched change's event out of the outbox: the move appends it before the journal goes.
    inspect(file, (db) => {
      db.prepare('DELETE FROM changes').run();
      db.prepare("UPDATE meta SET value = '0' WHERE key = 'presence_journal_events_lsn'").run();
    });
    const store = openSqliteStore({ path: file, presence: 'table' });
    assert.equal(store.backend.presenceStorage, 'table');
    assert.match(store.notices?.join('\n') ?? '', /presence records moved from .*presence-journal back to the presence table: 5 in \d+ ms/);
    assert.deepEqual(await store.getPresences(T1, [1, 2, 3, 4, 5].map(uid)), records, 'every record as it was');
    assert.deepEqual(await store.dueUsers(NOW + 3_600_000, 10), [key(user(2))], 'the due instant came along');
    assert.deepEqual((await store.readChanges(10)).map((e) => [e.userId, e.sequenceNumber]), [[uid(2), records.get(uid(2))!.sequenceNumber]]);
    await store.close();
    assert.equal(fs.existsSync(journalFolder(file)), false, 'the journal folder is gone');
    const again = openSqliteStore({ path: file });
    assert.equal(again.backend.presenceStorage, 'table', 'the folder keeps the table from then on');
    assert.equal(await content(again, 3), 'm3');
    await again.close();
  });

  it('refuses a move back that fails, naming the folder and the cause, and leaves the journal as it was', async () => {
    const file = freshFile();
    const store = await withMessages(file, 2, 'journal');
    await store.close();
    // A row the presence table should not hold while the records are in the journal: the move's insert clashes with it.
    inspect(file, (db) => db.prepare("INSERT INTO presence (tenant_id, user_id, facts, view, seq, due_at) VALUES (?, ?, '{}', '{}', 'C1', NULL)").run(T1, uid(2)));
    assert.throws(() => openSqliteStore({ path: file, presence: 'table' }),
      /cannot move the presence records from .*presence-journal back to the presence table \(UNIQUE constraint failed.*\): the journal is left as it was/);
    const again = openSqliteStore({ path: file });
    assert.equal(again.backend.presenceStorage, 'journal');
    assert.deepEqual([await content(again, 1), await content(again, 2)], ['m1', 'm2']);
    await again.close();
  });

  it('removes, at a start on the table, a journal folder that a move cut short left, and says so', async () => {
    const file = freshFile();
    const store = await withMessages(file, 2, 'table');
    await store.close();
    fs.mkdirSync(journalFolder(file));
    fs.writeFileSync(path.join(journalFolder(file), 'journal-00000001'), 'half a move');
    const again = openSqliteStore({ path: file });
    assert.match(again.notices?.join('\n') ?? '', /presence journal .*presence-journal removed: a move that did not finish left it/);
    assert.equal(fs.existsSync(journalFolder(file)), false);
    assert.equal(await content(again, 2), 'm2');
    await again.close();
  });

  it('refuses --presence-store journal with no data folder, naming the flags', async () => {
    assert.throws(() => toConfig({ store: 'memory', presenceStore: 'journal' }, {}), /--presence-store journal goes with --store sqlite/);
  });
});

describe('presence journal: a start after a crash', () => {
  it('cuts a last group a crash left unfinished and keeps every group before it', async () => {
    const file = freshFile();
    const store = await withMessages(file, 2, 'journal');
    await store.close();
    const journal = path.join(journalFolder(file), 'journal-00000001');
    const whole = fs.statSync(journal).size;
    // Half of a group: a header that promises more bytes than follow.
    fs.appendFileSync(journal, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 1, 9, 9]));
    const again = openSqliteStore({ path: file });
    assert.deepEqual([await content(again, 1), await content(again, 2)], ['m1', 'm2']);
    await again.updatePresence(T1, uid(1), (r) => withStatus(r, 'after', NOW, null));
    await again.close();
    assert.ok(fs.statSync(journal).size > whole, 'the next group follows the cut');
    const third = openSqliteStore({ path: file });
    assert.equal(await content(third, 1), 'after');
    await third.close();
  });

  it('gives a user the database has and the journal lacks a new record, and removes a record whose user is gone', async () => {
    const file = freshFile();
    const store = await withMessages(file, 3, 'journal');
    await store.close();
    // What a crash between a users' transaction and the journal's group leaves (one or the other: a crash stops both).
    inspect(file, (db) => {
      db.prepare("INSERT INTO users (tenant_id, id, display_name, upn, upn_lower) VALUES (?, ?, 'U9', 'u9@x', 'u9@x')").run(T1, uid(9));
    });
    const again = openSqliteStore({ path: file });
    assert.equal((await again.getPresence(T1, uid(9)))?.facts.statusMessage, null);
    assert.match(again.notices?.join('\n') ?? '', /made good after a crash: 1 users given a record, 0 records/);
    await again.close();
    inspect(file, (db) => db.prepare('DELETE FROM users WHERE tenant_id = ? AND id = ?').run(T1, uid(2)));
    const third = openSqliteStore({ path: file });
    assert.equal(await third.getPresence(T1, uid(2)), null);
    assert.equal(await content(third, 3), 'm3');
    assert.match(third.notices?.join('\n') ?? '', /0 users given a record, 1 records of deleted users removed/);
    await third.close();
  });

  it('appends the outbox events of watched changes that a crash kept out of the outbox', async () => {
    const file = freshFile();
    const store = await withMessages(file, 2, 'journal');
    await store.putSubscription(subscription(1, [uid(1)]));
    await store.updatePresence(T1, uid(1), (r) => withStatus(r, 'watched', NOW, null));
    const events = await store.readChanges(10);
    assert.deepEqual(events.map((e) => e.userId), [uid(1)]);
    await store.close();
    inspect(file, (db) => {
      db.prepare('DELETE FROM changes').run();
      db.prepare("UPDATE meta SET value = '0' WHERE key = 'presence_journal_events_lsn'").run();
    });
    const again = openSqliteStore({ path: file });
    const owed = await again.readChanges(10);
    assert.deepEqual(owed.map((e) => [e.userId, e.sequenceNumber]), [[uid(1), events[0]!.sequenceNumber]]);
    await again.close();
    const third = openSqliteStore({ path: file });
    assert.equal((await third.readChanges(10)).length, 1, 'appended once, not at every start');
    await third.close();
  });

  it('loses no acknowledged write when the process is killed with SIGKILL, with 8 users written at once', async () => {
    const file = freshFile();
    const acknowledged = await killedWriter(file, 't', 8, 'journal');
    const store = openSqliteStore({ path: file });
    try {
      assert.equal(store.backend.presenceStorage, 'journal');
      for (const [userId, n] of acknowledged) {
        const stored = Number((await store.getPresence('t', userId))?.facts.statusMessage?.content);
        assert.ok(stored >= n, `${userId}: stored ${stored}, but ${n} was acknowledged`);
      }
    } finally {
      await store.close();
    }
  });
});

describe('presence journal: snapshots', () => {
  const entry = (n: number, text: string | null) => ({ tenantId: T1, userId: uid(n), text, dueAt: null, eventAt: NaN });

  it('writes the state to a snapshot and removes the journal generations before it; a start reads both', async () => {
    const dir = path.join(root, `j${++dirs}`);
    const { journal } = PresenceJournal.open(dir, { minSnapshotBytes: 1 });
    for (let i = 0; i < 50; i++) journal.commit([entry(i % 7, `r${i}`)]);
    await journal.writeSnapshot();
    journal.commit([entry(3, 'after'), entry(5, null)]);
    await journal.close();
    const names = fs.readdirSync(dir).sort();
    assert.ok(names.includes('snapshot') && !names.includes('journal-00000001'), names.join(', '));
    const { journal: again, start } = PresenceJournal.open(dir);
    const a = again.arena;
    assert.equal(a.text(a.slotOf(T1, uid(3))), 'after');
    assert.equal(a.slotOf(T1, uid(5)), -1);
    assert.equal(a.text(a.slotOf(T1, uid(6))), 'r48');
    assert.equal(again.lsn, 51);
    assert.equal(start.repaired, null);
    await again.close();
  });

  it('a background snapshot that fails: writes go on, the store stays ready with a warning naming the cause until one succeeds', async () => {
    const file = freshFile();
    const store = openSqliteStore({ path: file, presence: 'journal', journal: { minSnapshotBytes: 1 } });
    // A folder where a snapshot is written (snapshot.tmp) makes each fail, as a full disk would.
    const blocker = path.join(journalFolder(file), 'snapshot.tmp');
    fs.mkdirSync(blocker);
    await store.putTenant({ id: T1, displayName: 'Contoso' });
    for (let i = 1; i <= 3; i++) await store.putUser(user(i), newRecord(NOW));
    let n = 0;
    /** Writes one message a turn until the store's readiness says `until` (a snapshot starts once the journal is as large as the state). */
    const writeUntil = async (until: (r: Awaited<ReturnType<typeof store.readiness>>) => boolean): Promise<void> => {
      for (let turns = 0; turns < 500; turns++) {
        await store.updatePresence(T1, uid(1 + (n % 3)), (r) => withStatus(r, `w${++n}`, NOW, null));
        await new Promise((resolve) => setImmediate(resolve));
        if (until(await store.readiness())) return;
      }
      assert.fail(`the readiness never said so: ${JSON.stringify(await store.readiness())}`);
    };
    await writeUntil((r) => r.ready && r.warnings !== undefined);
    const warned = await store.readiness();
    assert.ok(warned.ready, 'still ready: every write is in the journal');
    assert.match(warned.warnings![0]!, /the last snapshot of the presence journal in .*presence-journal failed \(EISDIR.*\): writes go on, but the journal is not cut back/);
    assert.equal(await content(store, 1 + ((n - 1) % 3)), `w${n}`, 'the writes went on');
    fs.rmSync(blocker, { recursive: true });
    await writeUntil((r) => r.ready && r.warnings === undefined);
    assert.ok(fs.readdirSync(journalFolder(file)).includes('snapshot'), 'a snapshot was written');
    const last = n;
    await store.close();
    const again = openSqliteStore({ path: file });
    assert.equal(await content(again, 1 + ((last - 1) % 3)), `w${last}`, 'nothing written was lost');
    await again.close();
  });

  it('refuses a damaged snapshot, naming the file', async () => {
    const dir = path.join(root, `j${++dirs}`);
    const { journal } = PresenceJournal.open(dir);
    journal.commit([entry(1, 'x')]);
    await journal.writeSnapshot();
    await journal.close();
    const file = path.join(dir, 'snapshot');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3]! ^= 0xff;
    fs.writeFileSync(file, bytes);
    assert.throws(() => PresenceJournal.open(dir), /the presence snapshot .*snapshot is damaged .*restore the data folder/);
  });

  it('a user keeps the record the users before the snapshot gave them (key order for snapshotPage too)', async () => {
    const file = freshFile();
    const store = await withMessages(file, 4, 'journal');
    const page = await store.snapshotPage!(null, 10);
    assert.deepEqual(page.map((p) => p.userId), [1, 2, 3, 4].map(uid));
    assert.deepEqual(await store.snapshotPage!(key(user(2)), 1).then((p) => p.map((x) => x.userId)), [uid(3)]);
    await store.close();
  });
});

describe('presence journal: a journal that stops taking writes', () => {
  it('fails the writes, naming the cause, reports not ready until a group is written again, and loses nothing written', async () => {
    const file = freshFile();
    const store = await withMessages(file, 2, 'journal');
    const journal = journalOf(store);
    // The file taken away under it (what a disk gone read-only or full looks like to a write): EBADF.
    const giveBack = takeFileAway(journal);
    await assert.rejects(store.updatePresence(T1, uid(1), (r) => withStatus(r, 'lost', NOW, null)), /EBADF/);
    const ready = await store.readiness();
    assert.equal(ready.ready, false);
    assert.match(ready.ready ? '' : ready.problem, /cannot write to the presence journal in .*presence-journal: EBADF/);
    assert.equal(await content(store, 1), 'm1', 'a write that failed changed nothing');
    // The file back: the next group is written and readiness recovers.
    giveBack();
    await store.updatePresence(T1, uid(2), (r) => withStatus(r, 'back', NOW, null));
    assert.deepEqual(await store.readiness(), { ready: true });
    await store.close();
    const again = openSqliteStore({ path: file });
    assert.deepEqual([await content(again, 1), await content(again, 2)], ['m1', 'back']);
    await again.close();
  });
});

describe('presence journal: a group whose write fails', () => {
  it('fails every update of the group that wrote, and answers the ones that wrote nothing', async () => {
    const dir = path.join(root, `j${++dirs}`);
    const { journal } = PresenceJournal.open(dir);
    const presence = new JournalPresence(journal);
    presence.create([key(user(1)), key(user(2))], newRecord(NOW));
    const giveBack = takeFileAway(journal);
    // One turn: two updates that write and one that changes nothing; the group's one write fails.
    const [a, b, c] = await Promise.allSettled([
      presence.updatePresence(T1, uid(1), (r) => withStatus(r, 'one', NOW, null)),
      presence.updatePresence(T1, uid(2), () => null),
      presence.updatePresence(T1, uid(2), (r) => withStatus(r, 'two', NOW, null)),
    ]);
    assert.equal(a.status, 'rejected');
    assert.deepEqual(b, { status: 'fulfilled', value: null });
    assert.equal(c.status, 'rejected');
    assert.equal((await presence.getPresence(T1, uid(1)))?.facts.statusMessage, null, 'nothing of the group was applied');
    giveBack();
    await journal.close();
  });
});

describe('presence journal: the copies of recent records, by slot', () => {
  it('a user created in the slot a deleted user left starts from their own record, not the copy of the one deleted', async () => {
    const file = freshFile();
    const store = await withMessages(file, 2, 'journal');
    const arena = journalOf(store).arena;
    const slot = arena.slotOf(T1, uid(1));
    assert.equal(await store.deleteUser(T1, uid(1)), true);
    await store.putUser(user(3), newRecord(NOW));
    assert.equal(arena.slotOf(T1, uid(3)), slot, 'the new user has the slot the deleted one left');
    let seen: string | null | undefined;
    await store.updatePresence(T1, uid(3), (r) => {
      seen = r.facts.statusMessage?.content ?? null;
      return withStatus(r, 'm3', NOW, null);
    });
    assert.equal(seen, null, 'the update started from the new user\'s own (empty) record');
    assert.deepEqual([await content(store, 2), await content(store, 3)], ['m2', 'm3']);
    await store.close();
  });
});

describe('presence journal: owed events', () => {
  it('hands the events of a group whose outbox append failed over with the next group, and holds snapshots meanwhile', async () => {
    const dir = path.join(root, `j${++dirs}`);
    const { journal } = PresenceJournal.open(dir);
    const handed: Array<{ users: string[]; lsn: number }> = [];
    let fail = true;
    const sink = (events: readonly OwedEvent[], lsn: number) => {
      if (fail) throw new Error('the outbox is full');
      handed.push({ users: events.map((e) => e.userId), lsn });
    };
    const presence = new JournalPresence(journal, () => true, sink);
    presence.create([key(user(1)), key(user(2))], newRecord(NOW));
    await presence.updatePresence(T1, uid(1), (r) => withStatus(r, 'one', NOW, null));
    assert.equal(journal.holdSnapshots, true, 'the entry that owes the event must stay in the journal');
    fail = false;
    await presence.updatePresence(T1, uid(2), (r) => withStatus(r, 'two', NOW, null));
    assert.deepEqual(handed, [{ users: [uid(1), uid(2)], lsn: journal.lsn }]);
    assert.equal(journal.holdSnapshots, false);
    await journal.close();
  });
});
