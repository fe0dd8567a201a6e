/**
 * The latest presence snapshot of each user, in memory, bounded (see ./service.ts for when it is used).
 *
 * Users are kept in a typed-array hash table (./guidTable.ts): a key is the tenant's number and the user GUID's 128
 * bits, so a cached user costs no key string, map entry or wrapper object, and a lookup at a million users touches
 * two places in memory instead of four (decision d-typed-read-cache in docs/decisions.md). A user id that is not a
 * GUID (a foreign identity provider's `oid`) is kept in a plain map beside it.
 *
 * Eviction is CLOCK, the usual cheap stand-in for least-recently-used: a hit only sets the slot's `used` mark; when
 * the cache is full and a new user comes in, a hand sweeps the table's slots and takes the first user not used since
 * it last passed, clearing the marks it passes. So users read or written lately stay, one user leaves for each that
 * comes in, and the hit rate past the limit falls off gradually (limit ÷ users for reads spread evenly over all
 * users) instead of collapsing. While a directory fits the limit, nothing is ever evicted, so a cache filled at start
 * (`fill`) keeps every user. A hit is one parse of the id, one probe and one write at most.
 *
 * The table keeps a snapshot's parts, not the object: a read gets a new PresenceSnapshot, equal to the one last set
 * (its view the same object), each time. A snapshot whose sequence number formatSequence would not make (none does in
 * practice; a test's may) is not kept: its user's reads go to the store.
 */
import type { PresenceSnapshot } from '../store/types.ts';
import { formatSequence, sequenceValue } from '../domain/record.ts';
import { NOT_A_GUID, readGuid } from '../platform/json/guid.ts';
import { BoundedMap } from '../platform/recency.ts';
import { DUE, GuidTable, SEQ, SLOT_NUMS, SLOT_WORDS, USED } from './guidTable.ts';

/** Formatted sequence numbers remembered (a power of two). */
const SEQ_TEXTS = 1_024;

export class SnapshotCache {
  private table: GuidTable;
  /**
   * Users whose id is not a GUID, by `tenant\nuser`, oldest first: a list, not a Map's first key, as it may hold up to
   * `limit` (docs/contributing/performance.md#no-first-key-eviction).
   */
  private readonly others: BoundedMap<string, PresenceSnapshot>;
  /** Tenant numbers (from 1: 0 marks an empty slot), given out as tenants first come in. */
  private readonly tenantNumbers = new Map<string, number>();
  /** The last tenant looked up and its number: a 650-id read asks for one tenant 650 times. */
  private lastTenant: string | null = null;
  private lastNumber = 0;
  /** The GUID being looked up (one buffer: every method is synchronous). */
  private readonly probe = new Uint32Array(4);
  /** Slot numbers of a getGuids (grown as needed). */
  private slots = new Int32Array(0);
  /** The CLOCK hand: the next slot it looks at. */
  private hand = 0;
  /** Sequence numbers formatted lately, and their text (sequenceText). */
  private readonly seqNumbers = new Float64Array(SEQ_TEXTS).fill(NaN);
  private readonly seqTexts = new Array<string>(SEQ_TEXTS).fill('');
  /** Where getGuids puts what its passes read, so that the reads are not optimised away. */
  private touched = 0;

  /** `limit`: the most snapshots held. */
  constructor(readonly limit: number) {
    this.table = new GuidTable(limit);
    this.others = new BoundedMap(limit);
  }

  get(tenantId: string, userId: string): PresenceSnapshot | undefined {
    if (readGuid(userId, this.probe, 0) === NOT_A_GUID) return this.others.get(otherKey(tenantId, userId));
    return this.getGuid(tenantId, this.probe, 0);
  }

  /** `get` of the user whose GUID is in `words[at .. at + 3]` (already read: src/platform/json/guid.ts readGuid). */
  private getGuid(tenantId: string, words: Uint32Array, at: number): PresenceSnapshot | undefined {
    const tenant = this.tenantNumber(tenantId, false);
    if (tenant === 0) return undefined;
    const slot = this.table.find(tenant, words, at);
    return slot < 0 ? undefined : this.snapshotAt(slot);
  }

  /** The snapshot of the user at `slot`, marked used. */
  private snapshotAt(slot: number): PresenceSnapshot {
    const { words, nums, views } = this.table;
    // Written only when it changes: a read then leaves the slot's memory clean (a million users read at random).
    if (words[slot * SLOT_WORDS + USED] === 0) words[slot * SLOT_WORDS + USED] = 1;
    const due = nums[slot * SLOT_NUMS + DUE]!;
    return { view: views[slot]!, sequenceNumber: this.sequenceText(nums[slot * SLOT_NUMS + SEQ]!), dueAt: Number.isNaN(due) ? null : due };
  }

  /**
   * formatSequence(seq), remembered in a small table by the number's low bits with the texts of the latest sets: users
   * created together share their first sequence number, a user read is often one just written, and formatting a number
   * costs more than a lookup (a 16-digit number to a string).
   */
  private sequenceText(seq: number): string {
    const at = (seq >>> 0) & (SEQ_TEXTS - 1);
    if (this.seqNumbers[at] === seq) return this.seqTexts[at]!;
    const text = formatSequence(seq);
    this.remember(seq, text);
    return text;
  }

  private remember(seq: number, text: string): void {
    const at = (seq >>> 0) & (SEQ_TEXTS - 1);
    this.seqNumbers[at] = seq;
    this.seqTexts[at] = text;
  }

