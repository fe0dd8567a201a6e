/**
 * The store on SQLite (better-sqlite3): the embedded default, and — on ':memory:' — the in-memory store for tests.
 * better-sqlite3 is synchronous, so every operation runs to completion (its transaction committed) before the
 * promise it returns is created: a resolved write is a committed write.
 *
 * One module per port (./meta.ts, ./directory.ts, ./presence.ts, ./outbox.ts, ./subscriptions.ts,
 * ./deliveries.ts); endpoint health is kept in this process's memory (../memory/endpointHealth.ts): SQLite is
 * exclusive to one process, so nobody else needs it.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { GuardedStore } from '../guarded.ts';
import { LocalEndpointHealth } from '../memory/endpointHealth.ts';
import { LocalRateLimits } from '../memory/rateLimits.ts';
import type { StoreBackend, StoreReadiness } from '../ports/index.ts';
import { Checkpointer, WAL_LIMIT_BYTES } from './checkpointer.ts';
import { checkWritable, lockDataFolder, type DataFolderLock } from './dataFolder.ts';
import { SqliteDeliveries } from './deliveries.ts';
import { SqliteDirectory } from './directory.ts';
import { SqliteMeta } from './meta.ts';
import { migrate } from './migrations.ts';
import { explain, hasContent, probeWrite, quickCheck } from './openFile.ts';
import { SqliteOutbox } from './outbox.ts';
import { SqlitePresence } from './presence.ts';
import type { JournalOptions } from '../journal/journal.ts';
import { dropLeftoverJournal, moveToTable, openPresenceJournal, presenceStorage, settleOwedEvents, type OpenedJournal, type PresenceStorage } from './presenceJournal.ts';
import { JournalPresence } from '../journal/presence.ts';
import { RecentRecords } from '../recentRecords.ts';
import { SqliteSubscriptions } from './subscriptions.ts';

/** SQLite's page cache, in KiB (its heap memory, bounded). */
const PAGE_CACHE_KIB = 64 * 1024;

export class SqliteBackend implements StoreBackend {
  readonly kind: 'sqlite' | 'memory';
  /** SQLite is opened by one process at a time: it sees every write. */
  readonly facts = { soleWriter: true } as const;
  readonly notices: readonly string[];
  readonly meta: SqliteMeta;
  readonly directory: SqliteDirectory;
  readonly presence: SqlitePresence | JournalPresence;
  readonly outbox: SqliteOutbox;
  readonly subscriptions: SqliteSubscriptions;
  readonly deliveries: SqliteDeliveries;
  readonly endpoints = new LocalEndpointHealth();
  readonly rateLimits = new LocalRateLimits();
  private readonly pingStmt: Database.Statement;
  /** Checkpoints the WAL on a thread of its own (./checkpointer.ts); none in memory. */
  readonly checkpointer: Checkpointer | null;

  /**
   * Use openSqliteStore. `lock`: the data folder's, released on close (null in memory). `journal`: where presence
   * records live when not in the presence table (../journal/), and what its start replayed.
   */
  constructor(
    private readonly db: Database.Database, readonly path: string, readonly lock: DataFolderLock | null = null,
    private readonly journal: OpenedJournal | null = null,
    /** What opening it did that the operator should read, besides the journal's own (a move back to the table). */
    notices: readonly string[] = [],
  ) {
    this.notices = notices;
    this.kind = db.memory ? 'memory' : 'sqlite';
    this.pingStmt = db.prepare('SELECT 1');
    this.meta = new SqliteMeta(db);
    const checkpointer = (this.checkpointer = db.memory ? null : new Checkpointer(db, db.name));
    const committed = (start = true) => checkpointer?.committed(start);
    this.deliveries = new SqliteDeliveries(db);
    const outbox = (this.outbox = new SqliteOutbox(db, this.deliveries));
    this.subscriptions = new SqliteSubscriptions(db, this.deliveries);
    const subscriptions = this.subscriptions;
    const watched = (tenantId: string, userId: string) => subscriptions.watches(tenantId, userId);
    if (journal) {
      // The journal's port keeps its own copies of the records it committed, by slot, and its create and remove hooks
      // (which the directory calls) keep them true: the directory has none to tell.
      const presence = (this.presence = new JournalPresence(journal.journal, watched, (events, lsn) => outbox.appendOwed(events, lsn)));
      const owed = settleOwedEvents(outbox, journal.journal, journal.start);
      if (owed > 0) journal.notices.push(`presence journal: ${owed} notification events a crash kept out of the outbox appended`);
      this.notices = [...notices, ...journal.notices];
      this.directory = new SqliteDirectory(db, new RecentRecords(0), committed, async () => checkpointer?.roomForBulk(), presence);
    } else {
      // The presence port's copies of the records it committed, which the directory's creations and deletions expire.
      const recent = new RecentRecords();
      this.presence = new SqlitePresence(db, watched, this.outbox.state, recent, committed);
      this.directory = new SqliteDirectory(db, recent, committed, async () => checkpointer?.roomForBulk());
    }
  }

