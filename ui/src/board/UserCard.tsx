/**
 * One user on the board: availability (dot and words) and activity, the status message with its countdown, out of
 * office and its window, work location, the presence sessions with their remaining lifetime and the preferred
 * presence. Drawn again only when its card or focus changes.
 */
import type { UserCard as Card } from '../api/types.ts';
import { Countdown, When } from '../components/Countdown.tsx';
import { Dot } from '../components/Dot.tsx';
import { parseIso } from '../lib/format.ts';
import { href } from '../lib/hashRoute.ts';
import { memo } from '../lib/memo.ts';
import { words } from './availability.ts';
import { StatusLine } from './StatusLine.tsx';

function OutOfOffice({ card }: { card: Card }) {
  const ooo = card.outOfOffice;
  if (!ooo || (!ooo.isOutOfOffice && !ooo.startsAt)) return null;
  const starts = parseIso(ooo.startsAt);
  const ends = parseIso(ooo.endsAt);
  return (
    <p class={`ooo${ooo.isOutOfOffice ? ' on' : ''}`}>
      <span class="ooo-mark" aria-hidden="true" />
      {ooo.isOutOfOffice ? 'Out of office' : 'Out of office from '}
      {!ooo.isOutOfOffice && starts !== null && <When at={starts} />}
      {ooo.isOutOfOffice && ends !== null && <> until <When at={ends} /></>}
      {ooo.message && <span class="ooo-message" title={ooo.message}>: {ooo.message}</span>}
    </p>
  );
}

/** The sessions on one line: each one's state and remaining lifetime (details on hover). */
function Sessions({ card }: { card: Card }) {
  if (card.sessions.length === 0) return <p class="sessions none">No presence session</p>;
  return (
    <ul class="sessions" aria-label={`${card.sessions.length} presence session${card.sessions.length > 1 ? 's' : ''}`}>
      {card.sessions.map((s) => {
        const expires = parseIso(s.expiresAt);
        return (
          <li key={`${s.appId}/${s.sessionId}`} title={`Session ${s.sessionId} of app ${s.appId}: ${s.availability}/${s.activity}`}>
            <Dot availability={s.availability} size="sm" /> {words(s.activity)}
            {expires !== null && <> <span class="muted">ends</span> <Countdown at={expires} /></>}
          </li>
        );
      })}
    </ul>
  );
}

function Details({ card }: { card: Card }) {
  const location = card.presence.workLocation;
  const preferred = card.preferred;
  const preferredEnds = parseIso(preferred?.expiresAt);
  return (
    <p class="details">
      <span title={`Work location, source: ${location.source}`}>{location.workLocationType === 'unspecified' ? 'Location unspecified' : words(location.workLocationType)}</span>
      {preferred && (
        <span> · Preferred {words(preferred.availability)}{preferredEnds !== null && <>, ends <Countdown at={preferredEnds} /></>}</span>
      )}
    </p>
  );
}

function UserCardView({ card, active }: { card: Card; active: boolean }) {
  const p = card.presence;
  const tab = active ? 0 : -1;
  const ooo = card.outOfOffice?.isOutOfOffice ?? p.outOfOfficeSettings.isOutOfOffice;
  return (
    <article class={`card tone-${p.availability}`} aria-label={card.displayName}>
      <header class="card-head">
        <Dot availability={p.availability} outOfOffice={ooo} />
        <div class="card-names">
          <h3 class="name">{card.displayName}</h3>
          <p class="upn">{card.userPrincipalName}</p>
        </div>
      </header>
      <p class="availability"><strong>{words(p.availability)}</strong>{p.activity !== p.availability && <> · {words(p.activity)}</>}</p>
      <StatusLine card={card} />
      <OutOfOffice card={card} />
      <Sessions card={card} />
      <Details card={card} />
      <footer class="card-links">
        <a href={href({ name: 'user', userId: card.id })} tabIndex={tab}>Timeline</a>
        <a href={href({ name: 'notifications', subscription: null, user: card.id })} tabIndex={tab}>Deliveries</a>
        <a href={href({ name: 'controls', user: card.id })} tabIndex={tab}>Set…</a>
      </footer>
    </article>
  );
}

export const UserCard = memo(UserCardView);
