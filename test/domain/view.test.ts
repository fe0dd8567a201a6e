import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseSetStatusMessage, setStatusMessage } from '../../src/domain/statusMessage.ts';
import type { Activity, Availability, PresenceFacts, StatusMessageFact } from '../../src/domain/types.ts';
import { FADE_AWAY_MS, FADE_INACTIVE_MS, nextChange, prune, sessionAt, view } from '../../src/domain/view.ts';
import { HOUR, MIN, SEED_EXAMPLE_1, T0, at, body, facts, oofAlways, oofScheduled, preferred, session } from './fixtures.ts';

const pair = (f: PresenceFacts, now: number) => {
  const v = view(f, now);
  return `${v.availability}/${v.activity}`;
};

function message(expiresAt: number | null, publishedAt = T0): StatusMessageFact {
  return { content: 'In a meeting', contentType: 'text', expiry: expiresAt === null ? null : { dateTime: 'x', timeZone: 'UTC' }, expiresAt, publishedAt };
}

describe('view: status message expiry', () => {
  it('shows until its instant and is null from the exact ms on (seed Example 1: .2079781 → gone at .208)', () => {
    const published = at('2022-10-18T16:05:33.123Z');
    const f = setStatusMessage(facts(), parseSetStatusMessage(SEED_EXAMPLE_1), published);
    assert.equal(view(f, published).statusMessage?.content, "Hey I'm currently in a meeting.");
    assert.equal(view(f, at('2022-10-19T00:05:33.207Z')).statusMessage?.content, "Hey I'm currently in a meeting.");
    assert.equal(view(f, at('2022-10-19T00:05:33.208Z')).statusMessage, null);
    assert.equal(view(f, at('2022-10-19T00:05:34Z')).statusMessage, null);
  });

  it('an expiry across a DST gap fires at the real instant (LA 02:30 on 2026-03-08 → 10:30Z)', () => {
    const published = at('2026-03-08T08:00:00Z');
    const f = setStatusMessage(facts(), parseSetStatusMessage(body('Night shift', { dateTime: '2026-03-08T02:30:00', timeZone: 'America/Los_Angeles' })), published);
    assert.equal(view(f, at('2026-03-08T10:29:59.999Z')).statusMessage?.content, 'Night shift');
    assert.equal(view(f, at('2026-03-08T10:30:00Z')).statusMessage, null);
    assert.equal(nextChange(f, published), at('2026-03-08T10:30:00Z'));
  });

  it('an expiry in an autumn overlap fires at the earlier instant (Berlin 02:30 on 2026-10-25 → 00:30Z)', () => {
    const published = at('2026-10-24T20:00:00Z');
    const f = setStatusMessage(facts(), parseSetStatusMessage(body('Party', { dateTime: '2026-10-25T02:30:00', timeZone: 'W. Europe Standard Time' })), published);
    assert.equal(view(f, at('2026-10-25T00:29:59.999Z')).statusMessage?.content, 'Party');
    assert.equal(view(f, at('2026-10-25T00:30:00Z')).statusMessage, null);
  });

  it('the view carries what the owner needs: content, contentType, expiry as sent, publishedAt', () => {
    const now = at('2026-06-01T12:00:00Z');
    const g = setStatusMessage(facts(), parseSetStatusMessage(body('Lunch', { dateTime: '2026-06-01T13:00:00', timeZone: 'utc' })), now);
    assert.deepEqual(view(g, now).statusMessage, {
      content: 'Lunch', contentType: 'text', expiry: { dateTime: '2026-06-01T13:00:00.0000000', timeZone: 'utc' }, publishedAt: now,
    });
  });

  it('a message without expiry shows forever', () => {
    const f = facts({ statusMessage: message(null) });
    assert.equal(view(f, at('9999-01-01T00:00:00Z')).statusMessage?.content, 'In a meeting');
  });
});

