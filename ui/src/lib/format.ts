/** How times, durations and ids read on the page: in the viewer's time zone and language. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const dayAndTime = new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });
const clockFace = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** The viewer's IANA time zone (the browser's). */
export function viewerZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function parseIso(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/** Graph's "never": a year-9999 expiry (Teams sends it). */
export function isNever(ms: number): boolean {
  return new Date(ms).getUTCFullYear() >= 9999;
}

/** A full date and time in the viewer's zone: "28 Nov 2026, 08:00:05". */
export function formatDateTime(ms: number): string {
  return dateTime.format(ms);
}

/** The time of day in the viewer's zone, with the date when it is not the same day as `now`. */
export function formatWhen(ms: number, now: number): string {
  const a = new Date(ms);
  const b = new Date(now);
  const sameDay = a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  if (sameDay) return timeOnly.format(ms);
  return Math.abs(ms - now) < 6 * 86_400_000 ? dayAndTime.format(ms) : dateTime.format(ms);
}

/** The server clock in the top bar: "Tue 24 Nov, 14:38:00" (the day matters once the clock is moved by days). */
export function formatClockFace(ms: number): string {
  return clockFace.format(ms);
}

const UNITS: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['min', 60_000], ['s', 1000]];

/** A duration in its two largest units: "2 d 3 h", "1 h 5 min", "4 min 12 s", "12 s"; "0 s" below a second. */
export function formatDuration(ms: number): string {
  const total = Math.floor(Math.abs(ms) / 1000) * 1000;
  const i = UNITS.findIndex(([, size]) => total >= size);
  if (i < 0) return '0 s';
  const [unit, size] = UNITS[i]!;
  const n = Math.floor(total / size);
  const next = UNITS[i + 1];
  const m = next ? Math.floor((total - n * size) / next[1]) : 0;
  return next && m > 0 ? `${n} ${unit} ${m} ${next[0]}` : `${n} ${unit}`;
}

/** "in 4 min 12 s", "12 s ago"; "in < 1 s" just ahead (a first retry is 0.5–1.5 s away), "now" just past. */
export function formatRelative(ms: number, now: number): string {
  const d = ms - now;
  if (d > 0 && d < 1000) return 'in < 1 s';
  if (d <= 0 && d > -1000) return 'now';
  return d >= 0 ? `in ${formatDuration(d)}` : `${formatDuration(d)} ago`;
}

/** The first characters of a GUID, enough to tell ids apart on a screen: "1a2b…". */
export function shortId(id: string, length = 4): string {
  return id.length > length + 1 ? `${id.slice(0, length)}…` : id;
}

/** A count with the viewer's grouping: "1,000". */
export function formatCount(n: number): string {
  return n.toLocaleString();
}
