/**
 * The latest presence snapshot of each user, in memory, bounded (see ./service.ts for when it is used).
 *
 * Eviction is CLOCK, the usual cheap stand-in for least-recently-used: a hit only sets the entry's `used` mark; when
 * the cache is full and a new user comes in, the oldest entry of a tenant goes, unless it was used since it was last
 * looked at, in which case it loses the mark and goes to the back. So users read or written lately stay, one user
 * leaves for each that comes in, and the hit rate past the limit falls off gradually (limit ÷ users for reads spread
 * evenly over all users) instead of collapsing: the cache used to empty itself whole at the limit, and then a
 * generation at a time. While a directory fits the limit, nothing is ever evicted, so a cache filled at start
 * (`fill`) keeps every user. A hit is one map lookup and one write: a 650-id read stays 650 lookups.
 *
 * Users are kept per tenant (the key is the user id as the request gave it, no concatenation per lookup); the
 * eviction hand takes tenants in turn.
 */
import type { PresenceSnapshot } from '../store/types.ts';

interface Entry {
  snap: PresenceSnapshot;
  /** Read or written since the hand last passed. */
  used: boolean;
}

export class SnapshotCache {
  private readonly tenants = new Map<string, Map<string, Entry>>();
  private held = 0;
  /** The eviction hand: where it is among the tenants. */
  private hand: Iterator<[string, Map<string, Entry>]> = this.tenants.entries();

  /** `limit`: the most snapshots held. */
  constructor(readonly limit: number) {}

  get(tenantId: string, userId: string): PresenceSnapshot | undefined {
    const entry = this.tenants.get(tenantId)?.get(userId);
    if (!entry) return undefined;
    entry.used = true;
    return entry.snap;
  }

  /** Keeps `snapshot` as the user's latest, making room when the cache is full. */
  set(tenantId: string, userId: string, snapshot: PresenceSnapshot): void {
    const users = this.usersOf(tenantId);
    const entry = users.get(userId);
    if (entry) {
      entry.snap = snapshot;
      entry.used = true;
      return;
    }
    if (this.held >= this.limit) this.evictOne();
    users.set(userId, { snap: snapshot, used: false });
    this.held++;
  }

  /**
   * Adds a user not held yet while there is room, evicting nobody (the start-up fill and new users): false once the
   * cache is full. A user already held keeps the snapshot they have, which is never older than the one offered.
   */
  fill(tenantId: string, userId: string, snapshot: PresenceSnapshot): boolean {
    const users = this.usersOf(tenantId);
    if (users.has(userId)) return true;
    if (this.held >= this.limit) return false;
    users.set(userId, { snap: snapshot, used: false });
    this.held++;
    return true;
  }

  delete(tenantId: string, userId: string): void {
    if (this.tenants.get(tenantId)?.delete(userId)) this.held--;
  }

  /** Snapshots held: at most `limit`. */
  get size(): number {
    return this.held;
  }

  private usersOf(tenantId: string): Map<string, Entry> {
    let users = this.tenants.get(tenantId);
    if (!users) this.tenants.set(tenantId, (users = new Map()));
    return users;
  }

  /** Drops one entry: the first unused one at the hand, after moving the used ones it passes to the back. */
  private evictOne(): void {
    const users = this.nextTenant();
    if (!users) return;
    // A map iterates in insertion order, and an entry deleted and set again goes to the end: the hand is the front.
    for (const [userId, entry] of users) {
      users.delete(userId);
      if (entry.used) {
        entry.used = false;
        users.set(userId, entry);
        continue;
      }
      this.held--;
      return;
    }
  }

  /** The next tenant with users, in turn (a live iterator over the tenants); an empty tenant's map is dropped. */
  private nextTenant(): Map<string, Entry> | undefined {
    for (let restarted = false; ;) {
      const next = this.hand.next();
      if (next.done) {
        if (restarted || this.tenants.size === 0) return undefined;
        this.hand = this.tenants.entries();
        restarted = true;
        continue;
      }
      const [id, users] = next.value;
      if (users.size > 0) return users;
      this.tenants.delete(id);
    }
  }
}
