/**
 * The presence journal (docs/operations/storage.md#presence-journal): every user's record in memory (./arena.ts), each
 * group commit appended to a journal file in one `write` before it is answered, and the whole state written now and
 * then to a snapshot in one sequential pass, so that no write ever touches a random place on disk and a write costs
 * the same at a thousand users and at a million (docs/contributing/performance.md#writes-at-a-million-users).
 *
 * Durability is the WAL's with `synchronous = NORMAL`: a group is in the operating system's hands (`write` returned)
 * before its writers are answered, so it survives the process being killed; a snapshot is synced before the journal
 * files it replaces are removed.
 *
 * Files, in the journal's folder: `snapshot` (the last complete one), `snapshot.tmp` (one being written), and
 * `journal-NNNNNNNN`, one per generation. A snapshot starts a new generation and is written while writes go on (a
 * slice of records at a time): the records it copies may be older or newer than its start, and replaying the
 * generations from its own on top of it ends in the state of the last group, because each entry is a whole record.
 * A start reads the snapshot, replays the generations after it, and cuts a last frame that a crash left unfinished.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RecordArena } from './arena.ts';
import { DueIndex } from './dueIndex.ts';
import { JOURNAL_FILE_PREFIX } from '../files.ts';
import { DELETED, FrameKind, FrameWriter, readFrames, SAME, type FrameHead, type JournalEntry, type RawEntry } from './frames.ts';

/** A journal smaller than this never starts a snapshot (a small state is not rewritten every few writes). */
export const MIN_SNAPSHOT_BYTES = 64 * 1024 * 1024;
/** The bytes of a snapshot's frame, written in one `write` before the next slice of records is copied. */
const SNAPSHOT_SLICE = 1 << 20;
const SNAPSHOT = 'snapshot';
/** The journal file of a generation. */
export const journalName = (generation: number): string => `${JOURNAL_FILE_PREFIX}${String(generation).padStart(8, '0')}`;
const GENERATION = new RegExp(`^${JOURNAL_FILE_PREFIX}(\\d{8})$`);
const generationOf = (name: string): number | null => (GENERATION.test(name) ? Number(name.slice(JOURNAL_FILE_PREFIX.length)) : null);

export interface JournalOptions {
  /** The journal's size past which a snapshot is written (and at least the state's). */
  minSnapshotBytes?: number;
  /** The size of the arena's segments (./arena.ts; tests use small ones). */
  segmentBytes?: number;
}

/** What a start found: the entries replayed from the journal that owe an outbox event, and what it repaired. */
export interface JournalStart {
  owed: Array<{ lsn: number; entries: JournalEntry[] }>;
  /** A last frame cut short by a crash and removed, described; null when the journal ended cleanly. */
  repaired: string | null;
}

export class PresenceJournal {
  readonly arena: RecordArena;
  readonly dueIndex: DueIndex;
  /** The last group's position. */
  lsn = 0;
  private generation = 1;
  private fd = -1;
  private fileSize = 0;
  /** Journal bytes written since the last snapshot started. */
  private sinceSnapshot = 0;
  private readonly writer = new FrameWriter();
  private snapshotting: Promise<void> | null = null;
  private closing = false;
  /**
   * True while some journal entries owe outbox events that could not be handed over yet (./presence.ts): no snapshot
   * begins then, so the entries stay in the journal for the next start to find.
   */
  holdSnapshots = false;
  /** Why the last group could not be written (until one is), or null: what the store's readiness reports. */
  writeProblem: string | null = null;
  /** Why writes are refused (a failed write that could not be undone), or null. */
  broken: string | null = null;
  /**
   * Why the last background snapshot failed, until one succeeds, or null. Writes go on (each is in the journal), but
   * the journal is not cut back, so a start replays more and the folder grows: a warning of the store's readiness.
   */
  snapshotProblem: string | null = null;
  private readonly minSnapshotBytes: number;

  private constructor(readonly dir: string, options: JournalOptions) {
    this.minSnapshotBytes = options.minSnapshotBytes ?? MIN_SNAPSHOT_BYTES;
    this.arena = new RecordArena(options.segmentBytes);
    this.dueIndex = new DueIndex(this.arena);
  }

  /** Opens (creating) the journal in `dir`: the state rebuilt from its files. Throws, naming the file, on damage. */
  static open(dir: string, options: JournalOptions = {}): { journal: PresenceJournal; start: JournalStart } {
    fs.mkdirSync(dir, { recursive: true });
    const j = new PresenceJournal(dir, options);
    const start = j.load();
    j.fd = fs.openSync(path.join(dir, journalName(j.generation)), 'a');
    j.fileSize = fs.fstatSync(j.fd).size;
    return { journal: j, start };
  }

