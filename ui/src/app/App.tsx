/**
 * The page: the session decides between the admin-key form and the dashboard; the dashboard shows the chosen
 * tenant (its board read and its stream followed) in the view the address names.
 */
import { useEffect } from 'preact/hooks';
import { forgetAdminKey, adminKey } from '../api/adminKey.ts';
import { onUnauthorised } from '../api/http.ts';
import type { Session } from '../api/types.ts';
import { BoardView } from '../board/BoardView.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { ControlsView } from '../controls/ControlsView.tsx';
import { useRoute, type Route } from '../lib/hashRoute.ts';
import { useStore } from '../lib/store.ts';
import { NotificationsView } from '../notifications/NotificationsView.tsx';
import { showTenant } from '../state/board.ts';
import { unfollow } from '../state/live.ts';
import { loadSession, locked, session } from '../state/session.ts';
import { chooseTenant, tenant } from '../state/tenant.ts';
import { TimelineView } from '../timeline/TimelineView.tsx';
import { Header } from './Header.tsx';
import { AdminApiOff, KeyGate } from './KeyGate.tsx';

function View({ route }: { route: Route }) {
  switch (route.name) {
    case 'board': return <BoardView />;
    case 'user': return <TimelineView key={route.userId} userId={route.userId} />;
    case 'notifications': return <NotificationsView filter={route} />;
    case 'controls': return <ControlsView user={route.user} />;
  }
}

/** The skip link focuses the content without touching the address (its hash is the route). */
function skipToMain(e: Event): void {
  e.preventDefault();
  document.getElementById('main')?.focus();
}

function Dashboard({ session: s }: { session: Session }) {
  const route = useRoute();
  const current = useStore(tenant);
  useEffect(() => chooseTenant(s), [s]);
  useEffect(() => {
    if (current) void showTenant(current);
  }, [current]);
  return (
    <>
      <a class="skip" href="#main" onClick={skipToMain}>Skip to content</a>
      <Header route={route} session={s} />
      <main id="main" tabIndex={-1}>
        {current ? <View route={route} /> : <p class="placeholder">This server has no tenant yet.</p>}
      </main>
    </>
  );
}

export function App() {
  const state = useStore(session);
  useEffect(() => {
    void loadSession();
    return onUnauthorised(() => {
      unfollow();
      forgetAdminKey();
      void loadSession();
    });
  }, []);
  if (state.status === 'loading') return <p class="placeholder" role="status">Opening the dashboard…</p>;
  if (state.status === 'error') return <ErrorNote title="Presently did not answer" message={state.message} retry={() => void loadSession()} />;
  if (state.session.adminApi === 'off') return <AdminApiOff />;
  if (locked(state.session)) return <KeyGate refused={adminKey() !== null} />;
  return <Dashboard session={state.session} />;
}
