import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidInput } from '../../src/platform/json/errors.ts';
import { ceilToMillis, formatUtc, parseDateTimeTimeZone, resolveZone } from '../../src/domain/timezones.ts';
import { at } from './fixtures.ts';

const PATH = 'statusMessage.expiryDateTime';
const NS_PER_MS = 1_000_000n;

/** Epoch nanoseconds of an ISO instant, from the built-in Date parser (ms precision) plus extra nanoseconds. */
const ns = (iso: string, extraNs = 0n): bigint => BigInt(at(iso)) * NS_PER_MS + extraNs;

const instantOf = (dateTime: string, timeZone: string): bigint =>
  parseDateTimeTimeZone({ dateTime, timeZone }, PATH).epochNanoseconds;

function assertRefused(fn: () => unknown, property: string): InvalidInput {
  let caught: unknown;
  assert.throws(fn, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof InvalidInput, `expected InvalidInput, got ${String(caught)}`);
  assert.equal(caught.property, property);
  assert.ok(caught.message.includes(property), `message should name ${property}: ${caught.message}`);
  assert.equal(caught.code, 'BadRequest');
  return caught;
}

/**
 * Expected instants worked out by hand from the published DST rules for 2026:
 * US: 2nd Sunday of March 02:00 PST→03:00 PDT (Mar 8), 1st Sunday of November 02:00 PDT→01:00 PST (Nov 1).
 * EU: last Sunday of March 01:00 UTC (Mar 29), last Sunday of October 01:00 UTC (Oct 25).
 * Sydney: 1st Sunday of October 02:00 AEST→03:00 AEDT (Oct 4), 1st Sunday of April 03:00 AEDT→02:00 AEST (Apr 5).
 * Lord Howe: 1st Sunday of October 02:00→02:30 (a 30-minute gap).
 * A wall time in a gap moves forward by the gap length; an ambiguous one takes the earlier (pre-transition) offset.
 */