describe('nextChange', () => {
  it('returns the status-message expiry instant', () => {
    assert.equal(nextChange(facts({ statusMessage: message(T0 + HOUR) }), T0), T0 + HOUR);
  });

  it('is null when nothing will change by itself', () => {
    assert.equal(nextChange(facts(), T0), null);
    assert.equal(nextChange(facts({ statusMessage: message(null) }), T0), null);
  });

  it('is null for an instant already reached (the change is not in the future)', () => {
    assert.equal(nextChange(facts({ statusMessage: message(T0) }), T0), null);
    assert.equal(nextChange(facts({ statusMessage: message(T0 - 1) }), T0), null);
  });

  it('is the earliest of all due instants: fades, session expiry, preference expiry, message expiry, OOF window', () => {
    const s = session('Available', 'Available', T0, 2 * HOUR);
    let f = facts({ sessions: [s], statusMessage: message(T0 + HOUR), preferred: preferred('Busy', 'Busy', T0 + 3 * HOUR), everActive: true });
    assert.equal(nextChange(f, T0), T0 + FADE_INACTIVE_MS);
    assert.equal(nextChange(f, T0 + FADE_INACTIVE_MS), T0 + FADE_AWAY_MS);
    assert.equal(nextChange(f, T0 + FADE_AWAY_MS), T0 + HOUR);
    assert.equal(nextChange(f, T0 + HOUR), T0 + 2 * HOUR);
    assert.equal(nextChange(f, T0 + 2 * HOUR), T0 + 3 * HOUR);
    assert.equal(nextChange(f, T0 + 3 * HOUR), null);
    f = facts({ outOfOffice: oofScheduled(T0 + HOUR, T0 + 2 * HOUR) });
    assert.equal(nextChange(f, T0), T0 + HOUR);
    assert.equal(nextChange(f, T0 + HOUR), T0 + 2 * HOUR);
    assert.equal(nextChange(f, T0 + 2 * HOUR), null);
  });

  it('property: the view does not change strictly between now and nextChange, and does change by nextChange (message expiry)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 * HOUR }), fc.integer({ min: 0, max: 10 * HOUR }), (life, probe) => {
        const f = facts({ statusMessage: message(T0 + life) });
        const due = nextChange(f, T0);
        assert.equal(due, T0 + life);
        const t = T0 + Math.min(probe, life - 1);
        assert.deepEqual(view(f, t), view(f, T0));
        assert.notDeepEqual(view(f, due), view(f, T0));
      }),
    );
  });
});

describe('prune', () => {
  it('drops an expired message, keeps a live one and one that never expires', () => {
    assert.equal(prune(facts({ statusMessage: message(T0) }), T0).statusMessage, null);
    assert.equal(prune(facts({ statusMessage: message(T0 - 1) }), T0).statusMessage, null);
    assert.equal(prune(facts({ statusMessage: message(T0 + 1) }), T0).statusMessage?.content, 'In a meeting');
    assert.equal(prune(facts({ statusMessage: message(null) }), T0).statusMessage?.content, 'In a meeting');
  });

  it('drops expired sessions and preferences but remembers the user was active', () => {
    const live = session('Busy', 'InACall', T0, HOUR);
    const gone = session('Available', 'Available', T0 - 2 * HOUR, HOUR);
    const p = prune(facts({ sessions: [live, gone], preferred: preferred('Busy', 'Busy', T0), everActive: true }), T0);
    assert.deepEqual(p.sessions, [live]);
    assert.equal(p.preferred, null);
    assert.equal(p.everActive, true);
  });

  it('never changes the view at that instant', () => {
    const f = facts({
      statusMessage: message(T0), sessions: [session('Available', 'Available', T0 - 7 * MIN), session('Busy', 'InACall', T0 - 2 * HOUR)],
      preferred: preferred('DoNotDisturb', 'DoNotDisturb', T0 + 1), everActive: true, outOfOffice: oofAlways(),
    });
    for (const t of [T0 - 1, T0, T0 + 1, T0 + HOUR]) assert.deepEqual(view(prune(f, t), t), view(f, t));
  });
});

