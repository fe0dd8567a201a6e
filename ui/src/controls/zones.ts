/** Time zones offered for a status message's expiry: the viewer's own first, then common Windows and IANA names. */
import { viewerZone } from '../lib/format.ts';

const COMMON = [
  'UTC', 'Pacific Standard Time', 'Mountain Standard Time', 'Central Standard Time', 'Eastern Standard Time',
  'GMT Standard Time', 'W. Europe Standard Time', 'Central European Standard Time', 'India Standard Time',
  'China Standard Time', 'Tokyo Standard Time', 'AUS Eastern Standard Time',
  'America/Los_Angeles', 'America/New_York', 'Europe/London', 'Europe/Berlin', 'Asia/Kolkata', 'Asia/Tokyo', 'Australia/Sydney',
];

export function zoneChoices(): string[] {
  return [...new Set([viewerZone(), ...COMMON])];
}

/** A `datetime-local` value ("2026-11-28T17:00") as Graph's dateTime ("2026-11-28T17:00:00"). */
export function graphDateTime(local: string): string {
  return /T\d{2}:\d{2}$/.test(local) ? `${local}:00` : local;
}

/** `ms` as a `datetime-local` value in the viewer's zone. */
export function localInputValue(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
