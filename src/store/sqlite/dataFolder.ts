/**
 * One process per data folder (docs/operations/storage.md#one-process-per-data-folder). Two processes on one SQLite
 * file would each keep their own caches and in-memory indexes and disagree about the same user, so the folder is
 * locked for as long as a store has it open.
 *
 * The lock is an operating-system file lock, taken through SQLite on a small file of its own (`presently.lock`, held
 * in exclusive locking mode): the kernel drops it when the holder dies, however it dies (kill -9 included), so a
 * stale lock is taken over without any guess about process ids — and a pid reused by another program, as in a
 * restarted container, cannot keep the folder locked. Who holds it is written next to it (`presently.pid`), for the
 * message a second process gets; the database itself is not locked, so it can still be read (a backup, sqlite3).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

export const LOCK_FILE = 'presently.lock';
export const PID_FILE = 'presently.pid';

/** What the pid file says about the process holding the folder. */
export interface LockHolder {
  pid: number;
  hostname: string;
  since: string;
}

/** Another process holds the data folder. */
export class DataFolderInUse extends Error {
  constructor(readonly dir: string, readonly holder: LockHolder | null) {
    const who = holder ? `pid ${holder.pid}${holder.hostname !== os.hostname() ? ` on ${holder.hostname}` : ''}, since ${holder.since}` : 'pid unknown';
    super(`the data folder ${dir} is in use by another Presently process (${who}). `
      + 'Stop that process first, or give this one a data folder of its own (--data).');
    this.name = 'DataFolderInUse';
  }
}

export interface DataFolderLock {
  /** The holder recorded by a process that died without closing the store (its lock taken over), or null. */
  readonly tookOverFrom: LockHolder | null;
  release(): void;
}

const uid = () => (process.getuid ? ` (uid ${process.getuid()})` : '');

/** Throws a message that names the folder and what to do, unless a file can be created in it. */
export function checkWritable(dir: string): void {
  const probe = path.join(dir, `.presently-write-check-${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`the data folder ${dir} is not writable (${code}): make it writable by the user running Presently${uid()}, `
      + 'or choose another folder with --data.');
  }
}

function readHolder(dir: string): LockHolder | null {
  try {
    const holder = JSON.parse(fs.readFileSync(path.join(dir, PID_FILE), 'utf8')) as Partial<LockHolder>;
    return typeof holder.pid === 'number' ? { pid: holder.pid, hostname: String(holder.hostname ?? ''), since: String(holder.since ?? '') } : null;
  } catch {
    return null;
  }
}

/** Takes the folder's lock, or throws DataFolderInUse at once (no waiting). */
export function lockDataFolder(dir: string): DataFolderLock {
  const file = path.join(dir, LOCK_FILE);
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 0');
    // Exclusive locking mode: the lock a write takes is kept until the connection closes. What the file holds does
    // not matter, so nothing is synced to disk (each sync cost milliseconds of every start).
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = MEMORY');
    db.pragma('synchronous = OFF');
    db.exec(`BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL); DELETE FROM holder;
      INSERT INTO holder (pid) VALUES (${process.pid}); COMMIT`);
  } catch (err) {
    db.close();
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_BUSY') throw new DataFolderInUse(dir, readHolder(dir));
    throw new Error(`the lock file ${file} cannot be written (${code ?? (err as Error).message}): make the data folder and its files `
      + `writable by the user running Presently${uid()}, or choose another folder with --data.`, { cause: err });
  }
  const tookOverFrom = readHolder(dir);
  const pidFile = path.join(dir, PID_FILE);
  const holder: LockHolder = { pid: process.pid, hostname: os.hostname(), since: new Date().toISOString() };
  fs.writeFileSync(pidFile, `${JSON.stringify(holder)}\n`);
  let released = false;
  return {
    tookOverFrom,
    release() {
      if (released) return;
      released = true;
      // The pid file goes first: while it exists, the lock is still held.
      fs.rmSync(pidFile, { force: true });
      db.close();
    },
  };
}
