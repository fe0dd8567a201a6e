/** The tenant the page shows: the viewer's last pick (localStorage) when the server still has it, else its default. */
import type { Session } from '../api/types.ts';
import { Store } from '../lib/store.ts';

const KEY = 'presently.tenant';

export const tenant = new Store<string | null>(null);

export function chooseTenant(s: Session): void {
  let remembered: string | null = null;
  try {
    remembered = localStorage.getItem(KEY);
  } catch {
    // no storage: the default
  }
  const known = (id: string | null) => id !== null && s.tenants.some((t) => t.id === id);
  const current = tenant.get();
  tenant.set(known(current) ? current : known(remembered) ? remembered : s.defaultTenantId ?? s.tenants[0]?.id ?? null);
}

export function pickTenant(id: string): void {
  tenant.set(id);
  try {
    localStorage.setItem(KEY, id);
  } catch {
    // the pick lasts for this page only
  }
}