  /**
   * Appends one group and applies it: the entries are in the operating system's hands when this returns. Throws if
   * the write fails (nothing is applied then, and the file is cut back to where it was).
   */
  commit(entries: readonly JournalEntry[]): number {
    if (this.broken !== null) throw new Error(`the presence journal takes no writes: ${this.broken}`);
    const lsn = this.lsn + 1;
    const w = this.writer;
    w.reset();
    w.begin(FrameKind.Group, lsn);
    for (const e of entries) w.add(e);
    w.end();
    this.append(w.buf, w.length);
    this.lsn = lsn;
    for (const e of entries) this.apply(e);
    this.sinceSnapshot += w.length;
    if (this.snapshotting === null && !this.holdSnapshots
      && this.sinceSnapshot >= Math.max(this.minSnapshotBytes, this.arena.liveBytes)) {
      // A snapshot that fails leaves the last one and the journal after it, which a start reads; the next is tried
      // when the journal has grown as much again. Meanwhile the store's readiness warns of it.
      this.snapshotting = this.snapshot()
        .then(
          () => (this.snapshotProblem = null),
          (err: Error) => {
            this.snapshotProblem = `the last snapshot of the presence journal in ${this.dir} failed (${err.message}): `
              + 'writes go on, but the journal is not cut back until one succeeds (tried again when it has grown as much)';
          },
        )
        .then(() => {
          this.snapshotting = null;
        });
    }
    return lsn;
  }

  /** When the journal file was last written (the wall clock's epoch ms, from the file system). */
  lastWrittenAt(): number {
    return fs.fstatSync(this.fd).mtimeMs;
  }

  /** Writes a snapshot now (and waits for it): what tests and a clean shutdown use. */
  async writeSnapshot(): Promise<void> {
    while (this.snapshotting !== null) await this.snapshotting;
    this.snapshotting = this.snapshot().finally(() => (this.snapshotting = null));
    await this.snapshotting;
  }

  /** Stops a snapshot being written (it is left unfinished, the last one stands) and closes the journal file. */
  async close(): Promise<void> {
    this.closing = true;
    await this.snapshotting?.catch(() => {});
    this.closeFile();
  }

  /**
   * Closes the journal file now: for a journal opened to be read and left, with no snapshot being written (the move
   * back to the presence table holds them).
   */
  closeNow(): void {
    if (this.snapshotting !== null) throw new Error('a snapshot of the presence journal is being written');
    this.closing = true;
    this.closeFile();
  }

  private closeFile(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    this.broken ??= 'the journal is closed';
  }

  /** Applies an entry as read from a file, its record's bytes copied as they are. */
  private applyRaw(e: RawEntry): void {
    if (e.length === DELETED) {
      this.arena.delete(e.tenantId, e.userId);
      return;
    }
    const slot = e.length === SAME
      ? this.arena.setSameAsLast(e.tenantId, e.userId, e.dueAt)
      : this.arena.setBytes(e.tenantId, e.userId, e.data, e.at, e.length, e.dueAt);
    this.dueIndex.set(slot, e.dueAt);
  }

  private apply(e: JournalEntry): void {
    if (e.text === null) this.arena.delete(e.tenantId, e.userId);
    else this.dueIndex.set(this.arena.set(e.tenantId, e.userId, e.text, e.dueAt), e.dueAt);
  }

  private append(buf: Buffer, length: number): void {
    let done = 0;
    try {
      while (done < length) done += fs.writeSync(this.fd, buf, done, length - done);
    } catch (err) {
      this.writeProblem = `cannot write to the presence journal in ${this.dir}: ${(err as Error).message}`;
      try {
        if (done > 0) fs.ftruncateSync(this.fd, this.fileSize);
      } catch (undo) {
        this.broken = `a write failed (${(err as Error).message}) and could not be undone (${(undo as Error).message})`;
      }
      throw err;
    }
    this.writeProblem = null;
    this.fileSize += length;
  }

