/**
 * Opening a SQLite database file so that a bad one stops the start with a message that names the file and says what
 * to do (docs/operations/storage.md#when-the-data-folder-is-refused), instead of a server that answers ready and
 * fails every write: a file that is not a database or fails `PRAGMA quick_check`, or one that cannot be written.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';

/** The row of meta a write probe rewrites: at start, and on every readiness check. */
export const PROBE_KEY = 'health.probe';

/** SQLite's codes for a file whose content is not a sound database. */
const DAMAGE = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_VTAB', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_INDEX']);
/** … and for one that cannot be written. */
const READ_ONLY = new Set(['SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_PERM', 'SQLITE_READONLY_DBMOVED', 'SQLITE_IOERR_WRITE']);

export function damaged(file: string, detail: string): Error {
  return new Error(`the database ${file} is damaged (${detail}). Keep the file and stop here: restore it from a backup, `
    + `or move it aside (with its -wal and -shm files) to start with an empty store; \`sqlite3 ${file} .recover\` may save what it holds.`);
}

export function notWritable(file: string, detail: string): Error {
  return new Error(`the database ${file} cannot be written (${detail}): make the file and its folder writable by the user `
    + 'running Presently, or choose another folder with --data.');
}

/** The message for an error SQLite raised on `file`: damage and read-only files explained, anything else as it is. */
export function explain(file: string, err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return err;
  if (DAMAGE.has(code)) return damaged(file, `${code}: ${(err as Error).message}`);
  if (READ_ONLY.has(code) || code.startsWith('SQLITE_READONLY')) return notWritable(file, `${code}: ${(err as Error).message}`);
  return err;
}

/** Throws `damaged` unless `PRAGMA quick_check` says ok. */
export function quickCheck(db: Database.Database, file: string): void {
  const problems = (db.pragma('quick_check') as Array<{ quick_check: string }>).map((r) => r.quick_check);
  if (problems.length !== 1 || problems[0] !== 'ok') throw damaged(file, `quick_check: ${problems.slice(0, 3).join('; ')}`);
}

/** True when `file` holds something (a new or empty file needs no check). */
export function hasContent(file: string): boolean {
  try {
    return fs.statSync(file).size > 0;
  } catch {
    return false;
  }
}

let probes = 0;

/** Rewrites the probe row (a real write, WAL frame and all): throws what SQLite throws when the database cannot be written. */
export function probeWrite(db: Database.Database): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
    .run(PROBE_KEY, String(++probes));
}
