/**
 * The latest presence snapshot of each user, in memory, bounded (see ./service.ts for when it is used).
 *
 * Eviction is CLOCK, the usual cheap stand-in for least-recently-used: a hit only sets the entry's `used` mark; when
 * the cache is full and a new user comes in, a hand sweeps each tenant's users in the order they came in and takes the
 * first one not used since it last passed, clearing the marks it passes. So users read or written lately stay, one
 * user leaves for each that comes in, and the hit rate past the limit falls off gradually (limit ÷ users for reads
 * spread evenly over all users) instead of collapsing: the cache used to empty itself whole at the limit, and then a
 * generation at a time. While a directory fits the limit, nothing is ever evicted, so a cache filled at start
 * (`fill`) keeps every user. A hit is one map lookup and one write: a 650-id read stays 650 lookups.
 *
 * The hand is a live iterator that goes on from where it stopped: a map keeps a deleted entry's slot until it next
 * grows or shrinks, so starting from the front on every eviction would step over every slot freed since (tens of
 * thousands at a 200,000-user limit). Users are kept per tenant (the key is the user id as the request gave it, no
 * concatenation per lookup); the hand takes tenants in turn.
 */
import type { PresenceSnapshot } from '../store/types.ts';

interface Entry {
  snap: PresenceSnapshot;
  /** Read or written since the hand last passed. */
  used: boolean;
}

interface TenantUsers {
  users: Map<string, Entry>;
  /** Where this tenant's hand is; null before its first sweep. */
  hand: Iterator<[string, Entry]> | null;
}

export class SnapshotCache {
  private readonly tenants = new Map<string, TenantUsers>();
  private held = 0;
  /** Which tenant gives up a user next: a live iterator over the tenants. */
  private turn: Iterator<[string, TenantUsers]> = this.tenants.entries();

  /** `limit`: the most snapshots held. */
  constructor(readonly limit: number) {}

  get(tenantId: string, userId: string): PresenceSnapshot | undefined {
    const entry = this.tenants.get(tenantId)?.users.get(userId);
    if (!entry) return undefined;
    // Written only when it changes: a read then leaves the entry's memory clean (a million users read at random).
    if (!entry.used) entry.used = true;
    return entry.snap;
  }

  /** Keeps `snapshot` as the user's latest, making room when the cache is full. */
  set(tenantId: string, userId: string, snapshot: PresenceSnapshot): void {
    const { users } = this.tenantOf(tenantId);
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
    const { users } = this.tenantOf(tenantId);
    if (users.has(userId)) return true;
    if (this.held >= this.limit) return false;
    users.set(userId, { snap: snapshot, used: false });
    this.held++;
    return true;
  }

  delete(tenantId: string, userId: string): void {
    if (this.tenants.get(tenantId)?.users.delete(userId)) this.held--;
  }

  /** Snapshots held: at most `limit`. */
  get size(): number {
    return this.held;
  }

  private tenantOf(tenantId: string): TenantUsers {
    let tenant = this.tenants.get(tenantId);
    if (!tenant) this.tenants.set(tenantId, (tenant = { users: new Map(), hand: null }));
    return tenant;
  }

  /** Drops one user: the first at the hand of the next tenant not used since the hand last passed. */
  private evictOne(): void {
    const tenant = this.nextTenant();
    if (!tenant) return;
    // Two sweeps at most: the first clears every mark it passes.
    for (let restarts = 0; restarts < 3;) {
      const next = tenant.hand?.next();
      if (!next || next.done) {
        tenant.hand = tenant.users.entries();
        restarts++;
        continue;
      }
      const [userId, entry] = next.value;
      if (entry.used) {
        entry.used = false;
        continue;
      }
      tenant.users.delete(userId);
      this.held--;
      return;
    }
  }

  /** The next tenant with users, in turn; an empty tenant is dropped on the way. */
  private nextTenant(): TenantUsers | undefined {
    for (let restarted = false; ;) {
      const next = this.turn.next();
      if (next.done) {
        if (restarted || this.tenants.size === 0) return undefined;
        this.turn = this.tenants.entries();
        restarted = true;
        continue;
      }
      const [id, tenant] = next.value;
      if (tenant.users.size > 0) return tenant;
      this.tenants.delete(id);
    }
  }
}
