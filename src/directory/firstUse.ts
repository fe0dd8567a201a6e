/**
 * Tenants and users made on first use (`--auth oidc`, docs/operations/auth.md): a verified token of a tenant or user
 * Presently has not seen creates them, from `tid`, `oid`, `name` and `preferred_username`, so no directory sync is
 * needed. Each tenant and user is looked up in the store once per process (then remembered), so a request costs no
 * store access; concurrent first calls of one user share one lookup.
 */
import type { CallerProfile } from '../auth/oidc/verifier.ts';
import type { Principal } from '../auth/types.ts';
import { UpnTaken } from '../store/errors.ts';
import type { Store } from '../store/types.ts';
import type { Directory } from './directory.ts';
import { BoundedMap } from '../platform/recency.ts';

/** Remembered ids at most; beyond it the oldest are looked up again on their next verified token. */
const MAX_KNOWN = 100_000;

const UPN = /^[^@\s]+@[^@\s]+$/;

export class FirstUse {
  private readonly known = new BoundedMap<string, Promise<void>>(MAX_KNOWN);

  constructor(
    private readonly store: Store,
    private readonly directory: Pick<Directory, 'putUser'>,
  ) {}

  /** Makes sure the principal's tenant and (delegated) user exist. */
  async ensure(principal: Principal, profile: CallerProfile): Promise<void> {
    await this.once(`t:${principal.tenantId}`, () => this.ensureTenant(principal.tenantId));
    const userId = principal.userId;
    if (principal.kind === 'delegated' && userId !== null) {
      await this.once(`u:${principal.tenantId}:${userId}`, () => this.ensureUser(principal.tenantId, userId, profile));
    }
  }

  /** A user deleted through the admin API is created again on their next call. */
  forget(tenantId: string, userId: string): void {
    this.known.delete(`u:${tenantId}:${userId}`);
  }

  private once(key: string, make: () => Promise<void>): Promise<void> {
    let pending = this.known.get(key);
    if (pending === undefined) {
      pending = make().catch((err: unknown) => {
        this.known.delete(key);
        throw err;
      });
      this.known.set(key, pending);
    }
    return pending;
  }

  private async ensureTenant(tenantId: string): Promise<void> {
    if (!(await this.store.getTenant(tenantId))) await this.store.putTenant({ id: tenantId, displayName: tenantId });
  }

  private async ensureUser(tenantId: string, userId: string, profile: CallerProfile): Promise<void> {
    if (await this.store.getUser(tenantId, userId)) return;
    // A user principal name is unique across tenants; a token without one, or with one another user holds (a user
    // deleted and made again in Entra ID gets a new object id), gets a stand-in made of its ids.
    const standIn = `${userId}@${tenantId}`;
    const upn = profile.userPrincipalName !== undefined && UPN.test(profile.userPrincipalName) ? profile.userPrincipalName : standIn;
    const user = { tenantId, id: userId, displayName: profile.displayName ?? upn, userPrincipalName: upn };
    try {
      await this.directory.putUser(user);
    } catch (err) {
      if (!(err instanceof UpnTaken) || upn === standIn) throw err;
      await this.directory.putUser({ ...user, userPrincipalName: standIn });
    }
  }
}
