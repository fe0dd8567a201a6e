/**
 * Data folders that cannot be shared by accident or silently broken (docs/operations/storage.md): one process per
 * SQLite data folder, a folder or database that cannot be used refused at start with a message naming it and what to
 * do, and /_presently/ready failing once the store cannot write.
 */
import assert from 'node:assert/strict';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type Database from 'better-sqlite3';
import { openStore } from '../../src/store/index.ts';
import type { SqliteStore } from '../../src/store/sqlite/sqliteStore.ts';
import { runCli } from '../kit/cli.ts';
import { ADELE, startInProcess, startProcess, tempDir } from '../kit/server.ts';

const dirs: string[] = [];
const newDir = () => {
  const d = tempDir();
  dirs.push(d);
  return d;
};
after(async () => {
  const { rmSync } = await import('node:fs');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const serve = (args: string[], uid?: number) => runCli(['serve', '--port', '0', ...args], uid === undefined ? {} : { uid });

describe('one process per data folder', { timeout: 60_000 }, () => {
  it('a second process on the same --data is refused (exit 1) with a message naming the folder and the holder\'s pid', async () => {
    const dir = newDir();
    const first = await startProcess(['--data', dir]);
    try {
      const second = await serve(['--data', dir]);
      assert.equal(second.code, 1, second.stderr);
      assert.ok(second.stderr.includes(`the data folder ${dir} is in use by another Presently process (pid ${first.child.pid}`), second.stderr);
      assert.match(second.stderr, /Stop that process first, or give this one a data folder of its own \(--data\)/);
      assert.doesNotMatch(second.stdout, /listening/);
      // The first one is unharmed.
      assert.equal((await fetch(`${first.url}/_presently/ready`)).status, 200);
    } finally {
      assert.equal(await first.stop(), 0);
    }
    assert.equal(existsSync(join(dir, 'presently.pid')), false, 'a clean stop removes the pid file');
  });

  it('the lock of a process killed with kill -9 is taken over by the next start', async () => {
    const dir = newDir();
    const first = await startProcess(['--data', dir]);
    const pid = first.child.pid;
    await first.kill9();
    assert.equal(JSON.parse(readFileSync(join(dir, 'presently.pid'), 'utf8')).pid, pid, 'the dead process left its pid file');
    const second = await startProcess(['--data', dir]);
    try {
      assert.equal((await fetch(`${second.url}/_presently/ready`)).status, 200);
      assert.equal(JSON.parse(readFileSync(join(dir, 'presently.pid'), 'utf8')).pid, second.child.pid);
    } finally {
      await second.stop();
    }
  });

  it('a pid file naming a live process that holds no lock (a pid reused, as in a restarted container) does not block the folder', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'presently.pid'), JSON.stringify({ pid: process.pid, hostname: 'old-container', since: '2026-01-01T00:00:00Z' }));
    const store = openStore({ kind: 'sqlite', dataDir: dir });
    try {
      assert.equal(store.backend.lock?.tookOverFrom?.hostname, 'old-container');
      assert.equal(await store.ping(), true);
    } finally {
      await store.close();
    }
  });

  it('in one process too: a second store on an open folder is refused, and allowed once the first is closed', async () => {
    const dir = newDir();
    const a = openStore({ kind: 'sqlite', dataDir: dir });
    assert.throws(() => openStore({ kind: 'sqlite', dataDir: dir }), new RegExp(`data folder ${dir} is in use .*pid ${process.pid}`));
    await a.close();
    await openStore({ kind: 'sqlite', dataDir: dir }).close();
  });
});

