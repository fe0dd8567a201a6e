/**
 * Values by tenant and user, in the order they were last set (the least recently set first): the bounded per-user
 * memories on a write's path (the dashboard's timeline, SQLite's recent records) keep their users in one.
 *
 * Keyed by the two ids themselves, tenant → user, not by a key made of both: a concatenated key is a new string on
 * every call, which each lookup flattens and hashes in full (half of the timeline's cost per change, issue 13), where an
 * id arrives as the same string through a request and hashes once (docs/contributing/performance.md). The order is a
 * linked list through the entries (./recency.ts), so moving an entry last and dropping the oldest cost a few pointer
 * writes whatever the size.
 */
import { RecencyList, type Linked } from './recency.ts';

interface Entry<V> extends Linked<Entry<V>> {
  readonly tenantId: string;
  readonly userId: string;
  value: V;
}

export class TenantUserMap<V> {
  private readonly byTenant = new Map<string, Map<string, Entry<V>>>();
  /** Every entry, the least recently set first. */
  private readonly order = new RecencyList<Entry<V>>();

  get(tenantId: string, userId: string): V | undefined {
    return this.byTenant.get(tenantId)?.get(userId)?.value;
  }

  /** The value, now the most recently set; undefined (and nothing moved) if there is none. */
  touch(tenantId: string, userId: string): V | undefined {
    const entry = this.byTenant.get(tenantId)?.get(userId);
    if (!entry) return undefined;
    this.order.renew(entry);
    return entry.value;
  }

  /** Sets the user's value, the most recently set. */
  set(tenantId: string, userId: string, value: V): void {
    let users = this.byTenant.get(tenantId);
    if (!users) this.byTenant.set(tenantId, (users = new Map()));
    const entry = users.get(userId);
    if (entry) {
      entry.value = value;
      this.order.renew(entry);
      return;
    }
    const added: Entry<V> = { tenantId, userId, value, older: null, newer: null };
    users.set(userId, added);
    this.order.push(added);
  }

  /** Removes the user's value and answers it. */
  delete(tenantId: string, userId: string): V | undefined {
    const entry = this.byTenant.get(tenantId)?.get(userId);
    if (!entry) return undefined;
    this.remove(entry);
    return entry.value;
  }

  /** Removes the least recently set values while `more()`, handing each to `removed`. */
  dropOldest(more: () => boolean, removed?: (value: V) => void): void {
    while (more()) {
      const oldest = this.order.oldest;
      if (!oldest) return;
      this.remove(oldest);
      removed?.(oldest.value);
    }
  }

  get size(): number {
    return this.order.size;
  }

  private remove(entry: Entry<V>): void {
    this.order.remove(entry);
    const users = this.byTenant.get(entry.tenantId)!;
    users.delete(entry.userId);
    if (users.size === 0) this.byTenant.delete(entry.tenantId);
  }
}
