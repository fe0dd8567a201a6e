/**
 * The bytes of the presence journal and its snapshots (docs/operations/storage.md#presence-journal): a file is a
 * sequence of frames, each `u32 length, u32 crc32, payload`, so a start can tell a whole frame from one cut short by a
 * crash or a bad disk. A payload is a kind, the journal position (lsn) it belongs to, and entries: one user's whole
 * record each (or its deletion), so replaying an entry twice, or over a newer copy, ends in the same state.
 */
import { crc32 } from 'node:zlib';
import type { RecordArena } from './arena.ts';

/** What a frame holds. */
export const enum FrameKind {
  /** One group commit's entries, in the journal. */
  Group = 1,
  /** A snapshot's first frame: the lsn it starts from and the journal generation to replay after it. */
  SnapshotStart = 2,
  /** Some of a snapshot's records. */
  SnapshotRecords = 3,
  /** A snapshot's last frame: how many records it held. */
  SnapshotEnd = 4,
}

/** One user's record as stored: `text` is `facts \t view \t seq` (null: the user was deleted). */
export interface JournalEntry {
  tenantId: string;
  userId: string;
  text: string | null;
  dueAt: number | null;
  /** When the change that wrote it happened, if a subscription watched the user (an outbox event is owed); else NaN. */
  eventAt: number;
}

/** A frame's head: its kind, lsn and count (SnapshotStart: the journal generation; SnapshotEnd: the records). */
export interface FrameHead {
  kind: FrameKind;
  lsn: number;
  count: number;
}

/**
 * One entry as it is in the file: its record's bytes are `data[at .. at + length]`, not decoded (a start copies them
 * into the arena as they are). `length` is DELETED for a deletion and SAME for "the text of the entry with a text
 * before it in the frame".
 */
export interface RawEntry {
  tenantId: string;
  userId: string;
  data: Buffer;
  at: number;
  length: number;
  dueAt: number | null;
  eventAt: number;
}

/** What reading a file's frames calls: `frame` at each frame's start, then `entry` for each of its entries. */
export interface FrameVisitor {
  frame(head: FrameHead): void;
  entry(e: RawEntry): void;
}

const HEADER = 8;
const PAYLOAD_HEAD = 1 + 8 + 4;
/** An entry's text length that means "deleted", and one that means "the same text as the entry before it in the frame". */
export const DELETED = -1;
export const SAME = -2;

/** Builds frames in one growing buffer (reused: a group's frame is built and written, then the next). */
export class FrameWriter {
  buf = Buffer.allocUnsafe(1 << 16);
  length = 0;
  private frameAt = 0;
  private entries = 0;
  /** The text of the frame's last entry, or its bytes' place in the arena (users created together share one record). */
  private lastText: string | null = null;
  private lastBytes = -1;

  /** Starts a frame after the ones already built. */
  begin(kind: FrameKind, lsn: number, count = 0): void {
    this.frameAt = this.length;
    this.room(HEADER + PAYLOAD_HEAD);
    this.length += HEADER;
    this.buf.writeUInt8(kind, this.length);
    this.buf.writeDoubleLE(lsn, this.length + 1);
    this.buf.writeUInt32LE(count, this.length + 9);
    this.length += PAYLOAD_HEAD;
    this.entries = 0;
    this.lastText = null;
    this.lastBytes = -1;
  }

  add(e: JournalEntry): void {
    // UTF-8 takes at most 3 bytes a UTF-16 unit.
    this.room(2 + e.tenantId.length * 3 + 2 + e.userId.length * 3 + 4 + (e.text?.length ?? 0) * 3 + 16);
    this.string16(e.tenantId);
    this.string16(e.userId);
    if (e.text === null || e.text === this.lastText) {
      this.buf.writeInt32LE(e.text === null ? DELETED : SAME, this.length);
      this.length += 4;
    } else {
      const n = this.buf.write(e.text, this.length + 4, 'utf8');
      this.buf.writeInt32LE(n, this.length);
      this.length += 4 + n;
    }
    this.buf.writeDoubleLE(e.dueAt ?? NaN, this.length);
    this.buf.writeDoubleLE(e.eventAt, this.length + 8);
    this.length += 16;
    this.entries++;
    this.lastText = e.text;
  }