describe('a data folder or database that cannot be used is refused at start', { timeout: 60_000 }, () => {
  it('a folder the server cannot write to: exit 1, naming the folder and what to do', async () => {
    const dir = newDir();
    chmodSync(dir, 0o555);
    // The tests may run as root, whom permissions do not stop: then the server runs as nobody.
    const r = await serve(['--data', dir], process.getuid?.() === 0 ? 65534 : undefined);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`the data folder ${dir} is not writable (EACCES)`), r.stderr);
    assert.match(r.stderr, /make it writable by the user running Presently \(uid \d+\), or choose another folder with --data/);
  });

  it('a file that is not a database: exit 1, naming the file as damaged and what to do', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'presently.db'), 'this is not a database, just some text that is long enough to look like a header '.repeat(100));
    const r = await serve(['--data', dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`the database ${join(dir, 'presently.db')} is damaged`), r.stderr);
    assert.match(r.stderr, /restore it from a backup, or move it aside .* to start with an empty store/);
  });

  it('a database with a damaged page fails quick_check: exit 1, and the file is left as it was', async () => {
    const dir = newDir();
    const store = openStore({ kind: 'sqlite', dataDir: dir });
    for (let i = 0; i < 200; i++) await store.putApp({ id: `app-${i}`, displayName: `An application with a long name ${'x'.repeat(200)} ${i}` });
    await store.close();
    const file = join(dir, 'presently.db');
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096 * 3, 0x5a), 0, 4096 * 3, 4096);
    closeSync(fd);
    const before = readFileSync(file);
    const r = await serve(['--data', dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`the database ${file} is damaged`), r.stderr);
    assert.ok(readFileSync(file).equals(before), 'the damaged file is not touched');
  });

  it('a lock file or database file the server cannot write (a folder first used by another user): exit 1, naming the file', async () => {
    const dir = newDir();
    await openStore({ kind: 'sqlite', dataDir: dir }).close();
    chmodSync(dir, 0o777);
    chmodSync(join(dir, 'presently.lock'), 0o444);
    chmodSync(join(dir, 'presently.db'), 0o444);
    const asOther = process.getuid?.() === 0 ? 65534 : undefined;
    const lock = await serve(['--data', dir], asOther);
    assert.equal(lock.code, 1, lock.stderr);
    assert.ok(lock.stderr.includes(`the lock file ${join(dir, 'presently.lock')} cannot be written`), lock.stderr);
    chmodSync(join(dir, 'presently.lock'), 0o666);
    const db = await serve(['--data', dir], asOther);
    assert.equal(db.code, 1, db.stderr);
    assert.ok(db.stderr.includes(`the database ${join(dir, 'presently.db')} cannot be written`), db.stderr);
    assert.match(db.stderr, /make the file and its folder writable by the user running Presently/);
  });
});

describe('/_presently/ready fails when the store cannot write', { timeout: 30_000 }, () => {
  it('a SQLite database that stops taking writes: ready answers 503 naming the problem, while health stays ok', async () => {
    const server = await startInProcess({ store: 'sqlite', dataDir: newDir() });
    try {
      assert.equal((await server.inject({ method: 'GET', url: '/_presently/ready' })).statusCode, 200);
      // The database turns read-only under the running server (as a file system remounted read-only would).
      const db = (server.presently.store as SqliteStore).backend as unknown as { db: Database.Database };
      db.db.pragma('query_only = ON');
      const token = await server.userToken(ADELE);
      const write = await server.inject({
        method: 'POST', url: '/v1.0/me/presence/setStatusMessage', headers: { authorization: `Bearer ${token}` },
        payload: { statusMessage: { message: { content: 'lost' } } },
      });
      assert.equal(write.statusCode, 500, 'writes fail');
      const ready = await server.inject({ method: 'GET', url: '/_presently/ready' });
      assert.equal(ready.statusCode, 503);
      assert.match(ready.json().error.message, /The sqlite store is not ready: cannot write to .*presently\.db: attempt to write a readonly database/);
      assert.equal((await server.inject({ method: 'GET', url: '/_presently/health' })).statusCode, 200);
      db.db.pragma('query_only = OFF');
      assert.equal((await server.inject({ method: 'GET', url: '/_presently/ready' })).statusCode, 200, 'ready again once it writes');
    } finally {
      await server.close();
    }
  });
});
