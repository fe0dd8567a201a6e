/**
 * The tenant segment of an authority URL, as Entra ID reads it: a tenant id, or `common` / `organizations` (any work
 * or school tenant; the user's own decides). `consumers` (personal Microsoft accounts) is refused: the presence API
 * serves work and school accounts only.
 */
import { isGuid } from '../platform/json/validate.ts';
import type { Store, User } from '../store/types.ts';
import { invalidGrant, invalidRequest } from './errors.ts';

export const MULTI_TENANT = ['common', 'organizations'] as const;

export function isMultiTenant(tenant: string): boolean {
  return (MULTI_TENANT as readonly string[]).includes(tenant);
}

/** The segment, lower-case; AADSTS90002 unless it names an existing tenant or is `common`/`organizations`. */
export async function readTenant(store: Pick<Store, 'getTenant'>, segment: string): Promise<string> {
  const tenant = segment.toLowerCase();
  if (isMultiTenant(tenant)) return tenant;
  if (tenant === 'consumers') {
    throw invalidRequest(9002331, 'Application is configured for use by Microsoft Account users only: this authority serves work and school accounts only (use a tenant id, common or organizations).');
  }
  if (!isGuid(tenant) || !(await store.getTenant(tenant))) {
    throw invalidRequest(90002, `Tenant '${segment.slice(0, 100)}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Tenants: GET /_presently/tenants/{tid}/users lists a tenant's users; the demo tenant is seeded on first start.`);
  }
  return tenant;
}

/** The user signs in at this tenant: any at `common`/`organizations`, else only a user of that tenant. */
export function requireUserInTenant(user: User, tenant: string): void {
  if (isMultiTenant(tenant) || user.tenantId.toLowerCase() === tenant) return;
  throw invalidGrant(50034, `The user account ${user.userPrincipalName} does not exist in the ${tenant} directory. To sign into this application, the account must be added to the directory.`);
}
