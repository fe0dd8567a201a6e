/**
 * Every user's presence record in memory, as UTF-8 bytes in one large buffer (the text the journal holds:
 * `facts \t view \t seq`), found by a slot number per user: a million records are a few buffers and typed arrays, not
 * a million objects for each full garbage collection to mark (docs/contributing/performance.md).
 *
 * A record is written in place when it fits the room its slot has (its length and an eighth more, so a message
 * replaced by one as long or a little longer costs no new bytes) and fills half of it; one that does not is written at
 * the end of the segment being filled (buffers of 8 MiB) and its old bytes become garbage. When the garbage passes a
 * quarter of what the segments hold, the segment with the most is emptied (its live records copied to the end, the
 * buffer dropped): one segment at a time, so a write costs the same whatever the number of users and no pause copies
 * the whole state. The memory is the rooms (each at most twice its record: a user's room grows to their longest record
 * and an eighth, and stays while the record fills half of it), a third more in garbage at most (one segment while the
 * records are few), and a segment or two (test/property/presence-journal.test.ts). Rewrites of records of varying
 * lengths take the rooms from about 1.2 to about 1.4 times the records over millions of writes (BENCHMARKS.md,
 * 2026-12-07 14:55): bounded, but not flat.
 *
 * Users created together start with the same record: a record set just like the one set before it shares its bytes
 * (neither slot then has room of its own: the next change of either is written at the end), so a million new users
 * cost one record's bytes, not a million copies.
 */

import { UserIndex } from './userIndex.ts';

/** A free slot's length. */
const FREE = -1;
/** A record's place: its segment's number times SPAN plus its offset in the segment (a segment is under 4 GiB). */
const SPAN = 2 ** 32;
/** The size of a segment, unless a record needs more. */
export const SEGMENT_BYTES = 8 * 1024 * 1024;
const segmentOf = (place: number): number => Math.floor(place / SPAN);
const offsetOf = (place: number): number => place % SPAN;

export class RecordArena {
  /** The segments (null: emptied, its number free for a new one), what each has had placed in it and its garbage. */
  private segments: Array<Buffer | null> = [];
  private segmentUsed: number[] = [];
  private segmentGarbage: number[] = [];
  private readonly freeSegments: number[] = [];
  /** The segment being filled (-1: none yet) and where its free room starts. */
  private active = -1;
  private activeEnd = 0;
  private totalUsed = 0;
  private totalGarbage = 0;
  /** Bytes of the live records. */
  liveBytes = 0;
  /** Users held. */
  size = 0;
  private offsets = new Float64Array(1024);
  private lengths = new Int32Array(1024).fill(FREE);
  /** The bytes a slot may be rewritten in place in; 0: its bytes are shared with other slots, or it has none. */
  private rooms = new Int32Array(1024);
  /** The record set last, and its slot (-1: none): what the next set may share. */
  private lastText = '';
  private lastSlot = -1;
  /** Each slot's due instant (NaN: none). */
  private dues = new Float64Array(1024).fill(NaN);
  /** Slots in use, by user, and each slot's user (./userIndex.ts: no string or map entry per user). */
  private readonly users = new UserIndex();
  private readonly freeSlots: number[] = [];
  private used = 0;
  /** Bumped whenever a user comes or goes (what a cached list of the users checks). */
  membership = 0;

  /** `segmentBytes`: the size of a segment (tests use small ones). */
  constructor(private readonly segmentBytes = SEGMENT_BYTES) {}

  /** The user's slot, or -1. */
  slotOf(tenantId: string, userId: string): number {
    return this.users.find(tenantId, userId);
  }

  text(slot: number): string {
    const place = this.offsets[slot]!;
    const at = offsetOf(place);
    return this.segments[segmentOf(place)]!.toString('utf8', at, at + this.lengths[slot]!);
  }

  due(slot: number): number | null {
    const d = this.dues[slot]!;
    return Number.isNaN(d) ? null : d;
  }

  tenantOf(slot: number): string {
    return this.users.tenantOf(slot);
  }

  userOf(slot: number): string {
    return this.users.userOf(slot);
  }

  /** Orders two slots by their users' tenant id, then user id. */
  compare(a: number, b: number): number {
    return this.users.compare(a, b);
  }

  /** The slots in use can be walked from 0 to `slotCount` - 1, skipping those `live` says are free. */
  get slotCount(): number {
    return this.used;
  }

