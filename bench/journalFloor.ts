/**
 * `npm run bench:floors -- --only journal`: the store that docs/contributing/performance.md ("What would make writes
 * cost the same at a million users") points to, measured before it is built, with Presently's own code left out as in
 * the other floors.
 *
 * Every user's record is kept in memory as UTF-8 bytes in one arena (a record is `facts \t view \t seq`, the text the
 * presence table holds now), found through two typed arrays (offset and length by user number), so a million records
 * are no million objects. A write reads the user's record and parses its facts (the write path starts from the
 * record), makes the new one (`make`: the same first status message the disk floor writes), puts it at the arena's
 * end and adds it to the group's journal chunk; each group of `group` writes is one `write` of the chunk to the
 * journal file, which is the commit (the WAL's commit does not sync either: synchronous = NORMAL). When the journal
 * has grown as large as the state, the state is written out as a snapshot, in user order, synced, and the journal
 * starts over (so a write is written about twice in all, whatever the size: Redis's AOF rewrite policy at 100 %); the
 * arena is compacted at the same time. A snapshot is timed at the end and charged to the writes that policy puts
 * between two snapshots. µs per write: parse, apply (make and place), append (the journal writes), snapshot.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface JournalRow { facts: string; view: string; seq: string }

export interface JournalFloor {
  writes: number;
  parse: number;
  apply: number;
  append: number;
  /** The snapshot's µs per write under the policy, and what one snapshot took (ms). */
  snapshot: number;
  snapshotMs: number;
  /** The arena's live bytes (MB) and how long filling it with `n` new users' records took (s). */
  stateMb: number;
  fillS: number;
  /** A start from the files: the last snapshot read back into an arena, then the journal after it replayed (s); the
   * state it rebuilt is checked against the one in memory (an error if any record differs). */
  startS: number;
}

/** The smallest journal that triggers a snapshot, so that a small state is not written out at every few writes. */
const MIN_JOURNAL = 64 * 1024 * 1024;
/** Write chunk of a snapshot. */
const CHUNK = 4 * 1024 * 1024;

class Arena {
  buf: Buffer;
  end = 0;
  readonly offsets: Float64Array;
  readonly lengths: Uint32Array;
  live = 0;

  constructor(n: number, bytesEach: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1 << 20, n * bytesEach * 2));
    this.offsets = new Float64Array(n);
    this.lengths = new Uint32Array(n);
  }

  text(i: number): string {
    return this.buf.toString('utf8', this.offsets[i]!, this.offsets[i]! + this.lengths[i]!);
  }

  /** Puts user i's new record at the end (the old one stays as garbage until `compact`); returns its bytes' length. */
  put(i: number, record: string): number {
    if (this.end + record.length * 3 > this.buf.length) this.compact(record.length * 3);
    const len = this.buf.write(record, this.end, 'utf8');
    this.live += len - this.lengths[i]!;
    this.offsets[i] = this.end;
    this.lengths[i] = len;
    this.end += len;
    return len;
  }

  /** Copies the live records, in user order, into a buffer with room for `more` (twice the live bytes at least). */
  compact(more = 0): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length, 2 * (this.live + more)));
    let at = 0;
    for (let i = 0; i < this.offsets.length; i++) {
      const from = this.offsets[i]!;
      this.buf.copy(next, at, from, from + this.lengths[i]!);
      this.offsets[i] = at;
      at += this.lengths[i]!;
    }
    this.buf = next;
    this.end = at;
  }
}

/** Writes the state to `file` in user order and syncs it; ms. */
function snapshot(arena: Arena, dir: string): number {
  const start = performance.now();
  const tmp = path.join(dir, 'snapshot.tmp');
  const fd = fs.openSync(tmp, 'w');
  const chunk = Buffer.allocUnsafe(CHUNK);
  let used = 0;
  for (let i = 0; i < arena.offsets.length; i++) {
    const len = arena.lengths[i]! + 1;
    if (used + len > CHUNK) {
      fs.writeSync(fd, chunk, 0, used);
      used = 0;
    }
    arena.buf.copy(chunk, used, arena.offsets[i]!, arena.offsets[i]! + len - 1);
    chunk[used + len - 1] = 0x0a;
    used += len;
  }
  fs.writeSync(fd, chunk, 0, used);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, path.join(dir, 'snapshot'));
  return performance.now() - start;
}

