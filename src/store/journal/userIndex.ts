/**
 * The journal's users, by (tenant id, user id) to their slot in the arena (./arena.ts) and back, kept in typed arrays
 * as the read cache keeps its users (src/presence/guidTable.ts, decision d-typed-read-cache): a user whose id is a
 * lower-case GUID costs its tenant's number and the GUID's 128 bits, no string and no map entry, so a million users
 * are not a million objects for a full garbage collection to mark. Other ids (a foreign identity provider's `oid`,
 * a GUID with capitals) are kept as strings in maps beside.
 *
 * The table is open addressing with linear probing over slot numbers, closed up on removal by shifting back the
 * entries after it, and doubled while it is more than half full.
 */
import { guidText, hashOf, readGuid } from '../../platform/json/guid.ts';

const EMPTY = -1;
/** A slot's tenant number when its user id is kept as a string (tenant numbers start at 1). */
const NAMED = 0x8000_0000;

export class UserIndex {
  /** Tenant numbers from 1, and their ids (index 0 unused). */
  private readonly tenantNumbers = new Map<string, number>();
  private readonly tenantIds: string[] = [''];
  /** Per slot: its tenant's number (with NAMED set for a string id) and its GUID's four words. */
  private slotTenant = new Uint32Array(1024);
  private slotWords = new Uint32Array(4 * 1024);
  /** The table: slot numbers, EMPTY where none. */
  private table = new Int32Array(2048).fill(EMPTY);
  private count = 0;
  /** Users whose id is no lower-case GUID: tenant → user → slot, and slot → user id. */
  private readonly named = new Map<string, Map<string, number>>();
  private readonly namedIds = new Map<number, string>();
  private readonly probe = new Uint32Array(4);

  /** The user's slot, or -1. */
  find(tenantId: string, userId: string): number {
    if (readGuid(userId, this.probe, 0) !== 0) return this.named.get(tenantId)?.get(userId) ?? -1;
    const tenant = this.tenantNumbers.get(tenantId);
    return tenant === undefined ? -1 : this.findGuid(tenant);
  }

  /** Records that `slot` holds the user (who must not be in the index). */
  add(tenantId: string, userId: string, slot: number): void {
    this.room(slot);
    const tenant = this.tenantNumber(tenantId);
    if (readGuid(userId, this.probe, 0) !== 0) {
      let users = this.named.get(tenantId);
      if (users === undefined) this.named.set(tenantId, (users = new Map()));
      users.set(userId, slot);
      this.namedIds.set(slot, userId);
      this.slotTenant[slot] = tenant | NAMED;
      return;
    }
    this.slotTenant[slot] = tenant;
    this.slotWords.set(this.probe, slot * 4);
    if (++this.count * 2 > this.table.length) this.grow();
    this.place(slot);
  }

  /** Forgets the user at `slot`. */
  remove(slot: number): void {
    const t = this.slotTenant[slot]!;
    if (t & NAMED) {
      const userId = this.namedIds.get(slot)!;
      const tenantId = this.tenantIds[t & ~NAMED]!;
      const users = this.named.get(tenantId)!;
      users.delete(userId);
      if (users.size === 0) this.named.delete(tenantId);
      this.namedIds.delete(slot);
      return;
    }
    const mask = this.table.length - 1;
    let i = this.home(t, slot);
    while (this.table[i] !== slot) i = (i + 1) & mask;
    // Backward-shift deletion: move each later entry of the run into the hole if its home allows.
    let hole = i;
    for (let j = (i + 1) & mask; this.table[j] !== EMPTY; j = (j + 1) & mask) {
      const s = this.table[j]!;
      const home = this.home(this.slotTenant[s]!, s);
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        this.table[hole] = s;
        hole = j;
      }
    }
    this.table[hole] = EMPTY;
    this.count--;
  }

  tenantOf(slot: number): string {
    return this.tenantIds[this.slotTenant[slot]! & ~NAMED]!;
  }

  userOf(slot: number): string {
    return this.slotTenant[slot]! & NAMED ? this.namedIds.get(slot)! : guidText(this.slotWords, slot * 4);
  }

  /** Orders two slots' users by tenant id, then user id, as strings compare (the GUIDs' words compare the same way). */
  compare(a: number, b: number): number {
    const [ta, tb] = [this.slotTenant[a]!, this.slotTenant[b]!];
    if ((ta & ~NAMED) !== (tb & ~NAMED)) return order(this.tenantIds[ta & ~NAMED]!, this.tenantIds[tb & ~NAMED]!);
    if ((ta | tb) & NAMED) return order(this.userOf(a), this.userOf(b));
    for (let i = 0; i < 4; i++) {
      const d = this.slotWords[a * 4 + i]! - this.slotWords[b * 4 + i]!;
      if (d !== 0) return d;
    }
    return 0;
  }

  private findGuid(tenant: number): number {
    const mask = this.table.length - 1;
    const p = this.probe;
    for (let i = hashOf(tenant, p, 0) & mask; ; i = (i + 1) & mask) {
      const s = this.table[i]!;
      if (s === EMPTY) return -1;
      const w = s * 4;
      const ws = this.slotWords;
      if (this.slotTenant[s] === tenant && ws[w] === p[0] && ws[w + 1] === p[1] && ws[w + 2] === p[2] && ws[w + 3] === p[3]) return s;
    }
  }

  private home(tenant: number, slot: number): number {
    return hashOf(tenant, this.slotWords, slot * 4) & (this.table.length - 1);
  }

  private place(slot: number): void {
    const mask = this.table.length - 1;
    let i = this.home(this.slotTenant[slot]!, slot);
    while (this.table[i] !== EMPTY) i = (i + 1) & mask;
    this.table[i] = slot;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2).fill(EMPTY);
    for (const s of old) if (s !== EMPTY) this.place(s);
  }

  private room(slot: number): void {
    if (slot < this.slotTenant.length) return;
    let n = this.slotTenant.length;
    while (n <= slot) n *= 2;
    const tenants = new Uint32Array(n);
    tenants.set(this.slotTenant);
    const words = new Uint32Array(4 * n);
    words.set(this.slotWords);
    [this.slotTenant, this.slotWords] = [tenants, words];
  }

  private tenantNumber(tenantId: string): number {
    let n = this.tenantNumbers.get(tenantId);
    if (n === undefined) {
      n = this.tenantIds.length;
      this.tenantIds.push(tenantId);
      this.tenantNumbers.set(tenantId, n);
    }
    return n;
  }
}

const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
