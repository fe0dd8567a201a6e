/** The built-in webhook sinks (/_presently/sink/{name}): how many bodies each received, and the newest ones. */
import type { Sink, SinkRecord } from '../api/types.ts';
import { formatDateTime, parseIso } from '../lib/format.ts';

function receivedAt(record: SinkRecord): string {
  const ms = parseIso(record.receivedAt);
  return ms === null ? record.receivedAt : formatDateTime(ms);
}

/** A one-line summary of a notification body: its items' change types and resources. */
function summary(record: SinkRecord): string {
  const body = record.body as { value?: Array<{ changeType?: string; lifecycleEvent?: string; resource?: string }> } | null | undefined;
  if (!body || !Array.isArray(body.value)) return typeof record.body === 'string' ? record.body.slice(0, 120) : 'body';
  return body.value.map((v) => `${v.lifecycleEvent ?? v.changeType ?? 'item'} ${v.resource ?? ''}`.trim()).join('; ');
}

export function SinksPanel({ sinks }: { sinks: Sink[] }) {
  if (sinks.length === 0) {
    return <p class="placeholder">No sink has received anything. Use <code>{`${location.origin}/_presently/sink/<name>`}</code> as a notificationUrl.</p>;
  }
  return (
    <div class="sinks">
      {sinks.map((sink) => (
        <section key={sink.name} class="sink" aria-label={`Sink ${sink.name}`}>
          <h3><code>/_presently/sink/{sink.name}</code> <span class="muted">{sink.count} received</span></h3>
          <ol class="sink-items">
            {sink.items.map((record, i) => (
              <li key={i}>
                <details>
                  <summary><span class="muted">{receivedAt(record)}</span> {summary(record)}</summary>
                  <pre>{JSON.stringify(record.body, null, 2)}</pre>
                </details>
              </li>
            ))}
          </ol>
        </section>
      ))}
    </div>
  );
}
