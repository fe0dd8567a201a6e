/**
 * Notifications: the tenant's subscriptions, every delivery attempt (attempts, status, latency, next retry, outcome)
 * and what the built-in sinks received; filtered by subscription and user (kept in the address).
 */
import { ErrorNote } from '../components/ErrorNote.tsx';
import { UserSelect } from '../components/UserSelect.tsx';
import { shortId } from '../lib/format.ts';
import { navigate } from '../lib/hashRoute.ts';
import { useStore } from '../lib/store.ts';
import { board } from '../state/board.ts';
import { DeliveriesTable } from './DeliveriesTable.tsx';
import { SinksPanel } from './SinksPanel.tsx';
import { SubscriptionsTable } from './SubscriptionsTable.tsx';
import { useNotifications } from './useNotifications.ts';

interface Filter {
  subscription: string | null;
  user: string | null;
}

function Totals({ deliveries }: { deliveries: { outcome: string }[] }) {
  const count = (o: string) => deliveries.filter((d) => d.outcome === o).length;
  return (
    <p class="totals" aria-label="Delivery totals">
      <span class="badge good">{count('delivered')} delivered</span>
      <span class="badge warn">{count('retry')} to retry</span>
      <span class="badge bad">{count('dropped')} dropped</span>
    </p>
  );
}

export function NotificationsView({ filter }: { filter: Filter }) {
  const tenantId = useStore(board, (s) => s.tenantId);
  const state = useNotifications(tenantId, filter);
  const set = (change: Partial<Filter>) => navigate({ name: 'notifications', ...filter, ...change }, true);
  const { subscriptions, deliveries, sinks } = state.data;
  return (
    <section class="notifications" aria-labelledby="notifications-title">
      <h1 id="notifications-title">Notifications</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter notifications">
        <label for="filter-subscription">Subscription</label>
        <select id="filter-subscription" value={filter.subscription ?? ''} onChange={(e) => set({ subscription: (e.target as HTMLSelectElement).value || null })}>
          <option value="">All subscriptions</option>
          {filter.subscription && !subscriptions.some((s) => s.id === filter.subscription) && <option value={filter.subscription}>{filter.subscription}</option>}
          {subscriptions.map((s) => <option key={s.id} value={s.id}>{shortId(s.id, 8)} — {s.resource}</option>)}
        </select>
        <label for="filter-user">User</label>
        <UserSelect id="filter-user" value={filter.user} anyLabel="All users" onChange={(user) => set({ user })} />
      </form>
      {state.status === 'error' && <ErrorNote title="Notifications could not be read" message={state.error} />}
      {state.status === 'loading' && <p class="placeholder" role="status">Reading notifications…</p>}
      {state.status !== 'loading' && (
        <>
          <h2>Subscriptions <span class="muted">{subscriptions.length}</span></h2>
          <SubscriptionsTable subscriptions={subscriptions} selected={filter.subscription} />
          <h2>Deliveries <span class="muted">{deliveries.length}</span></h2>
          <Totals deliveries={deliveries} />
          <DeliveriesTable deliveries={deliveries} />
          <h2>Sinks</h2>
          <SinksPanel sinks={sinks} />
        </>
      )}
    </section>
  );
}
