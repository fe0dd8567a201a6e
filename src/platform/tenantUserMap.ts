/**
 * Values by tenant and user, in the order they were last set (the least recently set first): the bounded per-user
 * memories on a write's path (the dashboard's timeline, SQLite's recent records) keep their users in one.
 *
 * Keyed by the two ids themselves, tenant → user, not by a key made of both: a concatenated key is a new string on
 * every call, which each lookup flattens and hashes in full (half of the timeline's cost per change, issue 13), where an
 * id arrives as the same string through a request and hashes once (docs/contributing/performance.md). The order is a
 * Set of the entries, so moving an entry last is a delete and an add by object identity.
 */

interface Entry<V> {
  readonly tenantId: string;
  readonly userId: string;
  value: V;
}

export class TenantUserMap<V> {
  private readonly byTenant = new Map<string, Map<string, Entry<V>>>();
  /** Every entry, the least recently set first. */
  private readonly order = new Set<Entry<V>>();

  get(tenantId: string, userId: string): V | undefined {
    return this.byTenant.get(tenantId)?.get(userId)?.value;
  }

  /** The value, now the most recently set; undefined (and nothing moved) if there is none. */
  touch(tenantId: string, userId: string): V | undefined {
    const entry = this.byTenant.get(tenantId)?.get(userId);
    if (!entry) return undefined;
    this.order.delete(entry);
    this.order.add(entry);
    return entry.value;
  }

  /** Sets the user's value, the most recently set. */
  set(tenantId: string, userId: string, value: V): void {
    let users = this.byTenant.get(tenantId);
    if (!users) this.byTenant.set(tenantId, (users = new Map()));
    const entry = users.get(userId);
    if (entry) {
      entry.value = value;
      this.order.delete(entry);
      this.order.add(entry);
      return;
    }
    const added = { tenantId, userId, value };
    users.set(userId, added);
    this.order.add(added);
  }

  /** Removes the user's value and answers it. */
  delete(tenantId: string, userId: string): V | undefined {
    const entry = this.byTenant.get(tenantId)?.get(userId);
    if (!entry) return undefined;
    this.remove(entry);
    return entry.value;
  }

  /**
   * Removes the least recently set values while `more()`, handing each to `removed`, walking the order with ONE
   * iterator: a Set keeps deleted slots until it is rebuilt, and a fresh iterator walks over them, so removing one
   * value per call at a limit cost a walk over every earlier removal (24 µs a change at 50,000 users, issue 13).
   */
  dropOldest(more: () => boolean, removed?: (value: V) => void): void {
    const oldest = this.order.values();
    while (more()) {
      const next = oldest.next();
      if (next.done) return;
      this.remove(next.value);
      removed?.(next.value.value);
    }
  }

  get size(): number {
    return this.order.size;
  }

  private remove(entry: Entry<V>): void {
    this.order.delete(entry);
    const users = this.byTenant.get(entry.tenantId)!;
    users.delete(entry.userId);
    if (users.size === 0) this.byTenant.delete(entry.tenantId);
  }
}
