/**
 * Bounded memories that forget their oldest entry: a doubly linked recency list, and a map built on it; and a map
 * that forgets in generations, for keys met once (TwoGenerationMap, at the end).
 *
 * Why not a Map or a Set alone, dropping `keys().next()`: V8 leaves a deleted entry's slot in the table until it is
 * rebuilt, and a new iterator walks every slot deleted before it. A memory at its limit deletes its first entry on every
 * insertion, so each insertion walked every earlier eviction since the last rebuild: 8–11 µs an insertion at 10,000
 * entries (issue 13: 8–12 % of a write's CPU at a million users, SQLite's recent records), growing with the limit. Here
 * moving an entry and dropping the oldest are a few pointer writes (docs/contributing/performance.md#no-first-key-eviction).
 */

/** What the list links: an entry carries its own two neighbours, so linking it allocates nothing. */
export interface Linked<E> {
  /** The entry set just before this one; null for the oldest. */
  older: E | null;
  /** The entry set just after this one; null for the newest. */
  newer: E | null;
}

/** Entries from the least to the most recently added. An entry is in one list at most. */
export class RecencyList<E extends Linked<E>> {
  oldest: E | null = null;
  newest: E | null = null;
  size = 0;

  /** Adds `entry` (not in the list) as the newest. */
  push(entry: E): void {
    entry.older = this.newest;
    entry.newer = null;
    if (this.newest) this.newest.newer = entry;
    else this.oldest = entry;
    this.newest = entry;
    this.size++;
  }

  /** Takes `entry` (in the list) out of it. */
  remove(entry: E): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    entry.older = entry.newer = null;
    this.size--;
  }

  /** Makes `entry` (in the list) the newest. */
  renew(entry: E): void {
    if (entry === this.newest) return;
    this.remove(entry);
    this.push(entry);
  }

  clear(): void {
    this.oldest = this.newest = null;
    this.size = 0;
  }
}

interface Slot<K, V> extends Linked<Slot<K, V>> {
  readonly key: K;
  value: V;
}

/**
 * A map of at most `limit` entries: setting a key makes it the newest, and a new key past the limit pushes the oldest
 * out. Reading does not reorder (the memories that use it keep what was set lately, not what was read).
 */
export class BoundedMap<K, V> {
  private readonly slots = new Map<K, Slot<K, V>>();
  private readonly order = new RecencyList<Slot<K, V>>();

  /** `limit` 0 or less: nothing is kept. */
  constructor(readonly limit: number) {}

  get size(): number {
    return this.slots.size;
  }

  get(key: K): V | undefined {
    return this.slots.get(key)?.value;
  }

  has(key: K): boolean {
    return this.slots.has(key);
  }

  /** Sets the value, now the newest; the oldest leaves when a new key goes past the limit. */
  set(key: K, value: V): void {
    const slot = this.slots.get(key);
    if (slot) {
      slot.value = value;
      this.order.renew(slot);
      return;
    }
    if (this.limit <= 0) return;
    const added: Slot<K, V> = { key, value, older: null, newer: null };
    this.slots.set(key, added);
    this.order.push(added);
    if (this.slots.size > this.limit) this.delete(this.order.oldest!.key);
  }

  /** True when the key was there. */
  delete(key: K): boolean {
    const slot = this.slots.get(key);
    if (!slot) return false;
    this.slots.delete(key);
    this.order.remove(slot);
    return true;
  }

  clear(): void {
    this.slots.clear();
    this.order.clear();
  }

  /** The key set least recently; undefined when empty. */
  oldestKey(): K | undefined {
    return this.order.oldest?.key;
  }

  /** The keys, oldest first. */
  *keys(): IterableIterator<K> {
    for (let slot = this.order.oldest; slot; slot = slot.newer) yield slot.key;
  }
}

/**
 * A memory of the keys used lately that never evicts one entry at a time: new keys go into a young map, and when it
 * holds `limit` the old map is dropped whole and the young one becomes the old. A key found only in the old map is
 * copied into the young one, so a key used at least once every `limit` new keys stays. It holds between `limit` and
 * twice `limit` entries (fewer only before the first turn).
 *
 * For object keys met once and seldom again, as a list's views at a million users (src/presence/render.ts): a
 * BoundedMap's eviction deletes its oldest key by its hash, which V8 keeps in the key object, long out of the CPU's
 * caches by then (a cache miss for every entry added); dropping a whole map reads none of its keys.
 */
export class TwoGenerationMap<K, V extends NonNullable<unknown> | null> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();

  /** `limit` 0 or less: nothing is kept. */
  constructor(readonly limit: number) {}

  get(key: K): V | undefined {
    const value = this.young.get(key);
    if (value !== undefined) return value;
    const older = this.old.get(key);
    if (older !== undefined) this.set(key, older);
    return older;
  }

  /** Sets the value in the young map; when that holds `limit`, the old map goes and the young one takes its place. */
  set(key: K, value: V): void {
    if (this.limit <= 0) return;
    this.young.set(key, value);
    if (this.young.size < this.limit) return;
    this.old = this.young;
    this.young = new Map();
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }
}
