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
 * starts it too) and is evaluated from the source below (plain JavaScript, no loader, the same in `dist/` and under
 * tsx). It writes its figures to memory shared with the main thread; a bulk creation reads the WAL's own
 * (`roomForBulk`).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { WalIndex, type WalProgress } from './walIndex.ts';

/** How often the worker looks for new commits to checkpoint. */
export const CHECK_MS = 50;
/** The main connection's own checkpoint threshold while the worker runs (SQLite's default, 1,000, without one). */
export const BACKSTOP_PAGES = 20_000;
const SQLITE_DEFAULT_PAGES = 1_000;
/**
 * WAL frames (64 MiB of pages) from which a bulk creation of users waits, before its next transaction, for the worker
 * to have copied every frame: that transaction then starts the WAL over instead of adding to it (`roomForBulk`).
 */
export const BULK_HOLD_PAGES = 16_384;
/** A held bulk creation goes ahead anyway once the copying has not moved for this long (a reader holds it back). */
const HOLD_STALL_MS = 1_000;
/**
 * And after this long in all: copying that moves on but never catches up (other writers committing as fast as it
 * copies) must not hold a bulk creation for as long as they write.
 */
export const HOLD_MAX_MS = 2_000;
/** How often a held bulk creation looks at the WAL again. */
const HOLD_POLL_MS = 5;
/**
 * What SQLite cuts the WAL file back to when it starts over (`journal_size_limit`): the backstop's worth of frames, so
 * a WAL grown past that once (a bulk creation before the hold, a checkpoint thread that fell behind) does not keep its
 * size on disk until the server stops.
 */
export const WAL_LIMIT_BYTES = BACKSTOP_PAGES * (4096 + 24);
/** Small commits (a few users created or deleted) that start the worker when they add up to this many. */
export const SMALL_COMMITS = 50;
/** How long a close waits for the worker to close its connection before it is stopped. */
const STOP_MS = 2_000;