describe('view: sessions and aggregation', () => {
  it('a user who never had a session is PresenceUnknown/PresenceUnknown', () => {
    assert.equal(pair(facts(), T0), 'PresenceUnknown/PresenceUnknown');
  });

  it('once active, with no live session, the user is Offline/Offline', () => {
    assert.equal(pair(facts({ everActive: true }), T0), 'Offline/Offline');
    const expired = session('Busy', 'InACall', T0 - 2 * HOUR, HOUR);
    assert.equal(pair(facts({ everActive: true, sessions: [expired] }), T0), 'Offline/Offline');
  });

  it('an unrefreshed Available session fades: AvailableInactive at +5 min, Away at +10 min, gone at expiry', () => {
    const f = facts({ everActive: true, sessions: [session('Available', 'Available', T0, HOUR)] });
    assert.equal(pair(f, T0), 'Available/Available');
    assert.equal(pair(f, T0 + 5 * MIN - 1), 'Available/Available');
    assert.equal(pair(f, T0 + 5 * MIN), 'Available/AvailableInactive');
    assert.equal(pair(f, T0 + 10 * MIN - 1), 'Available/AvailableInactive');
    assert.equal(pair(f, T0 + 10 * MIN), 'Away/Away');
    assert.equal(pair(f, T0 + HOUR - 1), 'Away/Away');
    assert.equal(pair(f, T0 + HOUR), 'Offline/Offline');
  });

  it('sessionAt: only Available fades; a session is null from its expiry on', () => {
    const busy = session('Busy', 'InACall', T0, HOUR);
    assert.deepEqual(sessionAt(busy, T0 + 30 * MIN), { availability: 'Busy', activity: 'InACall' });
    assert.equal(sessionAt(busy, T0 + HOUR), null);
    const dnd = session('DoNotDisturb', 'Presenting', T0, HOUR);
    assert.deepEqual(sessionAt(dnd, T0 + 59 * MIN), { availability: 'DoNotDisturb', activity: 'Presenting' });
  });

  const strongestCases: ReadonlyArray<[Array<[Availability, Activity]>, string]> = [
    [[['Available', 'Available'], ['Busy', 'InACall']], 'Busy/InACall'],
    [[['Busy', 'InAConferenceCall'], ['DoNotDisturb', 'Presenting']], 'DoNotDisturb/Presenting'],
    [[['Away', 'Away'], ['Available', 'Available']], 'Available/Available'],
    [[['Away', 'Away'], ['Busy', 'InACall'], ['Available', 'Available'], ['DoNotDisturb', 'Presenting']], 'DoNotDisturb/Presenting'],
    [[['BeRightBack', 'BeRightBack'], ['Away', 'Away']], 'Away/Away'],
  ];
  for (const [pairs, expected] of strongestCases) {
    it(`the strongest live session wins: ${pairs.map((p) => p.join('/')).join(' + ')} → ${expected}`, () => {
      for (const order of [pairs, [...pairs].reverse()]) {
        const sessions = order.map(([a, b], i) => session(a, b, T0 + i, HOUR, `s${i}`));
        assert.equal(pair(facts({ everActive: true, sessions }), T0 + 10), expected);
      }
    });
  }

  it('a faded Available session (now Away) loses to a Busy one, and a fresh Available one beats it', () => {
    const old = session('Available', 'Available', T0, HOUR, 'old');
    const busy = session('Busy', 'InACall', T0, HOUR, 'busy');
    assert.equal(pair(facts({ everActive: true, sessions: [old, busy] }), T0 + 11 * MIN), 'Busy/InACall');
    const fresh = session('Available', 'Available', T0 + 6 * MIN, HOUR, 'fresh');
    assert.equal(pair(facts({ everActive: true, sessions: [old, fresh] }), T0 + 6 * MIN), 'Available/Available');
    assert.equal(pair(facts({ everActive: true, sessions: [fresh, old] }), T0 + 6 * MIN), 'Available/Available');
  });

  it('expired sessions no longer count', () => {
    const busyGone = session('Busy', 'InACall', T0, 30 * MIN, 'busy');
    const avail = session('Available', 'Available', T0 + 29 * MIN, HOUR, 'avail');
    const f = facts({ everActive: true, sessions: [busyGone, avail] });
    assert.equal(pair(f, T0 + 30 * MIN - 1), 'Busy/InACall');
    assert.equal(pair(f, T0 + 30 * MIN), 'Available/Available');
  });

  it('property: with fresh sessions, the availability shown is the strongest one (DoNotDisturb > Busy > Available > Away)', () => {
    const rank: Record<string, number> = { DoNotDisturb: 4, Busy: 3, Available: 2, Away: 1 };
    const pairs = fc.constantFrom<[Availability, Activity]>(
      ['Available', 'Available'], ['Busy', 'InACall'], ['Busy', 'InAConferenceCall'], ['Away', 'Away'], ['DoNotDisturb', 'Presenting'],
    );
    fc.assert(
      fc.property(fc.array(pairs, { minLength: 1, maxLength: 6 }), (ps) => {
        const sessions = ps.map(([a, b], i) => session(a, b, T0 - i, HOUR, `s${i}`));
        const expected = ps.map(([a]) => a).sort((x, y) => (rank[y] ?? 0) - (rank[x] ?? 0))[0];
        assert.equal(view(facts({ everActive: true, sessions }), T0).availability, expected);
      }),
    );
  });
});

