/**
 * A hash table from (tenant number, user GUID) to a presence snapshot, kept in typed arrays: the read cache's store
 * (./snapshotCache.ts). Each slot is SLOT_WORDS 32-bit words of one buffer: the key (the tenant's number, 0 marking
 * an empty slot, and the GUID's 128 bits), the cache's `used` mark, and the snapshot's sequence number and due instant
 * as two float64s; only its view, an object users with equal presences share (src/store/codec.ts), is in an array
 * beside it. So a million users cost no key string, map entry, snapshot object or sequence-number string, and a
 * lookup that reads a user's sequence number and due instant touches one 40-byte run of memory and one array element
 * (decision d-typed-read-cache in docs/decisions.md).
 *
 * Open addressing with linear probing; a deleted key's run is closed up by shifting the slots after it back (no
 * tombstones, so lookups never slow down with churn). The table doubles while it is more than half full, up to
 * twice the most keys it will ever hold.
 */
import type { PresenceView } from '../domain/types.ts';
import { hashOf } from '../platform/json/guid.ts';

/** Words per slot: the key (tenant number and the GUID's four words), the used mark, the sequence number, the due instant. */
export const SLOT_WORDS = 10;
/** Word of the slot holding the CLOCK mark: 1 when read or written since the hand last passed. */
export const USED = 5;
/** Float64 of the slot (of SLOT_WORDS / 2) holding the sequence number, and the due instant (NaN: none). */
export const SEQ = 3;
export const DUE = 4;
/** Float64s per slot. */
export const SLOT_NUMS = SLOT_WORDS / 2;
const FIRST_CAPACITY = 1_024;

export class GuidTable {
  /** SLOT_WORDS words per slot; word 0 is the tenant number, 0 in an empty slot. */
  words: Uint32Array;
  /** The same memory as float64s, SLOT_NUMS per slot: the sequence number at SEQ, the due instant at DUE. */
  nums: Float64Array;
  /** The view of each slot's user. */
  views: Array<PresenceView | undefined>;
  /** Slots - 1 (the slot count is a power of two). */
  mask: number;
  /** Keys held. */
  count = 0;
  private readonly maxCapacity: number;
  /** Where findAll's first pass puts what it read, so that the reads are not optimised away. */
  private touched = 0;

  /** `most`: the most keys it will hold at once. */
  constructor(most: number) {
    let max = FIRST_CAPACITY;
    while (max < most * 2) max *= 2;
    this.maxCapacity = max;
    const first = Math.min(FIRST_CAPACITY, max);
    [this.words, this.nums, this.views] = slots(first);
    this.mask = first - 1;
  }

  /** The slot holding (tenant, the GUID in `words[at .. at + 3]`), or -1. */
  find(tenant: number, words: Uint32Array, at: number): number {
    return this.findFrom(hashOf(tenant, words, at) & this.mask, tenant, words, at);
  }

  /** `find`, probing from slot `home` (the key's hash). */
  private findFrom(home: number, tenant: number, words: Uint32Array, at: number): number {
    const { words: keys, mask } = this;
    const w0 = words[at]!;
    const w1 = words[at + 1]!;
    const w2 = words[at + 2]!;
    const w3 = words[at + 3]!;
    for (let slot = home; ; slot = (slot + 1) & mask) {
      const k = slot * SLOT_WORDS;
      const t = keys[k]!;
      if (t === 0) return -1;
      if (t === tenant && keys[k + 1] === w0 && keys[k + 2] === w1 && keys[k + 3] === w2 && keys[k + 4] === w3) return slot;
    }
  }

