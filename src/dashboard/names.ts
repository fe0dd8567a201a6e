/**
 * Users' names for the stream's cards: the presence events carry ids only, and a card also shows the name and
 * userPrincipalName. Kept for the tenants a board was read or a stream opened for (the latest `maxTenants`), from
 * the same listUsers those already make, and kept current by the directory's events; so a change costs no store
 * read. A user this node has no name for (created on another node) shows by id until the tenant is read again, which a
 * miss starts in the background.
 */
import type { Store, User } from '../store/types.ts';
import type { Named } from './cards.ts';

export class Names {
  /** tenant id → user id → names; the map's order is the order of use. */
  private readonly tenants = new Map<string, Map<string, Named>>();
  private readonly loading = new Set<string>();

  constructor(
    private readonly store: Pick<Store, 'listUsers'>,
    private readonly onError: (err: unknown) => void,
    private readonly maxTenants = 16,
  ) {}

  /** The tenant's users as just listed. */
  remember(tenantId: string, users: readonly User[]): void {
    const byId = new Map<string, Named>();
    for (const u of users) byId.set(u.id, { id: u.id, displayName: u.displayName, userPrincipalName: u.userPrincipalName });
    this.tenants.delete(tenantId);
    if (this.tenants.size >= this.maxTenants) this.tenants.delete(this.tenants.keys().next().value!);
    this.tenants.set(tenantId, byId);
  }

  /** Lists the tenant's users (a stream opened for it) unless they are kept already. */
  async load(tenantId: string): Promise<void> {
    if (this.tenants.has(tenantId)) return;
    this.remember(tenantId, await this.store.listUsers(tenantId));
  }

  added(user: User): void {
    this.tenants.get(user.tenantId)?.set(user.id, { id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName });
  }

  removed(tenantId: string, userId: string): void {
    this.tenants.get(tenantId)?.delete(userId);
  }

  /** The user's names, or the id alone (and the tenant read again in the background). */
  of(tenantId: string, userId: string): Named {
    const named = this.tenants.get(tenantId)?.get(userId);
    if (named) return named;
    if (!this.loading.has(tenantId)) {
      this.loading.add(tenantId);
      this.store.listUsers(tenantId)
        .then((users) => this.remember(tenantId, users), this.onError)
        .finally(() => this.loading.delete(tenantId));
    }
    return { id: userId, displayName: userId, userPrincipalName: '' };
  }
}