describe('view: preferred presence', () => {
  const live = () => session('Available', 'Available', T0, HOUR);

  it('overrides every session while a session is live', () => {
    const f = facts({ everActive: true, sessions: [live(), session('DoNotDisturb', 'Presenting', T0)], preferred: preferred('Busy', 'Busy', T0 + 2 * HOUR) });
    assert.equal(pair(f, T0 + MIN), 'Busy/Busy');
    assert.equal(pair(facts({ everActive: true, sessions: [live()], preferred: preferred('Offline', 'OffWork', T0 + 2 * HOUR) }), T0 + MIN), 'Offline/OffWork');
  });

  it('does not show without a live session: Offline/Offline (or PresenceUnknown for a user never active)', () => {
    assert.equal(pair(facts({ everActive: true, preferred: preferred('Busy', 'Busy', T0 + HOUR) }), T0), 'Offline/Offline');
    assert.equal(pair(facts({ preferred: preferred('Busy', 'Busy', T0 + HOUR) }), T0), 'PresenceUnknown/PresenceUnknown');
    const f = facts({ everActive: true, sessions: [session('Available', 'Available', T0, 30 * MIN)], preferred: preferred('DoNotDisturb', 'DoNotDisturb', T0 + HOUR) });
    assert.equal(pair(f, T0 + 30 * MIN - 1), 'DoNotDisturb/DoNotDisturb');
    assert.equal(pair(f, T0 + 30 * MIN), 'Offline/Offline');
  });

  it('stops overriding at its expiry', () => {
    const f = facts({ everActive: true, sessions: [session('Busy', 'InACall', T0, 2 * HOUR)], preferred: preferred('Available', 'Available', T0 + HOUR) });
    assert.equal(pair(f, T0 + HOUR - 1), 'Available/Available');
    assert.equal(pair(f, T0 + HOUR), 'Busy/InACall');
  });
});