  /**
   * `find` for `count` GUIDs at once (`words`: four words each), their slots (or -1) into `slots`. In passes over all
   * of them, so that the memory reads of one pass do not wait for each other: at a million users each is a cache
   * miss, and the processor overlaps the misses of a short loop's independent reads, not those of a long one.
   */
  findAll(tenant: number, words: Uint32Array, count: number, slots: Int32Array): void {
    const { words: keys, mask } = this;
    let touched = 0;
    for (let i = 0; i < count; i++) {
      const home = hashOf(tenant, words, i * 4) & mask;
      slots[i] = home;
      touched |= keys[home * SLOT_WORDS]!;
    }
    this.touched = touched;
    for (let i = 0; i < count; i++) slots[i] = this.findFrom(slots[i]!, tenant, words, i * 4);
  }

  /**
   * Adds (tenant, the GUID in `words[at .. at + 3]`), which must not be held yet, with its snapshot's parts (`due`:
   * NaN for none); returns its slot.
   */
  insert(tenant: number, words: Uint32Array, at: number, view: PresenceView, seq: number, due: number, used: boolean): number {
    if ((this.count + 1) * 2 > this.mask + 1 && this.mask + 1 < this.maxCapacity) this.grow();
    const slot = this.place(tenant, words, at);
    this.setAt(slot, view, seq, due);
    this.words[slot * SLOT_WORDS + USED] = used ? 1 : 0;
    this.count++;
    return slot;
  }

  /** Gives the user at `slot` a new snapshot. */
  setAt(slot: number, view: PresenceView, seq: number, due: number): void {
    this.views[slot] = view;
    this.nums[slot * SLOT_NUMS + SEQ] = seq;
    this.nums[slot * SLOT_NUMS + DUE] = due;
  }

  /** Empties `slot`, moving later slots of its run back so that every key stays reachable from its home slot. */
  removeAt(slot: number): void {
    const { words, views, mask } = this;
    let hole = slot;
    for (let next = (hole + 1) & mask; words[next * SLOT_WORDS] !== 0; next = (next + 1) & mask) {
      const home = hashOf(words[next * SLOT_WORDS]!, words, next * SLOT_WORDS + 1) & mask;
      // The key at `next` may fill the hole unless its home lies cyclically in (hole, next].
      if (((next - home) & mask) < ((next - hole) & mask)) continue;
      words.copyWithin(hole * SLOT_WORDS, next * SLOT_WORDS, next * SLOT_WORDS + SLOT_WORDS);
      views[hole] = views[next];
      hole = next;
    }
    words.fill(0, hole * SLOT_WORDS, hole * SLOT_WORDS + SLOT_WORDS);
    views[hole] = undefined;
    this.count--;
  }

  /** Writes the key into its first free slot (the key is not held); returns the slot. */
  private place(tenant: number, key: Uint32Array, at: number): number {
    const { words, mask } = this;
    let slot = hashOf(tenant, key, at) & mask;
    while (words[slot * SLOT_WORDS] !== 0) slot = (slot + 1) & mask;
    const k = slot * SLOT_WORDS;
    words[k] = tenant;
    for (let i = 0; i < 4; i++) words[k + 1 + i] = key[at + i]!;
    return slot;
  }

  private grow(): void {
    const { words, views } = this;
    const capacity = (this.mask + 1) * 2;
    [this.words, this.nums, this.views] = slots(capacity);
    this.mask = capacity - 1;
    for (let slot = 0; slot < views.length; slot++) {
      const k = slot * SLOT_WORDS;
      if (words[k] === 0) continue;
      const to = this.place(words[k]!, words, k + 1);
      // The rest of the slot (used mark, sequence number, due instant) as it was.
      this.words.set(words.subarray(k + USED, k + SLOT_WORDS), to * SLOT_WORDS + USED);
      this.views[to] = views[slot];
    }
  }
}

/** Empty slots for `capacity` users: their words, the same memory as float64s, and their views. */
function slots(capacity: number): [Uint32Array, Float64Array, Array<PresenceView | undefined>] {
  const buffer = new ArrayBuffer(capacity * SLOT_WORDS * 4);
  return [new Uint32Array(buffer), new Float64Array(buffer), new Array<PresenceView | undefined>(capacity).fill(undefined)];
}
