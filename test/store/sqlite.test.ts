/**
 * The store contract against SQLite on a file and in memory, plus what only SQLite has: the file, its pragmas, the
 * schema version and migrations, and durability when the process is killed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { newRecord, transition } from '../../src/domain/record.ts';
import { DB_FILE, openStore } from '../../src/store/index.ts';
import { MIGRATIONS, SCHEMA_VERSION, migrate } from '../../src/store/sqlite/migrations.ts';
import { openSqliteStore } from '../../src/store/sqlite/sqliteStore.ts';
import { splitSubscription } from '../../src/store/codec.ts';
import { storeContract } from './contract/index.ts';
import { inspect } from './fixtures/inspect.ts';
import { killedWriter } from './fixtures/killedWriter.ts';
import { APP, NOW, T1, sid, subscription, uid } from './contract/fixtures.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'presently-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

let dirs = 0;
/** A new directory under the temp root, not created yet (the store must create it). */
function freshDir(): string {
  return path.join(root, `d${++dirs}`, 'data');
}

const userVersion = (db: Database.Database) => db.pragma('user_version', { simple: true }) as number;
const tableNames = (db: Database.Database) =>
  db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();

storeContract(
  'sqlite file',
  () => openSqliteStore({ path: path.join(freshDir(), DB_FILE) }),
  (closed) => openSqliteStore({ path: closed.backend.path }),
);
storeContract('sqlite :memory:', () => openStore({ kind: 'memory', dataDir: freshDir() }));