  /**
   * `getGuid` of `count` users at once, their snapshots (or undefined) into `into`: the lookups in passes (see
   * ./guidTable.ts findAll), each pass's memory reads overlapping. Two more read each user's view, its element of the
   * table's array of views, then the object with its status message, before anything renders them (./render.ts): at a
   * million users each is a cache miss (docs/contributing/performance.md, "Memory read at random is read in passes").
   */
  getGuids(tenantId: string, words: Uint32Array, count: number, into: Array<PresenceSnapshot | undefined>): void {
    const tenant = this.tenantNumber(tenantId, false);
    if (tenant === 0) return;
    const slots = this.slotsFor(count);
    const { views } = this.table;
    this.table.findAll(tenant, words, count, slots);
    let touched = 0;
    for (let i = 0; i < count; i++) {
      const slot = slots[i]!;
      if (slot >= 0 && views[slot] === undefined) touched++;
    }
    for (let i = 0; i < count; i++) {
      const slot = slots[i]!;
      if (slot >= 0) into[i] = this.snapshotAt(slot);
    }
    for (let i = 0; i < count; i++) {
      const message = into[i]?.view.statusMessage;
      if (message) touched += message.content.length;
    }
    this.touched = touched;
  }

  /** Keeps `snapshot` as the user's latest, making room when the cache is full. */
  set(tenantId: string, userId: string, snapshot: PresenceSnapshot): void {
    this.put(tenantId, userId, snapshot, true);
  }

  /**
   * Adds a user not held yet while there is room, evicting nobody (the start-up fill and new users): false once the
   * cache is full. A user already held keeps the snapshot they have, which is never older than the one offered.
   */
  fill(tenantId: string, userId: string, snapshot: PresenceSnapshot): boolean {
    return this.put(tenantId, userId, snapshot, false);
  }

  delete(tenantId: string, userId: string): void {
    if (readGuid(userId, this.probe, 0) === NOT_A_GUID) {
      this.others.delete(otherKey(tenantId, userId));
      return;
    }
    const slot = this.table.find(this.tenantNumber(tenantId, false), this.probe, 0);
    if (slot >= 0) this.table.removeAt(slot);
  }

  /** Drops every snapshot (a shared store's changes may have gone untold: ./cacheCoherence.ts). */
  clear(): void {
    this.table = new GuidTable(this.limit);
    this.others.clear();
    this.hand = 0;
  }

  /** Snapshots held: at most `limit`. */
  get size(): number {
    return this.table.count + this.others.size;
  }

  /**
   * `replace`: a set (a held user takes the new snapshot, and a full cache evicts one user); otherwise a fill (a held
   * user keeps theirs, and a full cache takes nobody). False only for a fill refused for want of room.
   */
  private put(tenantId: string, userId: string, snapshot: PresenceSnapshot, replace: boolean): boolean {
    if (readGuid(userId, this.probe, 0) === NOT_A_GUID) {
      const key = otherKey(tenantId, userId);
      if (this.others.has(key)) {
        if (replace) this.others.delete(key);
        else return true;
      } else if (this.size >= this.limit) {
        if (!replace) return false;
        this.evictOne();
      }
      this.others.set(key, snapshot);
      return true;
    }
    const tenant = this.tenantNumber(tenantId, true);
    const table = this.table;
    const slot = table.find(tenant, this.probe, 0);
    const seq = sequenceValue(snapshot.sequenceNumber);
    const due = snapshot.dueAt ?? NaN;
    if (Number.isNaN(seq)) {
      // Not kept (see above); nor may an older snapshot of the user stay.
      if (replace && slot >= 0) table.removeAt(slot);
      return true;
    }
    // The text at hand is what a read would format: the next read of this user needs no formatting.
    this.remember(seq, snapshot.sequenceNumber);
    if (slot >= 0) {
      if (replace) {
        table.setAt(slot, snapshot.view, seq, due);
        table.words[slot * SLOT_WORDS + USED] = 1;
      }
      return true;
    }
    if (this.size >= this.limit) {
      if (!replace) return false;
      this.evictOne();
      // The probe buffer still holds the key: eviction works on slots only.
    }
    table.insert(tenant, this.probe, 0, snapshot.view, seq, due, false);
    return true;
  }

  private slotsFor(count: number): Int32Array {
    if (this.slots.length < count) this.slots = new Int32Array(count);
    return this.slots;
  }

  /** The tenant's number in the table's keys; with `add`, an unknown tenant gets one, otherwise 0 (matching no key). */
  private tenantNumber(tenantId: string, add: boolean): number {
    if (tenantId === this.lastTenant) return this.lastNumber;
    let number = this.tenantNumbers.get(tenantId);
    if (number === undefined) {
      if (!add) return 0;
      this.tenantNumbers.set(tenantId, (number = this.tenantNumbers.size + 1));
    }
    this.lastTenant = tenantId;
    this.lastNumber = number;
    return number;
  }

  /** Drops one user: the first at the hand not used since the hand last passed (or the oldest non-GUID user). */
  private evictOne(): void {
    const table = this.table;
    if (table.count === 0) {
      const oldest = this.others.oldestKey();
      if (oldest !== undefined) this.others.delete(oldest);
      return;
    }
    // Two sweeps at most: the first clears every mark it passes.
    for (;;) {
      const slot = this.hand;
      this.hand = (slot + 1) & table.mask;
      const k = slot * SLOT_WORDS;
      if (table.words[k] === 0) continue;
      if (table.words[k + USED] === 1) {
        table.words[k + USED] = 0;
        continue;
      }
      table.removeAt(slot);
      return;
    }
  }
}

const otherKey = (tenantId: string, userId: string) => `${tenantId}\n${userId}`;
