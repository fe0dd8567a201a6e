/**
 * The admin key outside dev mode [P: d-dashboard-access]: asked for once, kept in sessionStorage (gone when the tab
 * closes), sent as `Authorization: Bearer <key>` on every call to the admin API.
 */
const KEY = 'presently.adminKey';

export function adminKey(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveAdminKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function forgetAdminKey(): void {
  sessionStorage.removeItem(KEY);
}

/** The Authorization header for the admin API, when a key is kept. */
export function adminHeaders(): Record<string, string> {
  const key = adminKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}