const CASES: ReadonlyArray<{ zones: string[]; dateTime: string; utc: string; what: string }> = [
  // Los Angeles
  { zones: ['Pacific Standard Time', 'America/Los_Angeles'], dateTime: '2026-01-15T09:00:00', utc: '2026-01-15T17:00:00Z', what: 'winter (PST, -8)' },
  { zones: ['Pacific Standard Time', 'America/Los_Angeles'], dateTime: '2026-07-15T09:00:00', utc: '2026-07-15T16:00:00Z', what: 'summer (PDT, -7)' },
  { zones: ['Pacific Standard Time', 'America/Los_Angeles'], dateTime: '2026-03-08T01:59:59', utc: '2026-03-08T09:59:59Z', what: 'last second before the gap' },
  { zones: ['Pacific Standard Time', 'America/Los_Angeles'], dateTime: '2026-03-08T02:30:00', utc: '2026-03-08T10:30:00Z', what: 'spring-forward gap → 03:30 PDT' },
  { zones: ['Pacific Standard Time', 'America/Los_Angeles'], dateTime: '2026-03-08T03:00:00', utc: '2026-03-08T10:00:00Z', what: 'first wall time after the gap' },
  { zones: ['Pacific Standard Time', 'America/Los_Angeles'], dateTime: '2026-11-01T01:30:00', utc: '2026-11-01T08:30:00Z', what: 'autumn overlap → earlier (PDT)' },
  { zones: ['Pacific Standard Time', 'America/Los_Angeles'], dateTime: '2026-11-01T02:30:00', utc: '2026-11-01T10:30:00Z', what: 'after the overlap (PST)' },
  // Berlin
  { zones: ['W. Europe Standard Time', 'Europe/Berlin'], dateTime: '2026-01-15T09:00:00', utc: '2026-01-15T08:00:00Z', what: 'winter (CET, +1)' },
  { zones: ['W. Europe Standard Time', 'Europe/Berlin'], dateTime: '2026-07-15T09:00:00', utc: '2026-07-15T07:00:00Z', what: 'summer (CEST, +2)' },
  { zones: ['W. Europe Standard Time', 'Europe/Berlin'], dateTime: '2026-03-29T02:30:00', utc: '2026-03-29T01:30:00Z', what: 'spring-forward gap → 03:30 CEST' },
  { zones: ['W. Europe Standard Time', 'Europe/Berlin'], dateTime: '2026-10-25T02:30:00', utc: '2026-10-25T00:30:00Z', what: 'autumn overlap → earlier (CEST)' },
  { zones: ['W. Europe Standard Time', 'Europe/Berlin'], dateTime: '2026-10-25T03:00:00', utc: '2026-10-25T02:00:00Z', what: 'after the overlap (CET)' },
  // Sydney (southern hemisphere: DST over the new year)
  { zones: ['AUS Eastern Standard Time', 'Australia/Sydney'], dateTime: '2026-01-15T12:00:00', utc: '2026-01-15T01:00:00Z', what: 'January is summer (AEDT, +11)' },
  { zones: ['AUS Eastern Standard Time', 'Australia/Sydney'], dateTime: '2026-07-15T12:00:00', utc: '2026-07-15T02:00:00Z', what: 'July is winter (AEST, +10)' },
  { zones: ['AUS Eastern Standard Time', 'Australia/Sydney'], dateTime: '2026-10-04T02:30:00', utc: '2026-10-03T16:30:00Z', what: 'spring-forward gap → 03:30 AEDT' },
  { zones: ['AUS Eastern Standard Time', 'Australia/Sydney'], dateTime: '2026-04-05T02:30:00', utc: '2026-04-04T15:30:00Z', what: 'autumn overlap → earlier (AEDT)' },
  // Lord Howe: a 30-minute gap moves the time forward by 30 minutes, not an hour
  { zones: ['Lord Howe Standard Time', 'Australia/Lord_Howe'], dateTime: '2026-10-04T02:15:00', utc: '2026-10-03T15:45:00Z', what: '30-minute gap → 02:45 (+11)' },
  // India: no DST, +05:30 all year, including on other zones' transition days
  { zones: ['India Standard Time', 'Asia/Kolkata', 'Asia/Calcutta'], dateTime: '2026-03-08T02:30:00', utc: '2026-03-07T21:00:00Z', what: 'no DST (+05:30)' },
  { zones: ['India Standard Time', 'Asia/Kolkata'], dateTime: '2026-11-01T01:30:00', utc: '2026-10-31T20:00:00Z', what: 'no DST (+05:30)' },
  { zones: ['India Standard Time', 'Asia/Kolkata'], dateTime: '2026-07-15T12:00:00', utc: '2026-07-15T06:30:00Z', what: 'no DST in summer either' },
  // UTC
  { zones: ['UTC', 'Etc/UTC'], dateTime: '2026-03-08T02:30:00', utc: '2026-03-08T02:30:00Z', what: 'UTC wall time is the instant' },
  { zones: ['UTC', 'Etc/UTC'], dateTime: '2026-10-25T02:30:00', utc: '2026-10-25T02:30:00Z', what: 'UTC has no overlap' },
];

