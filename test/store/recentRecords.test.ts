/** The bounded copies of recently committed records (src/store/recentRecords.ts). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { newRecord } from '../../src/domain/record.ts';
import { RecentRecords, RecentRecordsBySlot } from '../../src/store/recentRecords.ts';
import { NOW, T1, T2, uid } from './contract/fixtures.ts';

describe('recent records', () => {
  it('keeps at most its limit, the least recently updated user leaving first', () => {
    const recent = new RecentRecords(3);
    for (const n of [1, 2, 3]) recent.set(T1, uid(n), newRecord(NOW));
    recent.set(T1, uid(1), newRecord(NOW + 1)); // updated again: now the most recent
    recent.set(T1, uid(4), newRecord(NOW));
    assert.equal(recent.size, 3);
    assert.equal(recent.get(T1, uid(2)), undefined, 'the least recently updated left');
    assert.equal(recent.get(T1, uid(1))?.sequenceNumber, newRecord(NOW + 1).sequenceNumber);
  });

  it('keys a user by tenant: the same user id in two tenants is two users', () => {
    const recent = new RecentRecords();
    recent.set(T1, uid(1), newRecord(NOW));
    assert.equal(recent.get(T2, uid(1)), undefined);
    recent.forget(T1, uid(1));
    assert.equal(recent.get(T1, uid(1)), undefined);
  });

  it('freezes what it keeps and hands out, all the way down, when asked to (the test suite); not otherwise', () => {
    const frozen = new RecentRecords(10, true);
    const kept = newRecord(NOW);
    frozen.set(T1, uid(1), kept);
    assert.ok(Object.isFrozen(kept) && Object.isFrozen(kept.facts) && Object.isFrozen(kept.facts.workLocation));
    assert.ok(Object.isFrozen(frozen.handOut(newRecord(NOW)).facts.sessions));
    const plain = new RecentRecords(10, false);
    const record = newRecord(NOW);
    plain.set(T1, uid(1), record);
    assert.equal(Object.isFrozen(record) || Object.isFrozen(plain.handOut(newRecord(NOW)).facts), false);
  });

  it('is asked to freeze by the test command, so every command the tests run is checked for changing its input', () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { test: string } };
    assert.match(pkg.scripts.test, /^PRESENTLY_FREEZE_RECORDS=1 /);
  });

  it('keeps nothing with a limit of 0', () => {
    const recent = new RecentRecords(0);
    recent.set(T1, uid(1), newRecord(NOW));
    assert.equal(recent.size, 0);
  });
});

describe('recent records by slot (the presence journal)', () => {
  it('keeps at most its limit, the least recently updated slot leaving first', () => {
    const recent = new RecentRecordsBySlot(3, false);
    for (const slot of [1, 2, 3]) recent.set(slot, newRecord(NOW));
    recent.set(1, newRecord(NOW + 1)); // updated again: now the most recent
    recent.set(4, newRecord(NOW));
    assert.equal(recent.size, 3);
    assert.equal(recent.get(2), undefined, 'the least recently updated left');
    assert.equal(recent.get(1)?.sequenceNumber, newRecord(NOW + 1).sequenceNumber);
    recent.forget(1);
    assert.equal(recent.get(1), undefined);
  });

  it('freezes what it keeps when asked to, and keeps nothing with a limit of 0', () => {
    const kept = newRecord(NOW);
    new RecentRecordsBySlot(10, true).set(0, kept);
    assert.ok(Object.isFrozen(kept.facts.workLocation));
    const none = new RecentRecordsBySlot(0);
    none.set(0, newRecord(NOW));
    assert.equal(none.size, 0);
  });
});
