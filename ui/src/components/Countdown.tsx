/**
 * A live countdown to (or time since) an instant on the server's clock, with the instant itself in the viewer's zone
 * on hover (or the text given as `title`).
 */
import { formatDateTime, formatRelative, formatWhen, isNever } from '../lib/format.ts';
import { useServerNow } from '../state/clock.ts';

export function Countdown({ at, title, never = 'no expiry' }: { at: number; title?: string; never?: string }) {
  const now = useServerNow();
  if (isNever(at)) return <span class="countdown">{never}</span>;
  return (
    <time class={`countdown${at <= now ? ' past' : ''}`} dateTime={new Date(at).toISOString()} title={title ?? formatDateTime(at)}>
      {formatRelative(at, now)}
    </time>
  );
}

/** An instant in the viewer's zone ("17:05", with the date when not today), then the countdown: "17:05 (in 4 min)". */
export function When({ at, title }: { at: number; title?: string }) {
  const now = useServerNow();
  if (isNever(at)) return <span class="when">never</span>;
  return (
    <span class="when">
      <time dateTime={new Date(at).toISOString()} title={title ?? formatDateTime(at)}>{formatWhen(at, now)}</time>
      {' '}<span class={`countdown${at <= now ? ' past' : ''}`}>({formatRelative(at, now)})</span>
    </span>
  );
}