describe('parseDateTimeTimeZone: expiry instants with real time-zone rules', () => {
  for (const c of CASES) {
    for (const zone of c.zones) {
      it(`${c.dateTime} in '${zone}' is ${c.utc} (${c.what})`, () => {
        assert.equal(instantOf(c.dateTime, zone), ns(c.utc));
      });
    }
  }

  it('seed Example 1: 2022-10-18T17:05:33.2079781 Pacific Standard Time is 2022-10-19T00:05:33.2079781Z', () => {
    const p = parseDateTimeTimeZone({ dateTime: '2022-10-18T17:05:33.2079781', timeZone: 'Pacific Standard Time' }, PATH);
    assert.equal(p.epochNanoseconds, ns('2022-10-19T00:05:33.207Z', 978_100n));
    assert.equal(p.normalized, '2022-10-18T17:05:33.2079781');
    assert.equal(p.year, 2022);
    assert.equal(p.zone, 'America/Los_Angeles');
    assert.equal(ceilToMillis(p.epochNanoseconds), at('2022-10-19T00:05:33.208Z'));
  });

  it('a gap wall time and the same wall time an hour later are the same instant (LA, Berlin, Sydney)', () => {
    assert.equal(instantOf('2026-03-08T02:30:00', 'Pacific Standard Time'), instantOf('2026-03-08T03:30:00', 'Pacific Standard Time'));
    assert.equal(instantOf('2026-03-29T02:30:00', 'W. Europe Standard Time'), instantOf('2026-03-29T03:30:00', 'W. Europe Standard Time'));
    assert.equal(instantOf('2026-10-04T02:30:00', 'AUS Eastern Standard Time'), instantOf('2026-10-04T03:30:00', 'AUS Eastern Standard Time'));
  });

  it('across the autumn overlap, one wall-clock hour is two real hours (the ambiguous time takes the earlier offset)', () => {
    const twoHours = 2n * 3_600_000n * NS_PER_MS;
    assert.equal(instantOf('2026-11-01T02:30:00', 'America/Los_Angeles') - instantOf('2026-11-01T01:30:00', 'America/Los_Angeles'), twoHours);
    assert.equal(instantOf('2026-10-25T03:30:00', 'Europe/Berlin') - instantOf('2026-10-25T02:30:00', 'Europe/Berlin'), twoHours);
    assert.equal(instantOf('2026-04-05T03:30:00', 'Australia/Sydney') - instantOf('2026-04-05T02:30:00', 'Australia/Sydney'), twoHours);
  });

  it('keeps all 7 fractional digits in the instant (100 ns resolution)', () => {
    assert.equal(instantOf('2026-01-01T00:00:00.0000001', 'UTC'), ns('2026-01-01T00:00:00Z', 100n));
    assert.equal(instantOf('2026-01-01T00:00:00.9999999', 'UTC'), ns('2026-01-01T00:00:00.999Z', 999_900n));
    assert.equal(instantOf('2026-01-01T00:00:00.5', 'UTC'), ns('2026-01-01T00:00:00.500Z'));
  });

  it('accepts a leap day in a leap year', () => {
    assert.equal(instantOf('2028-02-29T12:00:00', 'UTC'), ns('2028-02-29T12:00:00Z'));
  });
});

describe('parseDateTimeTimeZone: normalisation', () => {
  const norm = (dateTime: string, timeZone = 'Pacific Standard Time') => parseDateTimeTimeZone({ dateTime, timeZone }, PATH).normalized;

  it('pads to exactly 7 fractional digits', () => {
    assert.equal(norm('2026-01-01T10:00:00'), '2026-01-01T10:00:00.0000000');
    assert.equal(norm('2026-01-01T10:00:00.5'), '2026-01-01T10:00:00.5000000');
    assert.equal(norm('2026-01-01T10:00:00.123'), '2026-01-01T10:00:00.1230000');
    assert.equal(norm('2026-01-01T10:00:00.1234567'), '2026-01-01T10:00:00.1234567');
  });

  it('keeps the wall time as sent (no conversion), even in a DST gap', () => {
    assert.equal(norm('2026-03-08T02:30:00'), '2026-03-08T02:30:00.0000000');
  });

  it('drops a Z sent with a UTC zone', () => {
    assert.equal(norm('2026-01-01T10:00:00Z', 'UTC'), '2026-01-01T10:00:00.0000000');
  });

  it('property: output always has the form YYYY-MM-DDThh:mm:ss.fffffff and starts with the wall time sent', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 7 }),
        fc.constantFrom('UTC', 'Pacific Standard Time', 'Europe/Berlin', 'AUS Eastern Standard Time', 'India Standard Time'),
        (d, digits, zone) => {
          const wall = d.toISOString().slice(0, 19);
          const frac = digits === 0 ? '' : `.${'1234567'.slice(0, digits)}`;
          const out = norm(wall + frac, zone);
          assert.match(out, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}$/);
          assert.equal(out.slice(0, 19), wall);
          assert.equal(out.slice(20), '1234567'.slice(0, digits).padEnd(7, '0'));
        },
      ),
    );
  });
});