/** The words of the memory the worker shares with the main thread (`Int32Array` indices). */
const COMMITS = 0;
const COVERED = 1;
const LOG = 2;
const COPIED = 3;
const CHECKPOINTS = 4;
const WORDS = 5;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const shared = new Int32Array(workerData.shared);
let seen = 0;
// Whether the last checkpoint copied every frame: if not (a commit came in meanwhile, or a lock was busy), the next
// tick tries again even without a new commit, so a WAL left alone is always copied whole in the end.
let whole = true;
function tick() {
  const now = Atomics.load(shared, ${COMMITS});
  if (now === seen && whole) return;
  seen = now;
  whole = false;
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    whole = result.busy === 0 && result.checkpointed === result.log;
    Atomics.store(shared, ${LOG}, result.log);
    Atomics.store(shared, ${COPIED}, result.checkpointed);
    Atomics.store(shared, ${COVERED}, now);
    Atomics.add(shared, ${CHECKPOINTS}, 1);
  } catch (err) {
    if (err.code !== 'SQLITE_BUSY' && err.code !== 'SQLITE_LOCKED') throw err;
  }
}
const timer = setInterval(tick, workerData.everyMs);
parentPort.on('message', (message) => {
  // A bulk creation is waiting for the WAL to be copied: now, not at the next tick.
  if (message === 'now') return tick();
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** What the checkpoints so far came to (for tests and the curious). */
export interface CheckpointStats {
  /** Checkpoints the worker made. */
  readonly checkpoints: number;
  /** WAL frames the last one found, and how many of them it had copied into the database file. */
  readonly lastLog: number;
  readonly lastCopied: number;
  /** Transactions committed so far, and how many of them the last checkpoint found in the WAL. */
  readonly commits: number;
  readonly covered: number;
  /** Why the worker stopped on its own, if it did (the main connection then checkpoints as SQLite does by default). */
  failure: string | null;
}

/**
 * The figures, read from the memory the worker writes them to after each checkpoint: current even while the event
 * loop is busy (a bulk creation's transactions follow each other without a turn of it, so no message would be read).
 */
class SharedStats implements CheckpointStats {
  failure: string | null = null;
  constructor(private readonly words: Int32Array) {}
  get checkpoints(): number { return Atomics.load(this.words, CHECKPOINTS); }
  get lastLog(): number { return Atomics.load(this.words, LOG); }
  get lastCopied(): number { return Atomics.load(this.words, COPIED); }
  get commits(): number { return Atomics.load(this.words, COMMITS); }
  get covered(): number { return Atomics.load(this.words, COVERED); }
}

/** What a Checkpointer may be given instead of the real thing (tests). */
export interface CheckpointerOptions {
  /** Where the worker loads better-sqlite3 from (tests give a wrong one to see the fallback). */
  driver?: string;
  /** The WAL's progress (default: read from the WAL-index beside `file`). */
  progress?: () => WalProgress | null;
  /** The time in ms, and a pause of `ms`: how a held bulk creation waits. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class Checkpointer {
  private readonly shared = new Int32Array(new SharedArrayBuffer(WORDS * 4));
  readonly stats: CheckpointStats = new SharedStats(this.shared);
  private worker: Worker | null = null;
  private stopped = false;
  /** The WAL-index beside the database, read by `roomForBulk`. */
  private readonly wal: WalIndex;
  private readonly driver: string;
  private readonly progress: () => WalProgress | null;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly db: Database.Database, private readonly file: string, opts: CheckpointerOptions = {}) {
    this.wal = new WalIndex(`${file}-shm`);
    this.driver = opts.driver ?? createRequire(import.meta.url).resolve('better-sqlite3');
    this.progress = opts.progress ?? (() => this.wal.read());
    this.now = opts.now ?? (() => performance.now());
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * A transaction committed: the worker checkpoints it soon. `start`: this commit starts the worker if it has not
   * started yet; false for a small one that should not cost a thread on its own (a few users created or deleted),
   * until SMALL_COMMITS of them have been made (a run of single deletions, a tenant's, needs the thread too).
   */
  committed(start = true): void {
    const commits = Atomics.add(this.shared, COMMITS, 1) + 1;
    if ((start || commits >= SMALL_COMMITS) && this.worker === null && !this.stopped && this.stats.failure === null) {
      this.start();
    }
  }

  /**
   * Resolves when a bulk writer may commit: at once, unless the WAL holds BULK_HOLD_PAGES frames or more and some are
   * not copied yet (read from the WAL-index: ./walIndex.ts); then once the worker has copied them all, so that the
   * writer's transaction starts the WAL over (SQLite does so when a write begins after a checkpoint that copied
   * everything). Without it, a bulk creation's commits came faster than the worker's checkpoints, no checkpoint was
   * ever whole before the next commit, and the WAL grew to 509 MB over a million users' creation (a 915 MB
   * database). Waits in slices of HOLD_POLL_MS, the event loop free meanwhile, for as long as the copying moves on;
   * never without a worker, nor once it has not moved for HOLD_STALL_MS (a long read can keep a checkpoint from
   * copying the frames after it: the WAL then grows as it did before), nor past HOLD_MAX_MS in all.
   */
  async roomForBulk(): Promise<void> {
    const started = this.now();
    let copied = -1;
    let moved = started;
    for (let asked = false; this.worker !== null; asked = true) {
      const wal = this.progress();
      if (wal === null || wal.frames < BULK_HOLD_PAGES || wal.copied === wal.frames) return;
      if (!asked) this.worker.postMessage('now');
      const now = this.now();
      if (now - started >= HOLD_MAX_MS) return;
      if (wal.copied !== copied) [copied, moved] = [wal.copied, now];
      else if (now - moved >= HOLD_STALL_MS) return;
      await this.sleep(HOLD_POLL_MS);
    }
  }

  /** Whether the worker runs (tests, docs). */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Stops the worker, its connection closed first (before the main connection closes and checkpoints the rest). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wal.close();
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
      workerData: { driver: this.driver, file: this.file, shared: this.shared.buffer, everyMs: CHECK_MS },
    });
    worker.on('error', (err) => this.fallBack(err.message));
    worker.on('exit', (code) => {
      if (this.worker === worker && code !== 0) this.fallBack(`the checkpoint thread exited with code ${code}`);
    });
    // After the listeners (adding a 'message' listener would ref the worker again). Unref'd, it never keeps a process
    // alive.
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
