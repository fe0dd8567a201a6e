/**
 * Users' names for the stream's cards: the presence events carry ids only, and a card also shows the name and
 * userPrincipalName. Kept for the tenants a board was read or a stream opened for (the latest `maxTenants`), from
 * the same page of users those already read, and kept current by the directory's events; so a change costs no store
 * read. Bounded per tenant (NAMES_PER_TENANT). A user this node has no name for (created on another node, or past
 * what is kept of a large tenant) shows by id until it is read, which a miss starts in the background.
 */
import type { Store, User } from '../store/types.ts';
import { BoundedMap } from '../platform/recency.ts';
import type { Named } from './cards.ts';

/** The most names kept per tenant: the board's users and then some (docs/decisions.md#d-board-limit). */
export const NAMES_PER_TENANT = 20_000;

export class Names {
  /** tenant id → user id → names; the map's order is the order of use. */
  private readonly tenants = new Map<string, BoundedMap<string, Named>>();
  /** Tenants, and tenant/user pairs, being read in the background. */
  private readonly loading = new Set<string>();

  constructor(
    private readonly store: Pick<Store, 'listUserPage' | 'getUser'>,
    private readonly onError: (err: unknown) => void,
    private readonly maxTenants = 16,
  ) {}

  /** The tenant's users as just listed (at most NAMES_PER_TENANT of them are kept). */
  remember(tenantId: string, users: readonly User[]): void {
    const byId = new BoundedMap<string, Named>(NAMES_PER_TENANT);
    for (const u of users.slice(0, NAMES_PER_TENANT)) byId.set(u.id, named(u));
    this.tenants.delete(tenantId);
    if (this.tenants.size >= this.maxTenants) this.tenants.delete(this.tenants.keys().next().value!);
    this.tenants.set(tenantId, byId);
  }

  /** Lists the tenant's first users (a stream opened for it) unless they are kept already. */
  async load(tenantId: string): Promise<void> {
    if (this.tenants.has(tenantId)) return;
    this.remember(tenantId, await this.store.listUserPage(tenantId, null, NAMES_PER_TENANT));
  }

  added(user: User): void {
    const byId = this.tenants.get(user.tenantId);
    if (!byId) return;
    // Bounded: the name set longest ago goes first.
    byId.set(user.id, named(user));
  }

  removed(tenantId: string, userId: string): void {
    this.tenants.get(tenantId)?.delete(userId);
  }

  /**
   * The user's names, or the id alone: then, in the background, the tenant's first users are read (a tenant not held)
   * or the one user (a tenant held, of more users than are kept), so the next card has them.
   */
  of(tenantId: string, userId: string): Named {
    const byId = this.tenants.get(tenantId);
    const found = byId?.get(userId);
    if (found) return found;
    const key = byId ? `${tenantId}/${userId}` : tenantId;
    if (!this.loading.has(key)) {
      this.loading.add(key);
      const read = byId
        ? this.store.getUser(tenantId, userId).then((user) => { if (user) this.added(user); })
        : this.store.listUserPage(tenantId, null, NAMES_PER_TENANT).then((users) => this.remember(tenantId, users));
      read.catch(this.onError).finally(() => this.loading.delete(key));
    }
    return { id: userId, displayName: userId, userPrincipalName: '' };
  }
}

function named(u: User): Named {
  return { id: u.id, displayName: u.displayName, userPrincipalName: u.userPrincipalName };
}
