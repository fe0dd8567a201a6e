/** One change of a user's presence: when, the sequenceNumber it got, what changed, why, and the presence after it. */
import type { TimelineEntry as Entry } from '../api/types.ts';
import { Dot } from '../components/Dot.tsx';
import { formatDateTime, formatRelative, parseIso } from '../lib/format.ts';
import { memo } from '../lib/memo.ts';
import { words } from '../board/availability.ts';
import { describeCause, describeChanged } from './describe.ts';

function causeDetail(entry: Entry): string {
  const c = entry.cause;
  if (c.kind === 'api') return [`action ${c.action}`, c.appId && `app ${c.appId}`, c.userId && `caller ${c.userId}`].filter(Boolean).join(', ');
  if (c.kind === 'timed') return `timed: ${c.reasons.join(', ')}`;
  return `admin: ${c.action}`;
}

function TimelineEntryView({ entry, now, nameOf, fresh }: { entry: Entry; now: number; nameOf: (id: string) => string | undefined; fresh: boolean }) {
  const at = parseIso(entry.at) ?? 0;
  const changed = describeChanged(entry.changed);
  return (
    <li class={`entry cause-${entry.cause.kind}${fresh ? ' fresh' : ''}`}>
      <div class="entry-when">
        <time dateTime={entry.at} title={entry.at}>{formatDateTime(at)}</time>
        <span class="muted">{formatRelative(at, now)}</span>
      </div>
      <div class="entry-body">
        <p class="entry-cause" title={causeDetail(entry)}>{describeCause(entry.cause, nameOf)}</p>
        <p class="entry-state">
          <Dot availability={entry.availability} size="sm" /> {words(entry.availability)}
          {entry.activity !== entry.availability && <> · {words(entry.activity)}</>}
          {' — '}
          {entry.statusMessage ? <q>{entry.statusMessage}</q> : <span class="muted">no status message</span>}
        </p>
        {changed.length > 0 && (
          <p class="entry-changed"><span class="visually-hidden">Changed: </span>{changed.map((c) => <span key={c} class="tag">{c}</span>)}</p>
        )}
      </div>
      <code class="entry-seq" title="sequenceNumber">{entry.sequenceNumber ?? '—'}</code>
    </li>
  );
}

export const TimelineEntry = memo(TimelineEntryView);
