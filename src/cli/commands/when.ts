/**
 * `--expires 2h` and `--until 17:00` of `presently status set`, as Graph's dateTimeTimeZone: a wall-clock time in
 * the zone the user named (Windows or IANA), or in UTC when none was named and only a duration was given.
 */
import { Temporal } from 'temporal-polyfill';
import { resolveZone } from '../../domain/timezones.ts';
import type { DateTimeTimeZone } from '../../domain/types.ts';
import { CommandFailure, EXIT } from './client.ts';

const UNITS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** `90m`, `2h`, `1h30m`, `1d`, `500ms`, or ISO 8601 `PT2H` → milliseconds. */
export function parseDuration(value: string): number {
  const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec(value);
  if (iso && value.length > 1 && !/T$/i.test(value)) {
    const [d, h, m, s] = iso.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number];
    return d * UNITS.d! + h * UNITS.h! + m * UNITS.m! + s * UNITS.s!;
  }
  const parts = [...value.matchAll(/(\d+)(ms|[dhms])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) {
    throw new CommandFailure(`--expires takes a duration such as 30m, 2h, 1h30m, 1d or PT2H; got '${value}'.`, EXIT.usage);
  }
  return parts.reduce((ms, p) => ms + Number(p[1]) * UNITS[p[2]!]!, 0);
}

function zoneOf(name: string | undefined): { label: string; iana: string } {
  if (name === undefined) return { label: 'UTC', iana: 'UTC' };
  const iana = resolveZone(name);
  if (!iana) throw new CommandFailure(`--time-zone '${name}' is not a time zone (Windows names such as "Pacific Standard Time", or IANA names such as Europe/Paris).`, EXIT.usage);
  return { label: name, iana };
}

const wall = (z: Temporal.ZonedDateTime) => z.toPlainDateTime().toString({ smallestUnit: 'second' });

/** `now + duration`, as wall-clock time in the zone (UTC by default). */
export function expiryIn(ms: number, now: number, timeZone?: string): DateTimeTimeZone {
  const zone = zoneOf(timeZone);
  return { dateTime: wall(Temporal.Instant.fromEpochMilliseconds(now + ms).toZonedDateTimeISO(zone.iana)), timeZone: zone.label };
}

/**
 * `17:00` (the next 17:00 in the zone: today, or tomorrow if it has passed) or `2026-12-01T09:00` (that wall-clock
 * time), in --time-zone, by default this computer's zone.
 */
export function expiryAt(value: string, now: number, timeZone?: string): DateTimeTimeZone {
  const zone = zoneOf(timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
  const current = Temporal.Instant.fromEpochMilliseconds(now).toZonedDateTimeISO(zone.iana);
  try {
    if (/^\d{1,2}:\d{2}(:\d{2})?$/.test(value)) {
      const time = Temporal.PlainTime.from(value.padStart(value.indexOf(':') === 1 ? value.length + 1 : value.length, '0'));
      let at = current.withPlainTime(time);
      if (Temporal.ZonedDateTime.compare(at, current) <= 0) at = at.add({ days: 1 });
      return { dateTime: wall(at), timeZone: zone.label };
    }
    return { dateTime: Temporal.PlainDateTime.from(value).toString({ smallestUnit: 'second' }), timeZone: zone.label };
  } catch {
    throw new CommandFailure(`--until takes a time (17:00) or a date and time (2026-12-01T09:00); got '${value}'.`, EXIT.usage);
  }
}