describe('parseDateTimeTimeZone: refusals name the property', () => {
  it('unknown zone → InvalidInput naming statusMessage.expiryDateTime.timeZone', () => {
    for (const tz of ['Mars/Olympus_Mons', 'Pacific Standard', 'Not A Real Standard Time', '', ' ', 'PST8PDT-ish']) {
      const e = assertRefused(() => parseDateTimeTimeZone({ dateTime: '2026-01-01T10:00:00', timeZone: tz }, PATH), `${PATH}.timeZone`);
      assert.match(e.message, /time zone/);
    }
  });

  it('bare UTC offsets are not zone names', () => {
    for (const tz of ['+05:00', '-08:00', '+00:00', '+0530', '05:00', '2026-01-01T00:00+05:00']) {
      assertRefused(() => parseDateTimeTimeZone({ dateTime: '2026-01-01T10:00:00', timeZone: tz }, PATH), `${PATH}.timeZone`);
    }
  });

  it('a dateTime with Z or an offset is refused when the zone is not UTC', () => {
    for (const dateTime of ['2026-01-01T10:00:00Z', '2026-01-01T10:00:00+00:00', '2026-01-01T10:00:00-08:00', '2026-01-01T10:00:00.1234567Z']) {
      for (const tz of ['Pacific Standard Time', 'America/Los_Angeles', 'GMT Standard Time', 'Europe/London']) {
        assertRefused(() => parseDateTimeTimeZone({ dateTime, timeZone: tz }, PATH), `${PATH}.dateTime`);
      }
    }
  });

  it('a dateTime with Z or +00:00 is accepted when the zone is UTC, with the same instant', () => {
    for (const tz of ['UTC', 'utc', 'Etc/UTC']) {
      assert.equal(instantOf('2026-01-01T10:00:00Z', tz), ns('2026-01-01T10:00:00Z'));
      assert.equal(instantOf('2026-01-01T10:00:00+00:00', tz), ns('2026-01-01T10:00:00Z'));
    }
  });

  it('a non-zero offset is refused even with a UTC zone (it would shift the instant)', () => {
    assertRefused(() => parseDateTimeTimeZone({ dateTime: '2026-01-01T10:00:00+05:00', timeZone: 'UTC' }, PATH), `${PATH}.dateTime`);
  });

  it('more than 7 fractional digits are refused', () => {
    assertRefused(() => parseDateTimeTimeZone({ dateTime: '2026-01-01T10:00:00.12345678', timeZone: 'UTC' }, PATH), `${PATH}.dateTime`);
  });

  it('impossible dates and times are refused', () => {
    for (const dateTime of [
      '2026-02-30T00:00:00', '2026-02-29T00:00:00', '2026-04-31T00:00:00', '2026-13-01T00:00:00', '2026-00-10T00:00:00',
      '2026-01-00T00:00:00', '2026-01-01T24:00:00', '2026-01-01T23:60:00', '2026-01-01T23:59:60',
    ]) {
      assertRefused(() => parseDateTimeTimeZone({ dateTime, timeZone: 'Pacific Standard Time' }, PATH), `${PATH}.dateTime`);
    }
  });

  it('malformed dateTime strings are refused', () => {
    for (const dateTime of [
      '', 'tomorrow', '2026-01-01', '2026-01-01T10:00', '2026-01-01 10:00:00', '2026-1-01T10:00:00', '20260101T100000',
      '2026-01-01T10:00:00.', '2026-01-01T10:00:00,5', ' 2026-01-01T10:00:00', '2026-01-01T10:00:00 ', '+2026-01-01T10:00:00',
    ]) {
      assertRefused(() => parseDateTimeTimeZone({ dateTime, timeZone: 'UTC' }, PATH), `${PATH}.dateTime`);
    }
  });

  it('uses the path it is given in the property name', () => {
    assertRefused(
      () => parseDateTimeTimeZone({ dateTime: 'x', timeZone: 'UTC' }, 'automaticRepliesSetting.scheduledEndDateTime'),
      'automaticRepliesSetting.scheduledEndDateTime.dateTime',
    );
  });
});