  /** Rebuilds the state from the snapshot and the journal generations after it. */
  private load(): JournalStart {
    const names = fs.readdirSync(this.dir);
    let from = 0;
    let firstGeneration = 1;
    if (names.includes(SNAPSHOT)) [from, firstGeneration] = this.loadSnapshot(path.join(this.dir, SNAPSHOT));
    const generations = names.map(generationOf).filter((g): g is number => g !== null).sort((a, b) => a - b);
    const owed: JournalStart['owed'] = [];
    let repaired: string | null = null;
    this.lsn = from;
    this.generation = firstGeneration;
    for (const [i, g] of generations.entries()) {
      const file = path.join(this.dir, journalName(g));
      // Generations before the snapshot's are in it: what a crash after its rename left.
      if (g < firstGeneration) {
        fs.rmSync(file, { force: true });
        continue;
      }
      // The groups after the snapshot's position, and the events their entries owe, with their texts (only those
      // are decoded as strings; a SAME entry's text is where the frame's last text was).
      let take = false;
      let events: JournalEntry[] = [];
      let [textAt, textLength] = [0, 0];
      const scan = readFrames(fs.readFileSync(file), {
        frame: (head) => {
          take = head.kind === FrameKind.Group && head.lsn > this.lsn;
          if (!take) return;
          this.lsn = head.lsn;
          owed.push({ lsn: head.lsn, entries: (events = []) });
        },
        entry: (e) => {
          if (!take) return;
          this.applyRaw(e);
          if (e.length >= 0) [textAt, textLength] = [e.at, e.length];
          if (Number.isNaN(e.eventAt) || e.length === DELETED) return;
          const text = e.data.toString('utf8', textAt, textAt + textLength);
          events.push({ tenantId: e.tenantId, userId: e.userId, text, dueAt: e.dueAt, eventAt: e.eventAt });
        },
      });
      if (scan.problem !== null) {
        if (i !== generations.length - 1) {
          throw new Error(`the presence journal ${file} is damaged (${scan.problem}) and later journal files follow it: `
            + 'restore the data folder from a backup');
        }
        fs.truncateSync(file, scan.end);
        repaired = `${file}: ${scan.problem}, cut there (a write that a crash left unfinished, never answered)`;
      }
      this.sinceSnapshot += scan.end;
      this.generation = g;
    }
    return { owed: owed.filter((g) => g.entries.length > 0), repaired };
  }

  /** Reads the snapshot into the arena; its lsn and the first journal generation after it. */
  private loadSnapshot(file: string): [lsn: number, generation: number] {
    let first: FrameHead | undefined;
    let last: FrameHead | undefined;
    let records = 0;
    let recordsFrame = false;
    const scan = readFrames(fs.readFileSync(file), {
      frame: (head) => {
        first ??= head;
        last = head;
        recordsFrame = head.kind === FrameKind.SnapshotRecords;
      },
      entry: (e) => {
        if (!recordsFrame) return;
        this.applyRaw(e);
        records++;
      },
    });
    if (scan.problem !== null || first?.kind !== FrameKind.SnapshotStart || last?.kind !== FrameKind.SnapshotEnd
      || last.count !== records) {
      throw new Error(`the presence snapshot ${file} is damaged (${scan.problem ?? 'it is incomplete'}): `
        + 'restore the data folder from a backup');
    }
    return [first.lsn, first.count];
  }

  /**
   * Starts a generation, then writes every record to `snapshot.tmp` a slice at a time (writes go on between slices),
   * syncs it, puts it in place of the last snapshot, and removes the generations before its own.
   */
  private async snapshot(): Promise<void> {
    const fd = fs.openSync(path.join(this.dir, journalName(this.generation + 1)), 'a');
    fs.closeSync(this.fd);
    this.fd = fd;
    this.generation++;
    this.fileSize = 0;
    this.sinceSnapshot = 0;
    // Every group after this position is in the new generation: where a start replays from, after this snapshot.
    const [generation, from] = [this.generation, this.lsn];
    const tmp = path.join(this.dir, `${SNAPSHOT}.tmp`);
    const out = await fs.promises.open(tmp, 'w');
    let complete = false;
    try {
      const w = new FrameWriter();
      w.begin(FrameKind.SnapshotStart, from, generation);
      w.end();
      let records = 0;
      for (let slot = 0; slot < this.arena.slotCount;) {
        if (this.closing) return;
        w.begin(FrameKind.SnapshotRecords, from);
        for (; slot < this.arena.slotCount && w.length < SNAPSHOT_SLICE; slot++) {
          if (!this.arena.live(slot)) continue;
          w.addSlot(this.arena, slot);
          records++;
        }
        w.end();
        await out.write(w.buf, 0, w.length);
        w.reset();
      }
      w.begin(FrameKind.SnapshotEnd, from, records);
      w.end();
      await out.write(w.buf, 0, w.length);
      await out.sync();
      complete = true;
    } finally {
      await out.close();
      if (!complete) await fs.promises.rm(tmp, { force: true });
    }
    await fs.promises.rename(tmp, path.join(this.dir, SNAPSHOT));
    await syncFolder(this.dir);
    for (const name of await fs.promises.readdir(this.dir)) {
      const g = generationOf(name);
      if (g !== null && g < generation) await fs.promises.rm(path.join(this.dir, name), { force: true });
    }
  }
}

/** Makes a rename in `dir` durable. */
async function syncFolder(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
