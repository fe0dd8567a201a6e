/**
 * The timeline's pure parts (docs/operations/dashboard.md#the-timeline): what a change changed and why a timed one
 * happened, from the records before and after; and its bounds (100 entries per user, the user changed least recently
 * forgotten first).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { advance, newRecord, transition } from '../../src/domain/record.ts';
import { setPreferred, setPresence } from '../../src/domain/sessions.ts';
import { FADE_AWAY_MS, FADE_INACTIVE_MS } from '../../src/domain/view.ts';
import type { PresenceFacts, PresenceRecord } from '../../src/domain/types.ts';
import { changedParts, timedReasons } from '../../src/dashboard/changes.ts';
import { TIMED, type ChangeCause } from '../../src/presence/events.ts';
import { Timeline, entryOf, type Recorded } from '../../src/dashboard/timeline.ts';

const T0 = Date.parse('2026-11-28T08:00:00Z');
const MIN = 60_000;
const APP = '22553876-f5ab-4529-bffb-cfe50aa89f87';

/** An entry whose sequence number is n. */
const entry = (n: number): Recorded => ({
  sequenceNumber: n, at: T0 + n, availability: 'Available', activity: 'Available', statusMessage: null, changed: [],
  cause: { kind: 'admin', action: 'test' },
});

function withFacts(at: number, change: (facts: PresenceFacts) => PresenceFacts): PresenceRecord {
  const base = newRecord(at);
  return transition(base, change(base.facts), at).record;
}

/** The timed transition at the record's due instant (or `at`), as the due loop makes it. */
function due(record: PresenceRecord, at = record.dueAt!) {
  const t = advance(record, at);
  return { t, reasons: timedReasons(record, t.record, at) };
}

describe('timeline: why a timed change happened', () => {
  it('an Available session fades to inactive, then to away, then expires', () => {
    const r0 = withFacts(T0, (f) => setPresence(f, { sessionId: APP, availability: 'Available', activity: 'Available', durationMs: 60 * MIN }, T0));
    const fade = due(r0);
    assert.equal(fade.t.at, T0 + FADE_INACTIVE_MS);
    assert.deepEqual(fade.reasons, ['sessionFaded']);
    assert.deepEqual(changedParts(r0.view, fade.t.record.view), ['activity']);
    const away = due(fade.t.record);
    assert.equal(away.t.at, T0 + FADE_AWAY_MS);
    assert.deepEqual(away.reasons, ['sessionFaded']);
    assert.deepEqual(changedParts(fade.t.record.view, away.t.record.view), ['availability', 'activity']);
    const gone = due(away.t.record);
    assert.deepEqual(gone.reasons, ['sessionExpired']);
  });

  it('a clock moved past several instants names every one that fell due', () => {
    const r0 = withFacts(T0, (f) => setPreferred(
      setPresence(f, { sessionId: APP, availability: 'Busy', activity: 'InACall', durationMs: 30 * MIN }, T0),
      { availability: 'DoNotDisturb', activity: 'DoNotDisturb', durationMs: 10 * MIN }, T0));
    const { reasons, t } = due(r0, T0 + 2 * 60 * MIN);
    assert.deepEqual(reasons, ['sessionExpired', 'preferredExpired']);
    assert.equal(t.record.view.availability, 'Offline');
  });

  it('an out-of-office window opens and closes', () => {
    const r0 = withFacts(T0, (f) => ({
      ...f,
      outOfOffice: {
        status: 'scheduled', message: 'Away', scheduledStart: null, scheduledEnd: null, startsAt: T0 + 60 * MIN, endsAt: T0 + 120 * MIN,
      },
    }));
    const opened = due(r0);
    assert.deepEqual(opened.reasons, ['outOfOfficeStarted']);
    assert.deepEqual(changedParts(r0.view, opened.t.record.view), ['activity', 'outOfOffice']);
    assert.deepEqual(due(opened.t.record).reasons, ['outOfOfficeEnded']);
  });

  it('an entry keeps an API cause as given, and a timed one with its reasons', () => {
    const r0 = withFacts(T0, (f) => setPreferred(f, { availability: 'Busy', activity: 'Busy', durationMs: 10 * MIN }, T0));
    const api: ChangeCause = { kind: 'api', action: 'setUserPreferredPresence', appId: APP, userId: null };
    const t = transition(r0, r0.facts, T0);
    assert.equal(entryOf(r0, t, api).cause, api);
    const timed = entryOf(r0, advance(r0, T0 + 10 * MIN), TIMED);
    assert.deepEqual(timed.cause, { kind: 'timed', reasons: ['preferredExpired'] });
  });
});