  live(slot: number): boolean {
    return this.lengths[slot]! !== FREE;
  }

  /** Sets the user's record (creating the user); returns the slot. */
  set(tenantId: string, userId: string, text: string, dueAt: number | null): number {
    const slot = this.slotFor(tenantId, userId);
    if (this.lastSlot >= 0 && this.lastSlot !== slot && text === this.lastText) return this.share(slot, dueAt);
    const n = Buffer.byteLength(text, 'utf8');
    const place = this.fits(slot, n) ? this.offsets[slot]! : this.place(slot, n);
    this.segments[segmentOf(place)]!.write(text, offsetOf(place), 'utf8');
    this.lastText = text;
    return this.done(slot, n, dueAt);
  }

  /** `set` from the UTF-8 bytes `src[at .. at + n]` (a start copies a snapshot's and a journal's records so). */
  setBytes(tenantId: string, userId: string, src: Buffer, at: number, n: number, dueAt: number | null): number {
    const slot = this.slotFor(tenantId, userId);
    const place = this.fits(slot, n) ? this.offsets[slot]! : this.place(slot, n);
    src.copy(this.segments[segmentOf(place)]!, offsetOf(place), at, at + n);
    // Unknown as a string: a `set` next compares its text with nothing.
    this.lastText = '\0';
    return this.done(slot, n, dueAt);
  }

  /** Gives the user the record set last (users created together: one record's bytes for all); returns the slot. */
  setSameAsLast(tenantId: string, userId: string, dueAt: number | null): number {
    const slot = this.slotFor(tenantId, userId);
    if (this.lastSlot < 0) throw new Error('no record was set before');
    if (this.lastSlot === slot) {
      this.dues[slot] = dueAt ?? NaN;
      return slot;
    }
    return this.share(slot, dueAt);
  }

  /**
   * Whether `n` bytes go in place of the slot's record: they fit its room and fill half of it at least (a record that
   * shrank a lot moves to a room its size).
   */
  private fits(slot: number, n: number): boolean {
    const room = this.rooms[slot]!;
    return room > 0 && room >= n && n * 2 >= room;
  }

  /** The user's slot, made if new, its record's bytes no longer counted as live. */
  private slotFor(tenantId: string, userId: string): number {
    const slot = this.slotOf(tenantId, userId);
    if (slot < 0) return this.newSlot(tenantId, userId);
    this.liveBytes -= this.lengths[slot]!;
    return slot;
  }

  /** Makes `slot` share the bytes of the record set last; neither may be rewritten in place from now on. */
  private share(slot: number, dueAt: number | null): number {
    const last = this.lastSlot;
    this.release(slot);
    this.rooms[last] = 0;
    this.rooms[slot] = 0;
    this.offsets[slot] = this.offsets[last]!;
    return this.done(slot, this.lengths[last]!, dueAt);
  }

  /**
   * Room at the end of the segment being filled for `slot`'s record of `n` bytes (and an eighth more), its old bytes
   * made garbage: its place. A segment may be emptied first, never after (the place stays where it is).
   */
  private place(slot: number, n: number): number {
    const room = n + (n >> 3);
    this.release(slot);
    if (this.totalGarbage > Math.max(this.segmentBytes, this.totalUsed / 4)) this.empty(slot);
    this.rooms[slot] = room;
    return (this.offsets[slot] = this.append(room));
  }

  /** `room` bytes at the end of the segment being filled (a new one if they do not fit): their place. */
  private append(room: number): number {
    if (this.active < 0 || this.activeEnd + room > this.segments[this.active]!.length) {
      const n = this.freeSegments.pop() ?? this.segments.length;
      this.segments[n] = Buffer.allocUnsafe(Math.max(this.segmentBytes, room));
      [this.segmentUsed[n], this.segmentGarbage[n], this.active, this.activeEnd] = [0, 0, n, 0];
    }
    const place = this.active * SPAN + this.activeEnd;
    this.activeEnd += room;
    this.segmentUsed[this.active]! += room;
    this.totalUsed += room;
    return place;
  }

  /** The bytes `slot` has of its own (none when shared) are garbage from now on. */
  private release(slot: number): void {
    const room = this.rooms[slot]!;
    if (room === 0) return;
    this.segmentGarbage[segmentOf(this.offsets[slot]!)]! += room;
    this.totalGarbage += room;
    this.rooms[slot] = 0;
  }

