/**
 * The session: what the server says about this page's access (dev mode, or the admin key it needs), the tenants and
 * the clock. Loaded at start, and again when a key is entered or refused.
 */
import { getSession } from '../api/endpoints.ts';
import type { Session } from '../api/types.ts';
import { Store } from '../lib/store.ts';
import { setClock } from './clock.ts';

export type SessionState =
  | { status: 'loading' }
  | { status: 'error'; message: string }
  | { status: 'ready'; session: Session };

export const session = new Store<SessionState>({ status: 'loading' });

/** The admin key is needed and the server did not accept the one sent (or none was). */
export function locked(s: Session): boolean {
  return s.needsKey && s.clock === null;
}

export async function loadSession(): Promise<Session | null> {
  try {
    const value = await getSession();
    if (value.clock) setClock(value.clock);
    session.set({ status: 'ready', session: value });
    return value;
  } catch (err) {
    session.set({ status: 'error', message: (err as Error).message });
    return null;
  }
}