describe('view: out of office', () => {
  const withSession = (a: Availability, b: Activity) => facts({ everActive: true, sessions: [session(a, b, T0)], outOfOffice: oofAlways('Back Monday') });

  it('shows OutOfOffice as the activity, keeps availability, and exposes the message', () => {
    const v = view(withSession('Available', 'Available'), T0);
    assert.equal(v.availability, 'Available');
    assert.equal(v.activity, 'OutOfOffice');
    assert.deepEqual(v.outOfOffice, { isOutOfOffice: true, message: 'Back Monday' });
    assert.equal(view(withSession('Busy', 'Busy'), T0).activity, 'OutOfOffice');
    assert.equal(view(withSession('DoNotDisturb', 'DoNotDisturb'), T0).activity, 'OutOfOffice');
  });

  for (const act of ['InACall', 'InAConferenceCall', 'InAMeeting', 'Presenting'] as const) {
    it(`keeps ${act} (a call, meeting or presentation is more useful to show)`, () => {
      const a: Availability = act === 'Presenting' ? 'DoNotDisturb' : 'Busy';
      assert.equal(view(withSession(a, act), T0).activity, act);
      assert.equal(view(withSession(a, act), T0).outOfOffice.isOutOfOffice, true);
    });
  }

  it('a scheduled window applies from its start (inclusive) to its end (exclusive)', () => {
    const f = facts({ everActive: true, sessions: [session('Available', 'Available', T0, 10 * HOUR)], outOfOffice: oofScheduled(T0 + HOUR, T0 + 2 * HOUR, 'Dentist') });
    const oof = (t: number) => view(f, t).outOfOffice;
    assert.deepEqual(oof(T0 + HOUR - 1), { isOutOfOffice: false, message: null });
    assert.deepEqual(oof(T0 + HOUR), { isOutOfOffice: true, message: 'Dentist' });
    assert.deepEqual(oof(T0 + 2 * HOUR - 1), { isOutOfOffice: true, message: 'Dentist' });
    assert.deepEqual(oof(T0 + 2 * HOUR), { isOutOfOffice: false, message: null });
  });

  it('disabled: not out of office, message hidden', () => {
    const f = facts({ outOfOffice: { ...oofAlways('hidden'), status: 'disabled' } });
    assert.deepEqual(view(f, T0).outOfOffice, { isOutOfOffice: false, message: null });
  });
});

describe('view: defaults', () => {
  it('a fresh user shows the Graph defaults', () => {
    assert.deepEqual(view(facts(), T0), {
      availability: 'PresenceUnknown',
      activity: 'PresenceUnknown',
      statusMessage: null,
      outOfOffice: { isOutOfOffice: false, message: null },
      workLocation: { workLocationType: 'unspecified', source: 'none', placeId: null },
    });
  });

  it('work location: manual > automatic > scheduled', () => {
    const wl = {
      manual: { workLocationType: 'remote' as const, placeId: null },
      automatic: { workLocationType: 'office' as const, placeId: 'b1' },
      scheduled: { workLocationType: 'timeOff' as const, placeId: null },
    };
    assert.deepEqual(view(facts({ workLocation: wl }), T0).workLocation, { workLocationType: 'remote', source: 'manual', placeId: null });
    assert.deepEqual(view(facts({ workLocation: { ...wl, manual: null } }), T0).workLocation, { workLocationType: 'office', source: 'automatic', placeId: 'b1' });
    assert.deepEqual(view(facts({ workLocation: { ...wl, manual: null, automatic: null } }), T0).workLocation, { workLocationType: 'timeOff', source: 'scheduled', placeId: null });
  });
});

describe('view: the parts most views have are one shared object', () => {
  it('users with messages of their own share the out-of-office and work-location parts; an out-of-office user has their own', () => {
    const a = view(setStatusMessage(facts(), parseSetStatusMessage(body('On the train')), T0), T0);
    const b = view(setStatusMessage(facts(), parseSetStatusMessage(body('Back at 3')), T0), T0);
    assert.notEqual(a, b);
    assert.equal(a.outOfOffice, b.outOfOffice, 'one object for every view that is not out of office');
    assert.equal(a.workLocation, b.workLocation, 'one object for every view without a work location');
    assert.deepEqual(a.outOfOffice, { isOutOfOffice: false, message: null });
    assert.deepEqual(a.workLocation, { workLocationType: 'unspecified', source: 'none', placeId: null });
    assert.ok(Object.isFrozen(a.outOfOffice) && Object.isFrozen(a.workLocation), 'shared, so nobody may change them');
    const away = view(facts({ outOfOffice: oofAlways('Gone fishing') }), T0);
    assert.deepEqual(away.outOfOffice, { isOutOfOffice: true, message: 'Gone fishing' });
    assert.notEqual(away.outOfOffice, a.outOfOffice);
  });
});
