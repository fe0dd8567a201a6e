/**
 * The due index of the journal's records: which users have a timed change pending, earliest first (the presence
 * port's dueUsers and nextDueAt). A binary heap of (due instant, slot) in two typed arrays; an entry stays when its
 * user's record changes and is dropped when it reaches the top no longer matching the record (lazy deletion), and the
 * heap is rebuilt from the records when stale entries outnumber the users.
 */
import type { RecordArena } from './arena.ts';

export class DueIndex {
  private dues = new Float64Array(1024);
  private slots = new Int32Array(1024);
  private length = 0;

  constructor(private readonly arena: RecordArena) {}

  /** The record at `slot` now has `dueAt` (null: none). */
  set(slot: number, dueAt: number | null): void {
    if (dueAt === null) return;
    if (this.length > 2 * this.arena.size + 1024) this.rebuild();
    this.push(dueAt, slot);
  }

  /** The earliest due instant, or null. */
  next(): number | null {
    this.dropStale();
    return this.length === 0 ? null : this.dues[0]!;
  }

  /**
   * Up to `limit` slots due at or before `now`, by due instant then tenant and user id (so ties come out in one order,
   * as the other backends' do). A read: the heap is as it was after.
   */
  due(now: number, limit: number): number[] {
    if (limit <= 0) return [];
    const popped: Array<[number, number]> = [];
    const seen = new Set<number>();
    this.dropStale();
    while (this.length > 0 && this.dues[0]! <= now) {
      const due = this.dues[0]!;
      // Past the limit only ties of the last one taken can still come before it in id order.
      if (seen.size >= limit && due !== popped[popped.length - 1]![0]) break;
      const slot = this.pop();
      popped.push([due, slot]);
      seen.add(slot);
      this.dropStale();
    }
    for (const [due, slot] of popped) this.push(due, slot);
    const a = this.arena;
    const unique = [...seen].map((slot) => [a.due(slot)!, slot] as const);
    unique.sort(([d1, s1], [d2, s2]) => d1 - d2 || a.compare(s1, s2));
    return unique.slice(0, limit).map(([, slot]) => slot);
  }

  /** Every entry again, from the records. */
  rebuild(): void {
    this.length = 0;
    for (let slot = 0; slot < this.arena.slotCount; slot++) {
      const due = this.arena.live(slot) ? this.arena.due(slot) : null;
      if (due !== null) this.push(due, slot);
    }
  }

  private dropStale(): void {
    while (this.length > 0) {
      const slot = this.slots[0]!;
      if (this.arena.live(slot) && this.arena.due(slot) === this.dues[0]) return;
      this.pop();
    }
  }

  private push(due: number, slot: number): void {
    if (this.length === this.dues.length) {
      const dues = new Float64Array(this.length * 2);
      dues.set(this.dues);
      const slots = new Int32Array(this.length * 2);
      slots.set(this.slots);
      [this.dues, this.slots] = [dues, slots];
    }
    let i = this.length++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.dues[parent]! <= due) break;
      this.dues[i] = this.dues[parent]!;
      this.slots[i] = this.slots[parent]!;
      i = parent;
    }
    this.dues[i] = due;
    this.slots[i] = slot;
  }

  private pop(): number {
    const top = this.slots[0]!;
    const due = this.dues[--this.length]!;
    const slot = this.slots[this.length]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.length) break;
      if (child + 1 < this.length && this.dues[child + 1]! < this.dues[child]!) child++;
      if (this.dues[child]! >= due) break;
      this.dues[i] = this.dues[child]!;
      this.slots[i] = this.slots[child]!;
      i = child;
    }
    if (this.length > 0) {
      this.dues[i] = due;
      this.slots[i] = slot;
    }
    return top;
  }
}
