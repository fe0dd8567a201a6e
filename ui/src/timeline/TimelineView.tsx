/** A user's timeline: every change of their presence, newest first, live. */
import { ErrorNote } from '../components/ErrorNote.tsx';
import { Dot } from '../components/Dot.tsx';
import { href } from '../lib/hashRoute.ts';
import { useStore } from '../lib/store.ts';
import { board, cardOf, useNames } from '../state/board.ts';
import { useServerNow } from '../state/clock.ts';
import { StatusLine } from '../board/StatusLine.tsx';
import { words } from '../board/availability.ts';
import { TimelineEntry } from './TimelineEntry.tsx';
import { entryKey, useTimeline } from './useTimeline.ts';

export function TimelineView({ userId }: { userId: string }) {
  const tenantId = useStore(board, (s) => s.tenantId);
  const card = useStore(board, () => cardOf(userId));
  const nameOf = useNames();
  const [timeline, reload] = useTimeline(tenantId, userId);
  const now = useServerNow();

  return (
    <section class="timeline" aria-labelledby="timeline-title">
      <p class="crumbs"><a href={href({ name: 'board' })}>Board</a> / Timeline</p>
      <header class="timeline-head">
        {card && <Dot availability={card.presence.availability} outOfOffice={card.presence.outOfOfficeSettings.isOutOfOffice} />}
        <div>
          <h1 id="timeline-title">{card ? card.displayName : `User ${userId}`}</h1>
          {card && <p class="muted">{card.userPrincipalName} · {words(card.presence.availability)} · {words(card.presence.activity)} · sequenceNumber <code>{card.presence.sequenceNumber ?? '—'}</code></p>}
          {card && <StatusLine card={card} />}
        </div>
        <nav class="head-links" aria-label="This user">
          <a href={href({ name: 'notifications', subscription: null, user: userId })}>Deliveries</a>
          <a href={href({ name: 'controls', user: userId })}>Set presence…</a>
        </nav>
      </header>
      {timeline.status === 'error' && <ErrorNote title="The timeline could not be read" message={timeline.error} retry={reload} />}
      {timeline.status === 'loading' && <p class="placeholder" role="status">Reading the timeline…</p>}
      {timeline.status === 'ready' && timeline.entries.length === 0 && <p class="placeholder">No change recorded yet.</p>}
      {timeline.status === 'ready' && timeline.entries.length > 0 && (
        <ol class="entries" aria-label="Changes, newest first" aria-live="polite" aria-relevant="additions">
          {timeline.entries.map((e) => {
            const key = entryKey(e);
            return <TimelineEntry key={key} entry={e} now={now} nameOf={nameOf} fresh={timeline.fresh.has(key)} />;
          })}
        </ol>
      )}
    </section>
  );
}
