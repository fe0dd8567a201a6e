/** The tenant's subscriptions: resource, change type, endpoints, expiry (counting down) and lifecycle state. */
import type { Subscription } from '../api/types.ts';
import { When } from '../components/Countdown.tsx';
import { parseIso, shortId } from '../lib/format.ts';
import { href } from '../lib/hashRoute.ts';
import { useNames } from '../state/board.ts';

const STATE_TONE: Record<string, string> = { active: 'good', expired: 'muted', reauthorizationRequired: 'warn' };

function Users({ s }: { s: Subscription }) {
  const nameOf = useNames();
  const names = s.userIds.slice(0, 3).map((id) => nameOf(id) ?? shortId(id));
  const more = s.userCount - names.length;
  return <span title={s.userIds.map((id) => nameOf(id) ?? id).join(', ')}>{names.join(', ')}{more > 0 && ` +${more}`}</span>;
}

export function SubscriptionsTable({ subscriptions, selected }: { subscriptions: Subscription[]; selected: string | null }) {
  if (subscriptions.length === 0) return <p class="placeholder">No subscription in this tenant.</p>;
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label="Subscriptions table">
      <table>
        <thead>
          <tr><th scope="col">Subscription</th><th scope="col">Resource</th><th scope="col">Users</th><th scope="col">Change</th><th scope="col">Notification URL</th><th scope="col">App</th><th scope="col">Expires</th><th scope="col">State</th></tr>
        </thead>
        <tbody>
          {subscriptions.map((s) => {
            const expires = parseIso(s.expirationDateTime);
            return (
              <tr key={s.id} class={s.id === selected ? 'selected' : undefined}>
                <td><a href={href({ name: 'notifications', subscription: s.id, user: null })} title={s.id}><code>{shortId(s.id, 8)}</code></a></td>
                <td class="wrap"><code>{s.resource}</code></td>
                <td><Users s={s} /></td>
                <td>{s.changeType}</td>
                <td class="wrap"><code>{s.notificationUrl}</code>{s.lifecycleNotificationUrl && <><br /><span class="muted">lifecycle </span><code>{s.lifecycleNotificationUrl}</code></>}</td>
                <td><code title={s.appId}>{shortId(s.appId)}</code></td>
                <td>{expires !== null ? <When at={expires} /> : '—'}</td>
                <td><span class={`badge ${STATE_TONE[s.state] ?? 'bad'}`}>{s.state}</span></td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