  /**
   * Empties the segment (not the one being filled) with the most garbage: its live records copied to the end, but for
   * `placing`'s, which is about to be written elsewhere.
   */
  private empty(placing: number): void {
    let victim = -1;
    for (let n = 0; n < this.segments.length; n++) {
      if (this.segments[n] !== null && n !== this.active && (victim < 0 || this.segmentGarbage[n]! > this.segmentGarbage[victim]!)) victim = n;
    }
    if (victim < 0) return;
    const from = this.segments[victim]!;
    // Shared bytes are copied once: where each went.
    const moved = new Map<number, number>();
    for (let slot = 0; slot < this.used; slot++) {
      const n = this.lengths[slot]!;
      const place = this.offsets[slot]!;
      if (n === FREE || slot === placing || segmentOf(place) !== victim) continue;
      const room = this.rooms[slot]!;
      const already = room === 0 ? moved.get(place) : undefined;
      if (already !== undefined) {
        this.offsets[slot] = already;
        continue;
      }
      const to = this.append(room > 0 ? room : n);
      from.copy(this.segments[segmentOf(to)]!, offsetOf(to), offsetOf(place), offsetOf(place) + n);
      this.offsets[slot] = to;
      if (room === 0) moved.set(place, to);
    }
    this.totalUsed -= this.segmentUsed[victim]!;
    this.totalGarbage -= this.segmentGarbage[victim]!;
    this.segments[victim] = null;
    this.freeSegments.push(victim);
  }

  private done(slot: number, n: number, dueAt: number | null): number {
    this.lengths[slot] = n;
    this.dues[slot] = dueAt ?? NaN;
    this.liveBytes += n;
    this.lastSlot = slot;
    return slot;
  }

  /**
   * The memory the records take, in bytes: `segments`, the buffers held; `records`, what is placed in them and not
   * garbage (each record once however many users share it, with the room kept for growing in place); `garbage`, the
   * bytes of records since replaced, which the emptying of segments gives back (at most a quarter of what is placed,
   * or one segment while that is more).
   */
  footprint(): { segments: number; records: number; garbage: number } {
    let segments = 0;
    for (const buf of this.segments) segments += buf?.length ?? 0;
    return { segments, records: this.totalUsed - this.totalGarbage, garbage: this.totalGarbage };
  }

  /** Removes the user; false if there was none. */
  delete(tenantId: string, userId: string): boolean {
    const slot = this.users.find(tenantId, userId);
    if (slot < 0) return false;
    this.users.remove(slot);
    this.liveBytes -= this.lengths[slot]!;
    this.release(slot);
    this.lengths[slot] = FREE;
    if (slot === this.lastSlot) this.lastSlot = -1;
    this.dues[slot] = NaN;
    this.freeSlots.push(slot);
    this.size--;
    this.membership++;
    return true;
  }

  /** Copies `slot`'s record bytes into `to` at `at`; returns how many. */
  copyText(slot: number, to: Buffer, at: number): number {
    const place = this.offsets[slot]!;
    const from = offsetOf(place);
    return this.segments[segmentOf(place)]!.copy(to, at, from, from + this.lengths[slot]!);
  }

  /** Where the slot's bytes are: two slots that answer the same share one record. */
  bytesAt(slot: number): number {
    return this.offsets[slot]!;
  }

  /** The record's length in bytes. */
  byteLength(slot: number): number {
    return this.lengths[slot]!;
  }

  private newSlot(tenantId: string, userId: string): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      if (this.used === this.lengths.length) this.growSlots();
      slot = this.used++;
    }
    this.users.add(tenantId, userId, slot);
    this.size++;
    this.membership++;
    return slot;
  }

  private growSlots(): void {
    const n = this.lengths.length * 2;
    const offsets = new Float64Array(n);
    offsets.set(this.offsets);
    const lengths = new Int32Array(n).fill(FREE);
    lengths.set(this.lengths);
    const rooms = new Int32Array(n);
    rooms.set(this.rooms);
    const dues = new Float64Array(n).fill(NaN);
    dues.set(this.dues);
    [this.offsets, this.lengths, this.rooms, this.dues] = [offsets, lengths, rooms, dues];
  }
}
