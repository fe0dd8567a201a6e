/**
 * A hash table from (tenant number, user GUID) to a presence snapshot, kept in typed arrays: the read cache's store
 * (./snapshotCache.ts). A key is five 32-bit words in one Uint32Array (the tenant's number, 0 marking an empty slot,
 * and the GUID's 128 bits), so a million users cost no key string, no map entry and no per-user wrapper object: a
 * lookup reads one run of five words and one array element (decision d-typed-read-cache in docs/decisions.md).
 *
 * Open addressing with linear probing; a deleted key's run is closed up by shifting the keys after it back (no
 * tombstones, so lookups never slow down with churn). The table doubles while it is more than half full, up to
 * twice the most keys it will ever hold. Each slot also has a `used` mark for the cache's CLOCK hand.
 */
import type { PresenceSnapshot } from '../store/types.ts';

/** Words per key: the tenant number and the GUID's four words. */
export const KEY_WORDS = 5;
const FIRST_CAPACITY = 1_024;

/** A slot number for (tenant, the GUID in `words[at .. at + 3]`): every word mixed in (test GUIDs differ in their last digits). */
export function hashOf(tenant: number, words: Uint32Array, at: number): number {
  let h = Math.imul(tenant ^ 0x9e3779b9, 0x85ebca6b);
  for (let i = 0; i < 4; i++) h = Math.imul(h ^ (h >>> 15) ^ words[at + i]!, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

export class GuidTable {
  /** KEY_WORDS words per slot; word 0 is the tenant number, 0 in an empty slot. */
  keys: Uint32Array;
  snaps: Array<PresenceSnapshot | undefined>;
  /** The CLOCK mark of each slot: read or written since the hand last passed. */
  used: Uint8Array;
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
    this.keys = new Uint32Array(first * KEY_WORDS);
    this.snaps = new Array<PresenceSnapshot | undefined>(first).fill(undefined);
    this.used = new Uint8Array(first);
    this.mask = first - 1;
  }

  /** The slot holding (tenant, the GUID in `words[at .. at + 3]`), or -1. */
  find(tenant: number, words: Uint32Array, at: number): number {
    return this.findFrom(hashOf(tenant, words, at) & this.mask, tenant, words, at);
  }

  /** `find`, probing from slot `home` (the key's hash). */
  private findFrom(home: number, tenant: number, words: Uint32Array, at: number): number {
    const { keys, mask } = this;
    const w0 = words[at]!;
    const w1 = words[at + 1]!;
    const w2 = words[at + 2]!;
    const w3 = words[at + 3]!;
    for (let slot = home; ; slot = (slot + 1) & mask) {
      const k = slot * KEY_WORDS;
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
    const { keys, mask } = this;
    let touched = 0;
    for (let i = 0; i < count; i++) {
      const home = hashOf(tenant, words, i * 4) & mask;
      slots[i] = home;
      touched |= keys[home * KEY_WORDS]!;
    }
    this.touched = touched;
    for (let i = 0; i < count; i++) slots[i] = this.findFrom(slots[i]!, tenant, words, i * 4);
  }

  /** Adds (tenant, the GUID in `words[at .. at + 3]`), which must not be held yet; returns its slot. */
  insert(tenant: number, words: Uint32Array, at: number, snap: PresenceSnapshot, used: boolean): number {
    if ((this.count + 1) * 2 > this.mask + 1 && this.mask + 1 < this.maxCapacity) this.grow();
    const slot = this.place(tenant, words, at);
    this.snaps[slot] = snap;
    this.used[slot] = used ? 1 : 0;
    this.count++;
    return slot;
  }

  /** Empties `slot`, moving later keys of its run back so that every key stays reachable from its home slot. */
  removeAt(slot: number): void {
    const { keys, snaps, used, mask } = this;
    let hole = slot;
    for (let next = (hole + 1) & mask; keys[next * KEY_WORDS] !== 0; next = (next + 1) & mask) {
      const home = hashOf(keys[next * KEY_WORDS]!, keys, next * KEY_WORDS + 1) & mask;
      // The key at `next` may fill the hole unless its home lies cyclically in (hole, next].
      if (((next - home) & mask) < ((next - hole) & mask)) continue;
      keys.copyWithin(hole * KEY_WORDS, next * KEY_WORDS, next * KEY_WORDS + KEY_WORDS);
      snaps[hole] = snaps[next];
      used[hole] = used[next]!;
      hole = next;
    }
    keys.fill(0, hole * KEY_WORDS, hole * KEY_WORDS + KEY_WORDS);
    snaps[hole] = undefined;
    used[hole] = 0;
    this.count--;
  }

  /** Writes the key into its first free slot (the key is not held); returns the slot. */
  private place(tenant: number, words: Uint32Array, at: number): number {
    const { keys, mask } = this;
    let slot = hashOf(tenant, words, at) & mask;
    while (keys[slot * KEY_WORDS] !== 0) slot = (slot + 1) & mask;
    const k = slot * KEY_WORDS;
    keys[k] = tenant;
    for (let i = 0; i < 4; i++) keys[k + 1 + i] = words[at + i]!;
    return slot;
  }

  private grow(): void {
    const { keys, snaps, used } = this;
    const capacity = (this.mask + 1) * 2;
    this.keys = new Uint32Array(capacity * KEY_WORDS);
    this.snaps = new Array<PresenceSnapshot | undefined>(capacity).fill(undefined);
    this.used = new Uint8Array(capacity);
    this.mask = capacity - 1;
    for (let slot = 0; slot < snaps.length; slot++) {
      if (keys[slot * KEY_WORDS] === 0) continue;
      const to = this.place(keys[slot * KEY_WORDS]!, keys, slot * KEY_WORDS + 1);
      this.snaps[to] = snaps[slot];
      this.used[to] = used[slot]!;
    }
  }
}