describe('timeline: bounds', () => {

  it('keeps the latest entries of each user, newest first', () => {
    const timeline = new Timeline({ perUser: 100, users: 10, entries: 1000 });
    for (let n = 0; n < 250; n++) timeline.record('t', 'u', entry(n));
    const kept = timeline.entries('t', 'u');
    assert.equal(kept.length, 100);
    assert.deepEqual(kept.map((e) => e.sequenceNumber), Array.from({ length: 100 }, (_, i) => 249 - i));
  });

  it('the same user id in two tenants has two timelines', () => {
    const timeline = new Timeline({ perUser: 5, users: 10, entries: 100 });
    timeline.record('t1', 'u', entry(1));
    timeline.record('t2', 'u', entry(2));
    timeline.record('t2', 'u', entry(3));
    assert.deepEqual(timeline.entries('t1', 'u').map((e) => e.sequenceNumber), [1]);
    assert.deepEqual(timeline.entries('t2', 'u').map((e) => e.sequenceNumber), [3, 2]);
    timeline.forget('t2', 'u');
    assert.deepEqual(timeline.entries('t1', 'u').map((e) => e.sequenceNumber), [1]);
    assert.deepEqual(timeline.size, { users: 1, entries: 1 });
  });

  it('tracks at most `users` users: the one changed least recently goes first', () => {
    const timeline = new Timeline({ perUser: 5, users: 3, entries: 1000 });
    for (const user of ['a', 'b', 'c']) timeline.record('t', user, entry(1));
    timeline.record('t', 'a', entry(2));
    timeline.record('t', 'd', entry(3));
    assert.deepEqual(timeline.entries('t', 'b'), [], 'b changed least recently');
    assert.equal(timeline.entries('t', 'a').length, 2);
    assert.deepEqual(timeline.size, { users: 3, entries: 4 });
  });

  it('at a large limit, only as many users go as the limit needs: the one changed least recently', () => {
    const timeline = new Timeline({ perUser: 5, users: 1_000, entries: 100_000 });
    for (let u = 0; u <= 1_000; u++) timeline.record('t', `u${u}`, entry(u));
    assert.deepEqual(timeline.size, { users: 1_000, entries: 1_000 });
    assert.deepEqual(timeline.entries('t', 'u0'), [], 'u0 changed least recently');
    assert.equal(timeline.entries('t', 'u1').length, 1, 'u1 is kept');
  });

  it('with one entry a user, each new one takes the place of the last', () => {
    const timeline = new Timeline({ perUser: 1, users: 10, entries: 100 });
    for (let n = 0; n < 3; n++) timeline.record('t', 'u', entry(n));
    assert.deepEqual(timeline.entries('t', 'u').map((e) => e.sequenceNumber), [2]);
    assert.deepEqual(timeline.size, { users: 1, entries: 1 });
  });

  it('reads back every field of every kind of cause as recorded, and keeps a copy, not the object given', () => {
    const timeline = new Timeline({ perUser: 10, users: 10, entries: 100 });
    const api = (action: string, userId: string | null, statusMessage: string | null): Recorded => ({
      ...entry(1), statusMessage, changed: ['availability', 'statusMessage'], cause: { kind: 'api', action, appId: APP, userId },
    });
    const given: Recorded[] = [
      api('setPresence', 'u', null),
      api('setPresence', 'u', 'lunch'),
      api('setStatusMessage', null, 'lunch'),
      { ...entry(2), availability: 'Busy', activity: 'InACall', changed: ['workLocation'],
        cause: { kind: 'timed', reasons: ['sessionExpired', 'statusMessageExpired'] } },
      { ...entry(3), cause: { kind: 'admin', action: 'userCreated' } },
    ];
    const copies = structuredClone(given);
    for (const e of given) timeline.record('t', 'u', e);
    for (const e of given) (e as { activity: string }).activity = 'changed after';
    assert.deepEqual(timeline.entries('t', 'u'), copies.reverse());
  });

  it('holds at most `entries` in all: past it the users changed least recently go first, whole', () => {
    const timeline = new Timeline({ perUser: 10, users: 100, entries: 25 });
    for (const user of ['a', 'b', 'c']) for (let n = 0; n < 10; n++) timeline.record('t', user, entry(n));
    assert.deepEqual(timeline.size, { users: 2, entries: 20 }, 'a went when c passed 25');
    assert.deepEqual(timeline.entries('t', 'a'), []);
    timeline.forget('t', 'b');
    assert.deepEqual(timeline.size, { users: 1, entries: 10 });
  });
});

