/**
 * A user's status message, with its expiry counting down in the viewer's time zone; the expiry as it was set
 * (its own zone, as Graph returns it) is on hover.
 */
import type { UserCard } from '../api/types.ts';
import { When } from '../components/Countdown.tsx';
import { formatDateTime, parseIso } from '../lib/format.ts';

export function StatusLine({ card }: { card: UserCard }) {
  const message = card.presence.statusMessage;
  if (!message) return <p class="status none">No status message</p>;
  const expiresAt = parseIso(card.statusMessageExpiresAt);
  const set = message.expiryDateTime;
  const title = expiresAt === null ? undefined
    : `${formatDateTime(expiresAt)} your time${set ? ` — set as ${set.dateTime} (${set.timeZone})` : ''}`;
  return (
    <p class="status">
      <span class="status-text" title={message.message.content}>{message.message.content}</span>
      {expiresAt !== null && (
        <span class="status-expiry">
          expires <When at={expiresAt} {...(title ? { title } : {})} />
        </span>
      )}
    </p>
  );
}
