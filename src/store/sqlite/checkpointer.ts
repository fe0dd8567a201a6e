/**
 * WAL checkpoints on a thread of their own (decision d-background-checkpoint in docs/decisions.md).
 *
 * A commit appends the pages it changed to the WAL file; a checkpoint copies them back into the database file and
 * syncs both (with `synchronous = NORMAL`, the only syncs there are). Left to SQLite, the commit that takes the WAL
 * past 1,000 pages does the checkpoint itself, on the event loop, while the writes of its group wait for their
 * answers: at a million users that made a write's p99 three times longer. Here a worker thread with its own connection
 * runs a PASSIVE checkpoint (it never blocks a writer) every CHECK_MS while something was committed since its last
 * one, and the main connection checkpoints by itself only past BACKSTOP_PAGES, if the worker falls behind or is gone.
 *
 * Nothing about durability changes: a commit is in the WAL before its write is answered, whoever checkpoints it later,
 * and a checkpoint cut short by `kill -9` is finished (or ignored) by SQLite when the database is next opened.
 *
 * The worker starts with the first commit of presence, of users created in bulk, or with the SMALL_COMMITS-th
 * commit of a few users (a server that only reads never pays its ~17 MB; nor does one that only seeded its few dev
 * users at start, which was 10 MB of idle RSS; creating users in bulk is thousands of pages a transaction, so that
 * starts it too) and is evaluated from
 * the source below (plain JavaScript, no loader, the same in `dist/` and under tsx).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** How often the worker looks for new commits to checkpoint. */
export const CHECK_MS = 50;
/** The main connection's own checkpoint threshold while the worker runs (SQLite's default, 1,000, without one). */
export const BACKSTOP_PAGES = 20_000;
const SQLITE_DEFAULT_PAGES = 1_000;
/** Small commits (a few users created or deleted) that start the worker when they add up to this many. */
export const SMALL_COMMITS = 50;
/** How long a close waits for the worker to close its connection before it is stopped. */
const STOP_MS = 2_000;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const commits = new Int32Array(workerData.commits);
let seen = 0;
const timer = setInterval(() => {
  const now = Atomics.load(commits, 0);
  if (now === seen) return;
  seen = now;
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ checkpoint: result, covered: now });
  } catch (err) {
    if (err.code !== 'SQLITE_BUSY' && err.code !== 'SQLITE_LOCKED') throw err;
  }
}, workerData.everyMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** What the checkpoints so far came to (for tests and the curious). */
export interface CheckpointStats {
  /** Checkpoints the worker made. */
  checkpoints: number;
  /** WAL frames the last one found, and how many of them it had copied into the database file. */
  lastLog: number;
  lastCopied: number;
  /** Transactions committed so far, and how many of them the last checkpoint found in the WAL. */
  commits: number;
  covered: number;
  /** Why the worker stopped on its own, if it did (the main connection then checkpoints as SQLite does by default). */
  failure: string | null;
}

export class Checkpointer {
  readonly stats: CheckpointStats = { checkpoints: 0, lastLog: 0, lastCopied: 0, commits: 0, covered: 0, failure: null };
  private readonly commits = new Int32Array(new SharedArrayBuffer(4));
  private worker: Worker | null = null;
  private stopped = false;

  /** `driver`: where the worker loads better-sqlite3 from (tests give a wrong one to see the fallback). */
  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
    private readonly driver = createRequire(import.meta.url).resolve('better-sqlite3'),
  ) {}

  /**
   * A transaction committed: the worker checkpoints it soon. `start`: this commit starts the worker if it has not
   * started yet; false for a small one that should not cost a thread on its own (a few users created or deleted),
   * until SMALL_COMMITS of them have been made (a run of single deletions, a tenant's, needs the thread too).
   */
  committed(start = true): void {
    this.stats.commits = Atomics.add(this.commits, 0, 1) + 1;
    if ((start || this.stats.commits >= SMALL_COMMITS) && this.worker === null && !this.stopped && this.stats.failure === null) {
      this.start();
    }
  }

  /** Whether the worker runs (tests, docs). */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Stops the worker, its connection closed first (before the main connection closes and checkpoints the rest). */
  async stop(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage('stop');
    const timer = setTimeout(() => void worker.terminate(), STOP_MS);
    await exited;
    clearTimeout(timer);
  }

  private start(): void {
    this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { driver: this.driver, file: this.file, commits: this.commits.buffer, everyMs: CHECK_MS },
    });
    worker.on('message', (message: { checkpoint?: { log: number; checkpointed: number }; covered?: number }) => {
      if (!message.checkpoint) return;
      this.stats.checkpoints++;
      this.stats.lastLog = message.checkpoint.log;
      this.stats.lastCopied = message.checkpoint.checkpointed;
      this.stats.covered = message.covered ?? 0;
    });
    worker.on('error', (err) => this.fallBack(err.message));
    worker.on('exit', (code) => {
      if (this.worker === worker && code !== 0) this.fallBack(`the checkpoint thread exited with code ${code}`);
    });
    // After the listeners: adding a 'message' listener refs the worker again. Unref'd, it never keeps a process alive.
    worker.unref();
    this.worker = worker;
  }

  /** The worker is gone: the main connection checkpoints as SQLite does by default again. */
  private fallBack(why: string): void {
    this.stats.failure ??= why;
    this.worker = null;
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_PAGES}`);
  }
}