describe('resolveZone', () => {
  it('maps Windows names through CLDR, case-insensitively', () => {
    for (const name of ['Pacific Standard Time', 'pacific standard time', 'PACIFIC STANDARD TIME', 'pAcIfIc StAnDaRd TiMe']) {
      assert.equal(resolveZone(name), 'America/Los_Angeles');
    }
    assert.equal(resolveZone('W. Europe Standard Time'), 'Europe/Berlin');
    assert.equal(resolveZone('w. europe standard time'), 'Europe/Berlin');
    assert.equal(resolveZone('AUS Eastern Standard Time'), 'Australia/Sydney');
    assert.equal(resolveZone('Tokyo Standard Time'), 'Asia/Tokyo');
  });

  it('Windows and IANA names give the same instants, whatever their case', () => {
    const a = instantOf('2026-03-08T02:30:00', 'pacific standard time');
    assert.equal(a, instantOf('2026-03-08T02:30:00', 'america/los_angeles'));
    assert.equal(a, instantOf('2026-03-08T02:30:00', 'AMERICA/LOS_ANGELES'));
  });

  it('accepts IANA names', () => {
    assert.equal(resolveZone('America/Los_Angeles'), 'America/Los_Angeles');
    assert.equal(resolveZone('Europe/Berlin'), 'Europe/Berlin');
    assert.equal(resolveZone('Australia/Sydney'), 'Australia/Sydney');
    assert.ok(resolveZone('UTC'));
  });

  it('returns null for what is not a zone name', () => {
    for (const name of ['Nowhere/Special', '+05:00', '-08:00', '', 'Standard Time']) assert.equal(resolveZone(name), null);
  });

  it('answers the same on a second call (cache does not change results)', () => {
    assert.equal(resolveZone('Mars/Base'), null);
    assert.equal(resolveZone('Mars/Base'), null);
    assert.equal(resolveZone('India Standard Time'), resolveZone('india standard time'));
  });
});

describe('ceilToMillis', () => {
  it('rounds a fractional millisecond up: .2079781 is gone from .208 on', () => {
    assert.equal(ceilToMillis(ns('2022-10-19T00:05:33.207Z', 978_100n)), at('2022-10-19T00:05:33.208Z'));
  });

  it('keeps whole milliseconds as they are and rounds 1 ns over up', () => {
    assert.equal(ceilToMillis(ns('2026-01-01T00:00:00.123Z')), at('2026-01-01T00:00:00.123Z'));
    assert.equal(ceilToMillis(ns('2026-01-01T00:00:00.123Z', 1n)), at('2026-01-01T00:00:00.124Z'));
    assert.equal(ceilToMillis(0n), 0);
  });

  it('rounds up (towards the future) before 1970 too', () => {
    assert.equal(ceilToMillis(-1_500_000n), -1);
    assert.equal(ceilToMillis(-2_000_000n), -2);
    assert.equal(ceilToMillis(-1n), 0);
  });

  it('property: the result is the smallest whole ms at or after the instant', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 21n), max: 10n ** 21n }), (n) => {
        const ms = BigInt(ceilToMillis(n));
        assert.ok(ms * NS_PER_MS >= n);
        assert.ok((ms - 1n) * NS_PER_MS < n);
      }),
    );
  });
});

describe('formatUtc', () => {
  it("writes Graph's UTC timestamp with 7 fractional digits and Z", () => {
    assert.equal(formatUtc(at('2022-10-18T16:05:33.123Z')), '2022-10-18T16:05:33.1230000Z');
    assert.equal(formatUtc(at('2026-01-01T00:00:00Z')), '2026-01-01T00:00:00.0000000Z');
  });

  it('property: always YYYY-MM-DDThh:mm:ss.fffffffZ and reads back to the same ms', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: at('9999-12-31T23:59:59.999Z') }), (ms) => {
        const s = formatUtc(ms);
        assert.match(s, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}0000Z$/);
        assert.equal(Date.parse(s.slice(0, 23) + 'Z'), ms);
      }),
    );
  });
});
