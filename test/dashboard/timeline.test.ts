/**
 * The timeline's pure parts (docs/operations/dashboard.md#the-timeline): what a change changed and why a timed one
 * happened, from the records before and after; and its bounds (100 entries per user, the user changed least recently
 * forgotten first).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
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
  const entry = (n: number): Recorded => ({
    sequenceNumber: n, at: T0 + n, availability: 'Available', activity: 'Available', statusMessage: null, changed: [],
    cause: { kind: 'admin', action: 'test' },
  });

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

  it('a user with one entry and a user with two read back in order, and forgetting them counts both', () => {
    const timeline = new Timeline({ perUser: 5, users: 10, entries: 100 });
    timeline.record('t', 'one', entry(1));
    timeline.record('t', 'two', entry(2));
    timeline.record('t', 'two', entry(3));
    assert.deepEqual(timeline.entries('t', 'one').map((e) => e.sequenceNumber), [1]);
    assert.deepEqual(timeline.entries('t', 'two').map((e) => e.sequenceNumber), [3, 2]);
    timeline.forget('t', 'two');
    assert.deepEqual(timeline.size, { users: 1, entries: 1 });
    timeline.forget('t', 'one');
    assert.deepEqual(timeline.size, { users: 0, entries: 0 });
  });

  it('a cause the entry before gave already is kept once; another cause stays its own', () => {
    const timeline = new Timeline({ perUser: 10, users: 10, entries: 100 });
    const api = (action: string, userId: string | null): Recorded => ({
      ...entry(0), cause: { kind: 'api', action, appId: APP, userId },
    });
    for (const e of [api('setPresence', 'u'), api('setPresence', 'u'), api('setStatusMessage', 'u'), api('setStatusMessage', null)]) {
      timeline.record('t', 'u', e);
    }
    const [byApp, message, second, first] = timeline.entries('t', 'u').map((e) => e.cause);
    assert.equal(second, first, 'the same call again shares the cause object');
    assert.deepEqual(second, { kind: 'api', action: 'setPresence', appId: APP, userId: 'u' });
    assert.notEqual(message, second);
    assert.deepEqual(message, { kind: 'api', action: 'setStatusMessage', appId: APP, userId: 'u' });
    assert.deepEqual(byApp, { kind: 'api', action: 'setStatusMessage', appId: APP, userId: null }, 'an app token is not the user');
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