/**
 * What a start would do: reads the snapshot into a fresh arena (a record a line, in user order), then replays the
 * journal (`user \t record` lines) over it; the arena, and how long it took (s).
 */
function start(n: number, dir: string): { arena: Arena; seconds: number } {
  const t0 = performance.now();
  const data = fs.readFileSync(path.join(dir, 'snapshot'));
  const arena = new Arena(n, Math.ceil(data.length / n));
  data.copy(arena.buf, 0);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const nl = data.indexOf(0x0a, at);
    arena.offsets[i] = at;
    arena.lengths[i] = nl - at;
    at = nl + 1;
  }
  arena.end = data.length;
  arena.live = data.length - n;
  const journal = fs.readFileSync(path.join(dir, 'journal'), 'utf8');
  for (let from = 0; from < journal.length;) {
    const nl = journal.indexOf('\n', from);
    const tab = journal.indexOf('\t', from);
    const user = Number(journal.slice(from, tab));
    if (!Number.isInteger(user) || user < 0 || user >= n || tab < from || tab > nl) {
      throw new Error(`journal floor: a journal line that names no user at byte ${from}`);
    }
    arena.put(user, journal.slice(tab + 1, nl));
    from = nl + 1;
  }
  return { arena, seconds: (performance.now() - t0) / 1000 };
}

/** Throws unless `b` holds every user's record as `a` does. */
function sameState(a: Arena, b: Arena): void {
  for (let i = 0; i < a.offsets.length; i++) {
    if (a.lengths[i] !== b.lengths[i] || a.buf.compare(b.buf, b.offsets[i]!, b.offsets[i]! + b.lengths[i]!, a.offsets[i]!, a.offsets[i]! + a.lengths[i]!) !== 0) {
      throw new Error(`journal floor: the start rebuilt user ${i}'s record wrongly`);
    }
  }
}

/**
 * `n` users whose records start as `initial`; writes to `pick()`'s users for `seconds`, in groups of `group`, the k-th
 * write's record made by `make(k)`.
 */
export function journalFloor(n: number, seconds: number, group: number, initial: JournalRow, pick: () => number,
  make: (k: number) => JournalRow): JournalFloor {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presently-journal-'));
  try {
    const first = `${initial.facts}\t${initial.view}\t${initial.seq}`;
    const arena = new Arena(n, Buffer.byteLength(first) + 240);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) arena.put(i, first);
    snapshot(arena, dir);
    const fillS = (performance.now() - t0) / 1000;
    // O_APPEND: after the truncation at a snapshot, the next write goes to the start again.
    const journal = fs.openSync(path.join(dir, 'journal'), 'a');
    const chunk = Buffer.allocUnsafe(1 << 20);
    let [parse, apply, append, writes, journalBytes] = [0, 0, 0, 0, 0];
    const until = performance.now() + seconds * 1000;
    while (performance.now() < until) {
      let used = 0;
      for (let j = 0; j < group; j++, writes++) {
        const a = performance.now();
        const i = pick();
        const old = arena.text(i);
        JSON.parse(old.slice(0, old.indexOf('\t')));
        const b = performance.now();
        const r = make(writes);
        const line = `${r.facts}\t${r.view}\t${r.seq}`;
        arena.put(i, line);
        used += chunk.write(`${i}\t${line}\n`, used, 'utf8');
        const c = performance.now();
        parse += b - a;
        apply += c - b;
      }
      const d = performance.now();
      fs.writeSync(journal, chunk, 0, used);
      append += performance.now() - d;
      journalBytes += used;
      if (journalBytes >= Math.max(MIN_JOURNAL, arena.live)) {
        snapshot(arena, dir);
        arena.compact();
        fs.ftruncateSync(journal, 0);
        journalBytes = 0;
      }
    }
    fs.closeSync(journal);
    // The journal as the run left it, over the last snapshot: a start after a crash.
    const started = start(n, dir);
    sameState(arena, started.arena);
    // One snapshot timed on its own, charged to the writes the policy puts between two of them.
    const snapshotMs = snapshot(arena, dir);
    const lineBytes = arena.live / n;
    const writesBetween = Math.max(MIN_JOURNAL, arena.live) / (lineBytes + 8);
    const us = (ms: number) => (1000 * ms) / writes;
    return {
      writes, parse: us(parse), apply: us(apply), append: us(append),
      snapshot: (1000 * snapshotMs) / writesBetween, snapshotMs, stateMb: arena.live / 1e6, fillS, startS: started.seconds,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
