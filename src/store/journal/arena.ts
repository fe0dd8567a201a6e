/**
 * Every user's presence record in memory, as UTF-8 bytes in one large buffer (the text the journal holds:
 * `facts \t view \t seq`), found by a slot number per user: a million records are a few buffers and typed arrays, not
 * a million objects for each full garbage collection to mark (docs/contributing/performance.md).
 *
 * A record is written in place when it fits the room its slot has (its length and an eighth more, so a message replaced
 * by one as long or a little longer costs no new bytes); one that does not is written at the buffer's end and its old
 * bytes become garbage. When the buffer is full, the live records are copied into a new one a quarter larger than them
 * (compaction), so a write costs the same whatever the number of users.
 *
 * Users created together start with the same record: a record set just like the one set before it shares its bytes
 * (neither slot then has room of its own: the next change of either is written at the end), so a million new users
 * cost one record's bytes, not a million copies.
 */

import { UserIndex } from './userIndex.ts';

/** No due instant (a slot's `due`), and a free slot's length. */
const FREE = -1;

export class RecordArena {
  private buf = Buffer.allocUnsafe(1 << 20);
  private end = 0;
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

  /** The user's slot, or -1. */
  slotOf(tenantId: string, userId: string): number {
    return this.users.find(tenantId, userId);
  }

  text(slot: number): string {
    const at = this.offsets[slot]!;
    return this.buf.toString('utf8', at, at + this.lengths[slot]!);
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
    let n: number;
    if (this.rooms[slot]! >= text.length * 3 || this.rooms[slot]! >= (n = Buffer.byteLength(text, 'utf8'))) {
      n = this.buf.write(text, this.offsets[slot]!, 'utf8');
    } else {
      this.buf.write(text, this.place(slot, n), 'utf8');
    }
    this.lastText = text;
    return this.done(slot, n, dueAt);
  }

  /** `set` from the UTF-8 bytes `src[at .. at + n]` (a start copies a snapshot's and a journal's records so). */
  setBytes(tenantId: string, userId: string, src: Buffer, at: number, n: number, dueAt: number | null): number {
    const slot = this.slotFor(tenantId, userId);
    src.copy(this.buf, this.rooms[slot]! >= n ? this.offsets[slot]! : this.place(slot, n), at, at + n);
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
    this.rooms[last] = 0;
    this.rooms[slot] = 0;
    this.offsets[slot] = this.offsets[last]!;
    return this.done(slot, this.lengths[last]!, dueAt);
  }

  /** Room at the buffer's end for `slot`'s record of `n` bytes (and an eighth more): its offset. */
  private place(slot: number, n: number): number {
    const room = n + (n >> 3);
    if (this.end + room > this.buf.length) this.compact(room);
    this.offsets[slot] = this.end;
    this.rooms[slot] = room;
    this.end += room;
    return this.offsets[slot]!;
  }

  private done(slot: number, n: number, dueAt: number | null): number {
    this.lengths[slot] = n;
    this.dues[slot] = dueAt ?? NaN;
    this.liveBytes += n;
    this.lastSlot = slot;
    return slot;
  }

  /** Removes the user; false if there was none. */
  delete(tenantId: string, userId: string): boolean {
    const slot = this.users.find(tenantId, userId);
    if (slot < 0) return false;
    this.users.remove(slot);
    this.liveBytes -= this.lengths[slot]!;
    this.lengths[slot] = FREE;
    this.rooms[slot] = 0;
    if (slot === this.lastSlot) this.lastSlot = -1;
    this.dues[slot] = NaN;
    this.freeSlots.push(slot);
    this.size--;
    this.membership++;
    return true;
  }

  /** Copies `slot`'s record bytes into `to` at `at`; returns how many. */
  copyText(slot: number, to: Buffer, at: number): number {
    const from = this.offsets[slot]!;
    return this.buf.copy(to, at, from, from + this.lengths[slot]!);
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

  /**
   * Copies the live records, in slot order (shared bytes once), into a buffer a quarter larger than them and `more`.
   */
  private compact(more: number): void {
    let needed = more;
    const shared = new Map<number, number>();
    for (let slot = 0; slot < this.used; slot++) {
      if (this.lengths[slot] === FREE) continue;
      if (this.rooms[slot]! > 0) needed += this.rooms[slot]!;
      else if (!shared.has(this.offsets[slot]!)) shared.set(this.offsets[slot]!, (needed += this.lengths[slot]!, -1));
    }
    const next = Buffer.allocUnsafe(Math.max(1 << 20, Math.ceil(needed * 1.25)));
    let at = 0;
    for (let slot = 0; slot < this.used; slot++) {
      const n = this.lengths[slot]!;
      if (n === FREE) continue;
      const from = this.offsets[slot]!;
      const room = this.rooms[slot]!;
      if (room === 0) {
        const moved = shared.get(from)!;
        if (moved >= 0) {
          this.offsets[slot] = moved;
          continue;
        }
        shared.set(from, at);
      }
      this.buf.copy(next, at, from, from + n);
      this.offsets[slot] = at;
      at += room > 0 ? room : n;
    }
    this.buf = next;
    this.end = at;
  }
}