  /** Adds a snapshot's entry for the record at `slot` of `arena`, its bytes copied as they are. */
  addSlot(arena: RecordArena, slot: number): void {
    const tenantId = arena.tenantOf(slot);
    const userId = arena.userOf(slot);
    this.room(2 + tenantId.length * 3 + 2 + userId.length * 3 + 4 + arena.byteLength(slot) + 16);
    this.string16(tenantId);
    this.string16(userId);
    const bytes = arena.bytesAt(slot);
    if (bytes === this.lastBytes) {
      this.buf.writeInt32LE(SAME, this.length);
      this.length += 4;
    } else {
      const n = arena.copyText(slot, this.buf, this.length + 4);
      this.buf.writeInt32LE(n, this.length);
      this.length += 4 + n;
      this.lastBytes = bytes;
    }
    this.buf.writeDoubleLE(arena.due(slot) ?? NaN, this.length);
    this.buf.writeDoubleLE(NaN, this.length + 8);
    this.length += 16;
    this.entries++;
  }

  /** Ends the frame: its length, checksum and (for a group or records) its entry count. */
  end(): void {
    const payload = this.frameAt + HEADER;
    const kind = this.buf[payload] as FrameKind;
    if (kind === FrameKind.Group || kind === FrameKind.SnapshotRecords) this.buf.writeUInt32LE(this.entries, payload + 9);
    this.buf.writeUInt32LE(this.length - payload, this.frameAt);
    this.buf.writeUInt32LE(crc32(this.buf.subarray(payload, this.length)), this.frameAt + 4);
  }

  /** Forgets every frame built (the buffer is kept). */
  reset(): void {
    this.length = 0;
  }

  private string16(s: string): void {
    const n = this.buf.write(s, this.length + 2, 'utf8');
    if (n > 0xffff) throw new RangeError('an id longer than 65,535 bytes');
    this.buf.writeUInt16LE(n, this.length);
    this.length += 2 + n;
  }

  private room(more: number): void {
    if (this.length + more <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + more));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
}

/** Where reading a file's frames stopped: at its end, or at `end` because the frame there is not whole. */
export interface FrameScan {
  /** The offset after the last whole frame. */
  end: number;
  /** Why the rest could not be read (null: the file ended there). */
  problem: string | null;
}

/**
 * Hands every whole frame of `data` to `visit`, in order, stopping at the first that is cut short or fails its
 * checksum. Entry by entry, their records' bytes left in `data`: a journal of a million entries is never a million
 * objects, nor a million strings decoded to be encoded again.
 */
export function readFrames(data: Buffer, visit: FrameVisitor): FrameScan {
  let at = 0;
  while (at < data.length) {
    if (at + HEADER > data.length) return { end: at, problem: `a frame header cut short at byte ${at}` };
    const length = data.readUInt32LE(at);
    const sum = data.readUInt32LE(at + 4);
    const payload = at + HEADER;
    if (length < PAYLOAD_HEAD || payload + length > data.length) {
      return { end: at, problem: `a frame cut short at byte ${at}` };
    }
    if (crc32(data.subarray(payload, payload + length)) !== sum) {
      return { end: at, problem: `a frame whose checksum does not match at byte ${at}` };
    }
    visitPayload(data, payload, payload + length, visit);
    at = payload + length;
  }
  return { end: at, problem: null };
}

function visitPayload(data: Buffer, from: number, to: number, visit: FrameVisitor): void {
  visit.frame({ kind: data.readUInt8(from) as FrameKind, lsn: data.readDoubleLE(from + 1), count: data.readUInt32LE(from + 9) });
  let at = from + PAYLOAD_HEAD;
  while (at < to) {
    const tl = data.readUInt16LE(at);
    const tenantId = data.toString('utf8', at + 2, at + 2 + tl);
    at += 2 + tl;
    const ul = data.readUInt16LE(at);
    const userId = data.toString('utf8', at + 2, at + 2 + ul);
    at += 2 + ul;
    const length = data.readInt32LE(at);
    const textAt = at + 4;
    at = textAt + Math.max(length, 0);
    const due = data.readDoubleLE(at);
    const eventAt = data.readDoubleLE(at + 8);
    at += 16;
    visit.entry({ tenantId, userId, data, at: textAt, length, dueAt: Number.isNaN(due) ? null : due, eventAt });
  }
}
