/**
 * Rejected time zones leave nothing behind: the zone cache keeps only valid names, so a flood of requests with unique
 * invalid `timeZone` values cannot grow the server's memory.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cachedZoneCount, parseDateTimeTimeZone, resolveZone } from '../../src/domain/timezones.ts';

describe('time-zone cache', () => {
  it('holds none of 5,000 unique invalid zone names, long or short', () => {
    resolveZone('Pacific Standard Time');
    const before = cachedZoneCount();
    for (let i = 0; i < 5000; i++) {
      const name = i % 2 === 0 ? `Not/A_Zone_${i}` : `Bogus Standard Time ${i} ${'x'.repeat(2000)}`;
      assert.equal(resolveZone(name), null);
      assert.throws(() => parseDateTimeTimeZone({ dateTime: '2026-01-01T00:00:00', timeZone: name }, 'expiry'));
    }
    assert.equal(cachedZoneCount(), before);
  });

  it('still answers valid names, whatever their case, from the cache', () => {
    assert.equal(resolveZone('pacific standard time'), 'America/Los_Angeles');
    assert.equal(resolveZone('EUROPE/BERLIN'), 'Europe/Berlin');
    const n = cachedZoneCount();
    assert.equal(resolveZone('Europe/Berlin'.toLowerCase()), 'Europe/Berlin');
    assert.equal(cachedZoneCount(), n);
  });
});
