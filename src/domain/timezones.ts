/**
 * Time-zone arithmetic for Graph's `dateTimeTimeZone`: Windows names through the CLDR mapping (windows-iana),
 * IANA names directly, instants through Temporal (temporal-polyfill) with the `compatible` disambiguation for wall
 * times that fall in a DST gap or overlap. Pure: no clock.
 */
import { Temporal } from 'temporal-polyfill';
import { WINDOWS_TO_IANA_MAP } from 'windows-iana';
import { InvalidInput } from '../platform/json/errors.ts';
import type { DateTimeTimeZone } from './types.ts';

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})?$/;

/** Windows zone name (lower-case) → IANA id, from CLDR's windowsZones via windows-iana (territory 001 = golden zone). */
const WINDOWS_ZONES: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>();
  for (const entry of WINDOWS_TO_IANA_MAP) {
    const key = entry.windowsName.toLowerCase();
    const iana = entry.iana[0];
    if (iana && (entry.territory === '001' || !map.has(key))) map.set(key, iana);
  }
  return map;
})();

/**
 * Valid names only (lower-cased), so the cache is bounded by the zone table itself: caching rejected names would let
 * every bad request (any length, any number of them) grow it.
 */
const zoneCache = new Map<string, string>();

/** How many names the zone cache holds (for the test that it keeps no invalid ones). */
export function cachedZoneCount(): number {
  return zoneCache.size;
}

/** The IANA zone id for a Windows or IANA zone name (both case-insensitive), or null when it is neither. */
export function resolveZone(name: string): string | null {
  const key = name.toLowerCase();
  const cached = zoneCache.get(key);
  if (cached !== undefined) return cached;
  let zone = WINDOWS_ZONES.get(key) ?? null;
  // Bare UTC offsets ('+05:00') are not zone names in Graph.
  if (!zone && name.length <= 64 && /^[A-Za-z]/.test(name)) {
    try {
      zone = Temporal.Now.instant().toZonedDateTimeISO(name).timeZoneId;
    } catch {
      zone = null;
    }
  }
  if (zone !== null) zoneCache.set(key, zone);
  return zone;
}

export interface ParsedDateTime {
  /** Normalised to 7 fractional digits, without offset. */
  normalized: string;
  year: number;
  /** The IANA zone the instant was computed in. */
  zone: string;
  /** Epoch nanoseconds of the instant. */
  epochNanoseconds: bigint;
}

/**
 * Validates a `dateTimeTimeZone` and computes its instant. `path` names the property for errors.
 * A `dateTime` with `Z` or an offset is accepted only when the zone is UTC.
 */
export function parseDateTimeTimeZone(input: DateTimeTimeZone, path: string): ParsedDateTime {
  const m = DATE_TIME.exec(input.dateTime);
  if (!m) {
    throw new InvalidInput(
      `Property '${path}.dateTime' has an invalid value '${truncate(input.dateTime)}': expected a local date and time like 2022-10-18T17:05:33.2079781 (up to 7 fractional digits, no offset).`,
      `${path}.dateTime`,
    );
  }
  const zone = resolveZone(input.timeZone);
  if (!zone) {
    throw new InvalidInput(
      `Property '${path}.timeZone' has an unknown time zone '${truncate(input.timeZone)}': use a Windows name such as 'Pacific Standard Time' or an IANA name such as 'America/Los_Angeles'.`,
      `${path}.timeZone`,
    );
  }
  const [, y, mo, d, h, mi, s, frac = '', offset] = m;
  if (offset !== undefined && offset !== 'Z' && offset !== '+00:00' && offset !== '-00:00') {
    throw new InvalidInput(`Property '${path}.dateTime' must not carry an offset ('${offset}'); give the zone in '${path}.timeZone'.`, `${path}.dateTime`);
  }
  if (offset !== undefined && !isUtc(zone)) {
    throw new InvalidInput(
      `Property '${path}.dateTime' ends in '${offset}' but '${path}.timeZone' is '${truncate(input.timeZone)}', not UTC: give a local time without an offset.`,
      `${path}.dateTime`,
    );
  }
  const fraction = frac.padEnd(7, '0');
  let plain: Temporal.PlainDateTime;
  try {
    plain = Temporal.PlainDateTime.from(
      {
        year: Number(y), month: Number(mo), day: Number(d), hour: Number(h), minute: Number(mi), second: Number(s),
        millisecond: Number(fraction.slice(0, 3)), microsecond: Number(fraction.slice(3, 6)), nanosecond: Number(fraction.slice(6, 7)) * 100,
      },
      { overflow: 'reject' },
    );
  } catch {
    throw new InvalidInput(`Property '${path}.dateTime' has an invalid date or time '${truncate(input.dateTime)}'.`, `${path}.dateTime`);
  }
  const epochNanoseconds = plain.toZonedDateTime(zone, { disambiguation: 'compatible' }).epochNanoseconds;
  return {
    normalized: `${y}-${mo}-${d}T${h}:${mi}:${s}.${fraction}`,
    year: Number(y),
    zone,
    epochNanoseconds,
  };
}

function isUtc(zone: string): boolean {
  return ['UTC', 'Etc/UTC', 'Etc/UCT', 'Etc/Universal', 'Etc/Zulu', 'UCT', 'Universal', 'Zulu', 'Etc/GMT', 'GMT'].includes(zone);
}

/** Epoch nanoseconds rounded up to whole milliseconds: a message expiring at .2079781 is gone from ms .208 on. */
export function ceilToMillis(epochNanoseconds: bigint): number {
  const ms = epochNanoseconds / 1_000_000n;
  const rem = epochNanoseconds % 1_000_000n;
  return Number(rem > 0n ? ms + 1n : ms);
}

/** Graph's UTC timestamp: `2022-10-18T16:05:33.1230000Z` (7 fractional digits). */
export function formatUtc(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 23)}0000Z`;
}

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
}