describe('timeline: against a model', () => {
  /** The documented bounds, kept the plain way: an array per user, users in a Map in the order they last changed. */
  class Model {
    readonly lines = new Map<string, number[]>();
    constructor(private readonly limits: { perUser: number; users: number; entries: number }) {}
    get total(): number {
      return [...this.lines.values()].reduce((sum, line) => sum + line.length, 0);
    }
    record(user: string, n: number): void {
      const line = this.lines.get(user);
      if (!line && this.lines.size >= this.limits.users) this.dropOldest(() => this.lines.size >= this.limits.users);
      const next = [...(line ?? []), n].slice(-this.limits.perUser);
      this.lines.delete(user);
      this.lines.set(user, next);
      this.dropOldest(() => this.total > this.limits.entries && this.lines.size > 1);
    }
    private dropOldest(more: () => boolean): void {
      while (more()) this.lines.delete(this.lines.keys().next().value!);
    }
  }

  it('holds what the plain model holds, through any run of changes and forgets (slots freed and used again)', () => {
    const op = fc.oneof(
      fc.record({ forget: fc.constant(false), user: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ forget: fc.constant(true), user: fc.integer({ min: 0, max: 7 }) }),
    );
    const limits = fc.record({ perUser: fc.integer({ min: 1, max: 5 }), users: fc.integer({ min: 1, max: 6 }), entries: fc.integer({ min: 1, max: 20 }) });
    fc.assert(fc.property(limits, fc.array(op, { maxLength: 200 }), (l, ops) => {
      const timeline = new Timeline(l);
      const model = new Model(l);
      ops.forEach(({ forget, user }, n) => {
        if (forget) {
          timeline.forget('t', `u${user}`);
          model.lines.delete(`u${user}`);
        } else {
          timeline.record('t', `u${user}`, { ...entry(n), statusMessage: n % 3 === 0 ? null : `m${n % 2}` });
          model.record(`u${user}`, n);
        }
        for (let u = 0; u < 8; u++) {
          const kept = timeline.entries('t', `u${u}`);
          assert.deepEqual(kept.map((e) => e.sequenceNumber), [...(model.lines.get(`u${u}`) ?? [])].reverse());
          for (const e of kept) assert.equal(e.statusMessage, e.sequenceNumber % 3 === 0 ? null : `m${e.sequenceNumber % 2}`);
        }
        assert.deepEqual(timeline.size, { users: model.lines.size, entries: model.total });
      });
    }), { numRuns: 300 });
  });
});
