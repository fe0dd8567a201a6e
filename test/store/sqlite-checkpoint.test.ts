/**
 * The SQLite store checkpoints its WAL on a thread of its own (src/store/sqlite/checkpointer.ts, decision
 * d-background-checkpoint): the writes' own commits never copy pages into the database file while their answers wait,
 * the WAL starts over instead of growing, closing leaves nothing behind, and a failed thread hands checkpoints back to
 * the main connection. Durability across kill -9 is the durability suite's (test/durability/).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { newRecord } from '../../src/domain/record.ts';
import { BULK_USERS } from '../../src/store/guarded.ts';
import { DB_FILE } from '../../src/store/index.ts';
import {
  BACKSTOP_PAGES, BULK_HOLD_PAGES, Checkpointer, HOLD_MAX_MS, SMALL_COMMITS, WAL_LIMIT_BYTES,
} from '../../src/store/sqlite/checkpointer.ts';
import { START_USERS } from '../../src/store/sqlite/directory.ts';
import { openSqliteStore } from '../../src/store/sqlite/sqliteStore.ts';
import { WalIndex } from '../../src/store/sqlite/walIndex.ts';
import { NOW, T1, uid, user, withStatus } from './contract/fixtures.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presently-checkpoint-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const fileIn = () => path.join(root, `d${++dirs}`, DB_FILE);

/** Polls `check` every 10 ms until it holds (a thread of its own has no manual clock); fails after 5 s. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 5_000; !check();) {
    if (Date.now() > deadline) assert.fail(`not within 5 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('sqlite WAL checkpoints on their own thread', () => {
  it('copies committed writes into the database file, so the WAL starts over instead of growing', async () => {
    const file = fileIn();
    const store = openSqliteStore({ path: file });
    const checkpointer = store.backend.checkpointer!;
    const walFrames = () => fs.statSync(`${file}-wal`).size / (4096 + 24);
    /** The WAL header's checkpoint sequence number (bytes 12–15, big-endian): SQLite adds one each time the WAL starts over. */
    const walSequence = () => fs.readFileSync(`${file}-wal`).readUInt32BE(12);
    let round = 0;
    const rounds = async (n: number) => {
      for (const end = round + n; round < end; round++) {
        await Promise.all(Array.from({ length: 50 }, (_, i) => store.updatePresence(T1, uid(i + 1), (r) => withStatus(r, `round ${round}`, NOW, null))));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    try {
      assert.equal(checkpointer.stats.commits, 0, 'no thread before the first write');
      for (let i = 1; i <= 50; i++) await store.putUser(user(i), newRecord(NOW));
      const { stats } = checkpointer;
      const before = stats.commits;
      await rounds(40);
      assert.equal(stats.commits - before, 40, 'one transaction for each round\'s 50 writes');
      await eventually(() => stats.covered === stats.commits && stats.lastCopied === stats.lastLog,
        'a checkpoint, after the last commit, that copied every frame');
      assert.equal(checkpointer.stats.failure, null);
      // A writer starts the WAL over when the last checkpoint copied every frame and nobody reads: its commit goes to
      // the first frames again, and the WAL header's checkpoint sequence number goes up by one. Nothing here depends on
      // when the thread runs: it has copied everything and sleeps until the next commit, the one that starts over.
      // Without the thread nothing would be copied before SQLite's 1,000 pages, and the number would not move.
      const grownTo = walFrames();
      const sequence = walSequence();
      await rounds(1);
      assert.equal(walSequence(), sequence + 1, 'the next commit started the WAL over');
      assert.ok(walFrames() <= grownTo, `the WAL file grew from ${grownTo} to ${walFrames()} frames instead of being reused`);
      assert.equal((await store.getPresence(T1, uid(7)))?.facts.statusMessage?.content, `round ${round - 1}`);
    } finally {
      await store.close();
    }
    assert.equal(fs.existsSync(`${file}-wal`), false, 'closing checkpointed the rest and removed the WAL');
    const reopened = openSqliteStore({ path: file });
    assert.equal((await reopened.getPresence(T1, uid(50)))?.facts.statusMessage?.content, `round ${round - 1}`);
    await reopened.close();
  });

  it('creating users in bulk leaves the checkpoints to the thread too, not to the event loop', async () => {
    const file = fileIn();
    const store = openSqliteStore({ path: file });
    const { stats } = store.backend.checkpointer!;
    try {
      // 10,000 users (one bulk request) in transactions of BULK_USERS, a few thousand WAL pages: past SQLite's 1,000,
      // where a commit would copy them into the database file itself while the request waits.
      for (let chunk = 0; chunk < 2; chunk++) {
        await store.putUsers(Array.from({ length: 5_000 }, (_, i) => user(chunk * 5_000 + i + 1)), newRecord(NOW));
      }
      assert.equal(stats.commits, 2 * Math.ceil(5_000 / BULK_USERS), 'each chunk of BULK_USERS is a transaction, told to the checkpointer');
      await eventually(() => stats.covered === stats.commits && stats.lastCopied === stats.lastLog, 'the thread checkpointed both chunks');
      assert.equal(stats.failure, null);
      assert.equal(await store.countUsers(T1), 10_000);
    } finally {
      await store.close();
    }
  });

  it('a bulk creation waits for the thread to copy a long WAL, so that its next transaction starts the WAL over', async () => {
    const file = fileIn();
    const store = openSqliteStore({ path: file });
    const wal = new WalIndex(`${file}-shm`);
    const frames = () => wal.read()!.frames;
    // Random ids, as an import's GUIDs are: each transaction dirties pages all over the tables, ~1,000 frames.
    const chunk = () => Array.from({ length: BULK_USERS }, () => {
      const id = randomUUID();
      return { tenantId: T1, id, displayName: id, userPrincipalName: `${id}@contoso.example` };
    });
    const startedOver: Array<{ before: number; after: number }> = [];
    let largest = 0;
    try {
      while (startedOver.length < 2) {
        const before = frames();
        await store.putUsers(chunk(), newRecord(NOW));
        const after = frames();
        largest = Math.max(largest, after);
        if (before >= BULK_HOLD_PAGES) startedOver.push({ before, after });
        assert.ok(largest < 4 * BULK_HOLD_PAGES, `the WAL grew to ${largest} frames without starting over`);
      }
      for (const { before, after } of startedOver) {
        assert.ok(after < before, `a transaction begun on ${before} frames added to them (${after}) instead of starting over`);
      }
      assert.ok(largest < BULK_HOLD_PAGES + 5_000, `at most the hold and one transaction: ${largest} frames`);
      assert.ok(fs.statSync(`${file}-wal`).size <= Math.max(WAL_LIMIT_BYTES, (largest + 1) * (4096 + 24)),
        'the WAL file no larger than the most frames it held');
    } finally {
      wal.close();
      await store.close();
    }
  });

  // The timeout: a hold without its bounds never ends, which must fail the test, not hang the suite.
  it('a held bulk creation goes ahead when the copying stalls, or after HOLD_MAX_MS while other writes keep it behind', { timeout: 10_000 }, async () => {
    const file = fileIn();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    let clock = 0;
    let wal = { frames: BULK_HOLD_PAGES, copied: 0 };
    let copying = true;
    const checkpointer = new Checkpointer(db, file, {
      progress: () => wal,
      now: () => clock,
      // Each pause: time passes, and the copying moves on (or not) while the WAL keeps ahead of it. A turn of the
      // event loop too, so that the test's own timeout can fire.
      sleep: async (ms) => {
        await new Promise((resolve) => setImmediate(resolve));
        clock += ms;
        if (copying) wal = { frames: wal.frames + 100, copied: wal.copied + 100 };
      },
    });
    try {
      await checkpointer.roomForBulk();
      assert.equal(clock, 0, 'no thread yet: no wait');
      checkpointer.committed();
      await checkpointer.roomForBulk();
      assert.ok(clock >= HOLD_MAX_MS && clock < HOLD_MAX_MS + 50, `copying that never catches up held it ${clock} ms`);
      copying = false;
      clock = 0;
      await checkpointer.roomForBulk();
      assert.ok(clock >= 1_000 && clock < 1_050, `copying that stopped held it ${clock} ms`);
      wal = { frames: BULK_HOLD_PAGES, copied: BULK_HOLD_PAGES };
      clock = 0;
      await checkpointer.roomForBulk();
      assert.equal(clock, 0, 'every frame copied: no wait');
      wal = { frames: BULK_HOLD_PAGES - 1, copied: 0 };
      await checkpointer.roomForBulk();
      assert.equal(clock, 0, 'under the hold: no wait');
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });

  it('reads the WAL-index as SQLite keeps it, and nothing from a file that is not one', () => {
    const file = fileIn();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (a TEXT)');
    const wal = new WalIndex(`${file}-shm`);
    try {
      db.prepare('INSERT INTO t VALUES (?)').run('x'.repeat(5_000));
      const [result] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>;
      assert.deepEqual(wal.read(), { frames: result!.log, copied: result!.checkpointed });
      db.prepare('INSERT INTO t VALUES (?)').run('y');
      assert.deepEqual(wal.read(), { frames: 1, copied: 0 }, 'a write after a whole checkpoint starts the WAL over');
    } finally {
      wal.close();
      db.close();
    }
    assert.equal(new WalIndex(path.join(root, 'no-such-file-shm')).read(), null);
    fs.writeFileSync(path.join(root, 'not-an-index'), Buffer.alloc(200, 7));
    assert.equal(new WalIndex(path.join(root, 'not-an-index')).read(), null, 'another version or no index: no hint, no hold');
  });

  it('a few users created (the dev seed) start no thread; the first presence write, a bulk creation or 50 small commits do', async () => {
    const file = fileIn();
    const store = openSqliteStore({ path: file });
    const checkpointer = store.backend.checkpointer!;
    try {
      await store.putUsers(Array.from({ length: START_USERS - 1 }, (_, i) => user(i + 1)), newRecord(NOW));
      await store.deleteUser(T1, uid(1));
      assert.equal(checkpointer.running, false, 'an idle server seeded with a few users pays no thread (10 MB of RSS)');
      assert.equal(checkpointer.stats.commits, 2, 'both commits counted');
      await store.updatePresence(T1, uid(2), (r) => withStatus(r, 'first write', NOW, null));
      assert.equal(checkpointer.running, true, 'the first presence write starts it');
    } finally {
      await store.close();
    }
    const bulk = openSqliteStore({ path: fileIn() });
    try {
      await bulk.putUsers(Array.from({ length: START_USERS }, (_, i) => user(i + 1)), newRecord(NOW));
      assert.equal(bulk.backend.checkpointer!.running, true, 'a bulk creation starts it');
    } finally {
      await bulk.close();
    }
    const singles = openSqliteStore({ path: fileIn() });
    try {
      for (let i = 1; i < SMALL_COMMITS; i++) await singles.putUser(user(i), newRecord(NOW));
      assert.equal(singles.backend.checkpointer!.running, false);
      await singles.deleteUser(T1, uid(1));
      assert.equal(singles.backend.checkpointer!.running, true, `${SMALL_COMMITS} small commits (a tenant's deletions, say) start it`);
    } finally {
      await singles.close();
    }
  });

  it('a thread that fails hands checkpoints back to the main connection, at SQLite\'s default threshold', async () => {
    const file = fileIn();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    const checkpointer = new Checkpointer(db, file, { driver: path.join(root, 'no-such-driver.js') });
    checkpointer.committed();
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), BACKSTOP_PAGES, 'the main connection steps back while the thread runs');
    await eventually(() => checkpointer.stats.failure !== null, 'the failure noticed');
    assert.match(checkpointer.stats.failure!, /no-such-driver/);
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1_000);
    checkpointer.committed();
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1_000, 'no second thread after a failure');
    await checkpointer.stop();
    db.close();
  });

  it('never keeps a process alive: a script that writes and forgets to close its store still ends', () => {
    const file = fileIn();
    const src = (p: string) => JSON.stringify(new URL(`../../src/${p}`, import.meta.url).href);
    const script = `
      import { openSqliteStore } from ${src('store/sqlite/sqliteStore.ts')};
      import { newRecord } from ${src('domain/record.ts')};
      const store = openSqliteStore({ path: ${JSON.stringify(file)} });
      await store.putUser({ id: ${JSON.stringify(uid(1))}, tenantId: ${JSON.stringify(T1)}, displayName: 'A', userPrincipalName: 'a@contoso.example' }, newRecord(Date.now()));
      await store.updatePresence(${JSON.stringify(T1)}, ${JSON.stringify(uid(1))}, (r) => null);
      // The thread starts with the first commit; on a busy machine its first checkpoint can take a while.
      for (let waited = 0; store.backend.checkpointer.stats.checkpoints === 0 && waited < 10_000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      console.log('checkpoints', store.backend.checkpointer.stats.checkpoints);`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(run.signal, null, `killed after 15 s: the checkpoint thread kept the process alive (${run.stderr})`);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /checkpoints 1/, 'the thread ran while the script did');
  });
});
