/**
 * Delivery attempts, newest first: one row per POST (or drop) with its attempt number, HTTP status, latency,
 * outcome and, for a retry, when the next attempt is due.
 */
import { useState } from 'preact/hooks';
import type { Delivery } from '../api/types.ts';
import { When } from '../components/Countdown.tsx';
import { formatDateTime, formatWhen, parseIso, shortId } from '../lib/format.ts';
import { useNames } from '../state/board.ts';
import { useServerNow } from '../state/clock.ts';

const PAGE = 200;
const OUTCOME_TONE: Record<string, string> = { delivered: 'good', retry: 'warn', dropped: 'bad' };

/** When the next attempt is due, counting down; once past, when it was due (the attempt is a row of its own). */
function NextRetry({ at, now }: { at: number | null; now: number }) {
  if (at === null) return <>—</>;
  if (at > now) return <When at={at} />;
  return <span class="muted" title={formatDateTime(at)}>was due {formatWhen(at, now)}</span>;
}

function Row({ d, now }: { d: Delivery; now: number }) {
  const time = parseIso(d.time);
  const next = parseIso(d.nextAttemptAt);
  const nameOf = useNames();
  const users = d.userIds.map((id) => nameOf(id) ?? shortId(id));
  return (
    <tr>
      <td><time dateTime={d.time} title={d.time}>{time !== null ? formatDateTime(time) : d.time}</time></td>
      <td>{d.subscriptionIds.map((id) => <code key={id} title={id}>{shortId(id, 8)} </code>)}</td>
      <td title={users.join(', ')}>{users.slice(0, 2).join(', ')}{users.length > 2 && ` +${users.length - 2}`}</td>
      <td class="wrap"><code>{d.url}</code></td>
      <td>{d.kind}</td>
      <td class="num">{d.items}</td>
      <td class="num">{d.attempt}</td>
      <td class="num">{d.status === 0 ? '—' : d.status}</td>
      <td class="num">{d.status === 0 && d.latencyMs === 0 ? '—' : `${d.latencyMs} ms`}</td>
      <td><span class={`badge ${OUTCOME_TONE[d.outcome] ?? 'muted'}`}>{d.outcome}</span>{d.dropped > 0 && d.outcome !== 'dropped' && <span class="muted"> ({d.dropped} dropped)</span>}</td>
      <td><NextRetry at={next} now={now} /></td>
      <td class="wrap">{d.error ?? ''}</td>
    </tr>
  );
}

export function DeliveriesTable({ deliveries }: { deliveries: Delivery[] }) {
  const [limit, setLimit] = useState(PAGE);
  const now = useServerNow();
  if (deliveries.length === 0) return <p class="placeholder">No delivery yet.</p>;
  return (
    <>
      <div class="table-wrap" tabIndex={0} role="region" aria-label="Deliveries table">
        <table class="deliveries">
          <thead>
            <tr>
              <th scope="col">Time</th><th scope="col">Subscription</th><th scope="col">Users</th><th scope="col">Endpoint</th><th scope="col">Kind</th>
              <th scope="col">Items</th><th scope="col">Attempt</th><th scope="col">Status</th><th scope="col">Latency</th><th scope="col">Outcome</th>
              <th scope="col">Next retry</th><th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>{deliveries.slice(0, limit).map((d, i) => <Row key={`${d.time}|${d.url}|${d.attempt}|${i}`} d={d} now={now} />)}</tbody>
        </table>
      </div>
      {deliveries.length > limit && <button type="button" onClick={() => setLimit(limit + PAGE)}>Show {Math.min(PAGE, deliveries.length - limit)} more of {deliveries.length}</button>}
    </>
  );
}
