/**
 * ISO-8601 durations (`PT5M`, `PT1H`, `P1D`) as milliseconds, through Temporal. Days are 24 hours.
 */
import { Temporal } from 'temporal-polyfill';
import { InvalidInput } from '../platform/json/errors.ts';

const ANCHOR = Temporal.ZonedDateTime.from('2000-01-01T00:00:00[UTC]');

/** Parsed durations by text: clients send the same few (PT5M, PT1H) over and over. */
const parsed = new Map<string, number>();

/** Milliseconds of `text` (negative for `-PT1H`), or InvalidInput naming `name`. Years and months are refused. */
export function parseDuration(text: string, name: string): number {
  const hit = parsed.get(text);
  if (hit !== undefined) return hit;
  const ms = parseUncached(text, name);
  if (parsed.size < 1000) parsed.set(text, ms);
  return ms;
}

function parseUncached(text: string, name: string): number {
  let d: Temporal.Duration;
  try {
    if (text.length > 64) throw new RangeError('too long');
    d = Temporal.Duration.from(text);
  } catch {
    throw new InvalidInput(`Property '${name}' must be an ISO-8601 duration such as PT5M or PT1H, not '${text.slice(0, 64)}'.`, name);
  }
  if (d.years !== 0 || d.months !== 0) {
    throw new InvalidInput(`Property '${name}' must be given in weeks, days, hours, minutes or seconds, not years or months.`, name);
  }
  return d.total({ unit: 'milliseconds', relativeTo: ANCHOR });
}