  /** Where presence records live: the presence table, or the presence journal beside the database. */
  get presenceStorage(): PresenceStorage {
    return this.journal ? 'journal' : 'table';
  }

  /** The presence journal's records in memory (../journal/arena.ts footprint); nothing with the presence table. */
  memoryParts(): Readonly<Record<string, number>> {
    return this.journal ? this.journal.journal.arena.footprint() : {};
  }

  async ping(): Promise<boolean> {
    try {
      this.pingStmt.get();
      return true;
    } catch {
      return false;
    }
  }

  /** Ready while a write commits: a write probe, so a database that went read-only or bad is not reported ready. */
  async readiness(): Promise<StoreReadiness> {
    if (!this.db.open) return { ready: false, problem: 'the store is closed' };
    const journal = this.journal?.journal;
    const problem = journal?.broken ?? journal?.writeProblem;
    if (problem) return { ready: false, problem };
    try {
      probeWrite(this.db);
      return journal?.snapshotProblem ? { ready: true, warnings: [journal.snapshotProblem] } : { ready: true };
    } catch (err) {
      return { ready: false, problem: `cannot write to ${this.path}: ${(err as Error).message}` };
    }
  }

  async close(): Promise<void> {
    if (this.db.open) {
      // Updates still waiting for their group's commit are committed (or fail) before the database goes.
      this.presence.flush();
      // The worker's connection goes first, so the main one closes last and checkpoints what is left.
      await this.checkpointer?.stop();
      // And those asked for while the worker stopped.
      this.presence.flush();
      await this.journal?.journal.close();
      this.db.close();
    }
    this.lock?.release();
  }

  /** A local file does not come and go: every SQLite error is a fault, not an outage. */
  isOutage(): boolean {
    return false;
  }
}

/** The SQLite store: its backend (`.backend.path`, say) behind the common wrapper. */
export type SqliteStore = GuardedStore<SqliteBackend>;

/**
 * Opens (creating if needed) the database at `path` and brings its schema up to date; ':memory:' gives a private
 * in-memory database with the same schema and code, gone when closed. A file is opened only once its folder is
 * writable and locked for this process (./dataFolder.ts), and only if it passes `PRAGMA quick_check` and takes a
 * write (./openFile.ts); otherwise this throws a message that names the folder or file and what to do.
 */
export function openSqliteStore(
  opts: { path: string | ':memory:'; presence?: PresenceStorage; /** Tests' sizes (../journal/journal.ts). */ journal?: JournalOptions },
): SqliteStore {
  if (opts.path === ':memory:') return new GuardedStore(new SqliteBackend(openDatabase(':memory:'), opts.path));
  const file = path.resolve(opts.path);
  const dir = path.dirname(file);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new Error(`cannot create the data folder ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): `
      + 'create it, or choose another folder with --data.', { cause: err });
  }
  checkWritable(dir);
  const lock = lockDataFolder(dir);
  try {
    const db = openDatabase(file);
    try {
      // Where the records are, unless `presence` asks for the other place: then they move there first.
      const kept = presenceStorage(db);
      const wanted = opts.presence ?? kept;
      const notices = wanted === 'journal' ? [] : kept === 'journal' ? moveToTable(db, file) : dropLeftoverJournal(file);
      const journal = wanted === 'journal' ? openPresenceJournal(db, file, opts.journal) : null;
      return new GuardedStore(new SqliteBackend(db, opts.path, lock, journal, notices));
    } catch (err) {
      db.close();
      throw err;
    }
  } catch (err) {
    lock.release();
    throw err;
  }
}

function openDatabase(file: string): Database.Database {
  const memory = file === ':memory:';
  const checked = !memory && hasContent(file);
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (err) {
    throw explain(file, err);
  }
  try {
    // Wait for another connection's lock instead of failing at once with SQLITE_BUSY.
    db.pragma('busy_timeout = 5000');
    if (!memory) {
      if (checked) quickCheck(db, file);
      db.pragma('journal_mode = WAL');
      // In WAL mode, NORMAL syncs the WAL only at checkpoints, not at every commit. A committed transaction is
      // already in the WAL file (written to the OS before COMMIT returns), so it survives the process crashing or
      // being killed with SIGKILL; only an OS crash or power loss could lose the last commits. That is the
      // durability Presently promises (docs/operations/storage.md: kill -9 loses no acknowledged write), at a fraction of FULL's cost.
      db.pragma('synchronous = NORMAL');
      // When the WAL starts over, its file is cut back to this size (./checkpointer.ts WAL_LIMIT_BYTES).
      db.pragma(`journal_size_limit = ${WAL_LIMIT_BYTES}`);
      // Reads of users spread over a large database (a million users is ~900 MB): a 64 MiB page cache keeps the
      // upper levels of its b-trees in memory (BENCHMARKS.md, "A million users"). Not mmap: it was faster still, but
      // every page it touched counted in the process's RSS (1.1 GB after creating a million users).
      db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    }
    db.pragma('foreign_keys = ON');
    migrate(db);
    probeWrite(db);
    return db;
  } catch (err) {
    db.close();
    throw explain(file, err);
  }
}