describe('openStore', () => {
  it('sqlite: keeps its data in <dataDir>/presently.db, creating the directory', async () => {
    const dataDir = freshDir();
    const store = openStore({ kind: 'sqlite', dataDir });
    try {
      assert.equal(store.kind, 'sqlite');
      assert.equal(store.facts.soleWriter, true, 'one process writes a SQLite file');
      assert.ok(fs.statSync(path.join(dataDir, 'presently.db')).isFile());
    } finally {
      await store.close();
    }
  });

  it('memory: writes nothing to disk, and each store is private', async () => {
    const dataDir = freshDir();
    const a = openStore({ kind: 'memory', dataDir });
    const b = openStore({ kind: 'memory', dataDir });
    try {
      assert.equal(a.kind, 'memory');
      await a.setMeta('k', 'a');
      assert.equal(await b.getMeta('k'), null);
      assert.equal(fs.existsSync(dataDir), false);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('sqlite file', () => {
  it('is in WAL mode at the current schema version', async () => {
    const file = path.join(freshDir(), DB_FILE);
    await openSqliteStore({ path: file }).close();
    inspect(file, (db) => {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(userVersion(db), SCHEMA_VERSION);
      assert.deepEqual(tableNames(db), [
        'apps', 'changes', 'deliveries', 'meta', 'presence', 'sqlite_sequence', 'subscriptions',
        'tenants', 'users',
      ]);
    });
  });

  it('reopening an up-to-date database runs no migration and keeps the data', async () => {
    const file = path.join(freshDir(), DB_FILE);
    const store = openSqliteStore({ path: file });
    await store.putUser({ tenantId: 't', id: 'u', displayName: 'U', userPrincipalName: 'u@x.example' }, newRecord(0));
    await store.close();
    inspect(file, (db) => {
      assert.equal(migrate(db), SCHEMA_VERSION, 'already at the current version');
      assert.equal(userVersion(db), SCHEMA_VERSION);
    });
    const again = openSqliteStore({ path: file });
    try {
      assert.equal((await again.getUser('t', 'u'))?.displayName, 'U');
      assert.notEqual(await again.getPresence('t', 'u'), null);
    } finally {
      await again.close();
    }
  });

  it('upgrades an older database by running only the missing migrations', async () => {
    const file = path.join(freshDir(), DB_FILE);
    const store = openSqliteStore({ path: file });
    await store.putApp({ id: 'a', displayName: 'App' });
    await store.close();
    // A next version that adds a column: running it twice would fail ("duplicate column").
    const next = [...MIGRATIONS, { name: 'app notes', sql: 'ALTER TABLE apps ADD COLUMN note TEXT' }];
    inspect(file, (db) => {
      assert.equal(migrate(db, next), SCHEMA_VERSION);
      assert.equal(userVersion(db), SCHEMA_VERSION + 1);
      assert.equal(migrate(db, next), SCHEMA_VERSION + 1);
      assert.deepEqual(db.prepare('SELECT id, display_name, note FROM apps').all(), [{ id: 'a', display_name: 'App', note: null }]);
    });
  });

  it('upgrades a schema-1 database with users to change notifications, keeping its data', async () => {
    const file = path.join(freshDir(), DB_FILE);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const record = newRecord(Date.UTC(2026, 0, 1));
    inspect(file, (db) => {
      migrate(db, MIGRATIONS.slice(0, 1));
      db.prepare("INSERT INTO users VALUES ('t', 'u', 'U', 'u@x.example', 'u@x.example')").run();
      db.prepare("INSERT INTO presence VALUES ('t', 'u', ?, ?, ?, NULL)")
        .run(JSON.stringify(record.facts), JSON.stringify(record.view), record.sequenceNumber);
    });
    const store = openSqliteStore({ path: file });
    try {
      assert.deepEqual(await store.getPresence('t', 'u'), record);
      assert.deepEqual(await store.readChanges(10), []);
      assert.equal(await store.countDeliveries(), 0);
      const at = Date.UTC(2026, 0, 2);
      // Watched, so the change is appended (docs/decisions.md#d-outbox-watched).
      await store.putSubscription(subscription(1, ['u'], { tenantId: 't' }));
      await store.updatePresence('t', 'u', (r) => transition(r, { ...r.facts, everActive: true }, at));
      const t = await store.getPresence('t', 'u');
      assert.deepEqual((await store.readChanges(10)).map((e) => [e.sequenceNumber, e.at]), [[t?.sequenceNumber, at]]);
    } finally {
      await store.close();
    }
    inspect(file, (db) => assert.equal(userVersion(db), SCHEMA_VERSION));
  });

  it('upgrades a schema-2 database with subscriptions: they are counted, paged oldest first, and fan out', async () => {
    const file = path.join(freshDir(), DB_FILE);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const subs = [subscription(1, [uid(1), uid(2)], { createdAt: NOW + 5 }), subscription(2, [uid(2)], { createdAt: NOW })];
    inspect(file, (db) => {
      migrate(db, MIGRATIONS.slice(0, 2));
      const insert = db.prepare('INSERT INTO subscriptions VALUES (?, ?, ?, ?, ?, ?)');
      const watch = db.prepare('INSERT INTO subscription_users VALUES (?, ?, ?)');
      for (const sub of subs) {
        const { columns: c, data } = splitSubscription(sub);
        insert.run(c.id, c.tenantId, c.applicationId, c.creatorId, c.expiresAt, data);
        for (const u of sub.userIds) watch.run(sub.tenantId, u, sub.id);
      }
    });
    const store = openSqliteStore({ path: file });
    try {
      assert.equal(await store.countSubscriptions({ tenantId: T1, applicationId: APP }), 2);
      const owner = { tenantId: T1, applicationId: APP, creatorId: subs[0]!.creatorId };
      assert.deepEqual(await store.listSubscriptionPage(owner, null, 10), [subs[1], subs[0]]);
      assert.deepEqual((await store.subscriptionsForUser(T1, uid(2))).map((x) => x.id), [sid(1), sid(2)]);
      assert.deepEqual(await store.subscriptionsForUser(T1, uid(1)), [subs[0]]);
    } finally {
      await store.close();
    }
    inspect(file, (db) => assert.ok(!tableNames(db).includes('subscription_users')));
  });

  it('a failing migration leaves the database as it was', () => {
    const file = path.join(root, `broken-${++dirs}.db`);
    const broken = [...MIGRATIONS, { name: 'broken step', sql: 'CREATE TABLE meta (x)' }];
    inspect(file, (db) => {
      assert.throws(() => migrate(db, broken), new RegExp(`schema version ${SCHEMA_VERSION + 1} \\(broken step\\)`));
      assert.equal(userVersion(db), 0);
      assert.deepEqual(tableNames(db), [], 'the earlier steps of the same upgrade are rolled back too');
    });
  });

  it('refuses a database from a newer version of Presently, leaving its schema alone', () => {
    const file = path.join(freshDir(), DB_FILE);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    inspect(file, (db) => db.pragma(`user_version = ${SCHEMA_VERSION + 1}`));
    assert.throws(() => openSqliteStore({ path: file }), /schema version \d+, but this version of Presently knows only up to/);
    inspect(file, (db) => {
      assert.equal(userVersion(db), SCHEMA_VERSION + 1);
      assert.deepEqual(tableNames(db), []);
    });
  });

  it('loses no acknowledged write when the process is killed with SIGKILL, with 8 users written at once', async () => {
    const file = path.join(freshDir(), DB_FILE);
    const tenantId = 't';
    const acknowledged = await killedWriter(file, tenantId, 8);

    const store = openSqliteStore({ path: file });
    try {
      for (const [userId, n] of acknowledged) {
        const stored = Number((await store.getPresence(tenantId, userId))?.facts.statusMessage?.content);
        assert.ok(stored >= n, `${userId}: stored ${stored}, but ${n} was acknowledged`);
      }
    } finally {
      await store.close();
    }
    inspect(file, (db) => assert.equal(db.pragma('integrity_check', { simple: true }), 'ok'));
  });
});
