import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  advance, formatSequence, newRecord, nextSequence, parseSequence, sequenceValue, transition,
} from '../../src/domain/record.ts';
import { parseSetStatusMessage, setStatusMessage } from '../../src/domain/statusMessage.ts';
import type { PresenceFacts, PresenceRecord } from '../../src/domain/types.ts';
import { view } from '../../src/domain/view.ts';
import { HOUR, MIN, SEED_EXAMPLE_1, T0, at, body, facts, oofScheduled, session } from './fixtures.ts';

const SEQ = /^C\d{20}$/;

const setMsg = (f: PresenceFacts, content: string, now: number, expiry?: { dateTime: string; timeZone: string }) =>
  setStatusMessage(f, parseSetStatusMessage(body(content, expiry)), now);

describe('newRecord', () => {
  it('a new record shows PresenceUnknown/PresenceUnknown, no message, nothing due', () => {
    const r = newRecord(T0);
    assert.equal(r.view.availability, 'PresenceUnknown');
    assert.equal(r.view.activity, 'PresenceUnknown');
    assert.equal(r.view.statusMessage, null);
    assert.equal(r.dueAt, null);
    assert.match(r.sequenceNumber, SEQ);
  });

  it('a record re-created later sorts after the one it replaces', () => {
    let r = transition(null, setMsg(facts(), 'a', T0), T0).record;
    for (let i = 0; i < 5; i++) r = transition(r, setMsg(r.facts, `a${i}`, T0 + i), T0 + i).record;
    const again = newRecord(T0 + 10);
    assert.ok(again.sequenceNumber > r.sequenceNumber, `${again.sequenceNumber} > ${r.sequenceNumber}`);
  });
});

describe('sequence numbers', () => {
  it('have the format C + 20 digits and round-trip', () => {
    assert.equal(formatSequence(12), 'C00000000000000000012');
    assert.equal(parseSequence('C00000000000000000012'), 12);
    assert.match(nextSequence(null, T0), SEQ);
  });

  it('nextSequence is larger than the previous one even if the clock went backwards', () => {
    const a = nextSequence(null, T0);
    const b = nextSequence(a, T0 - HOUR);
    assert.ok(b > a);
    assert.equal(parseSequence(b), parseSequence(a) + 1);
  });

  it('nextSequence is at least the time in microseconds, so it jumps forward with the clock', () => {
    assert.equal(parseSequence(nextSequence(formatSequence(5), T0)), T0 * 1000);
  });

  it('property: any safe number formats as C + 20 digits (16-digit numbers too, the common case), and sequenceValue reads back exactly the strings formatSequence makes', () => {
    fc.assert(fc.property(fc.oneof(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1e15, max: Number.MAX_SAFE_INTEGER })), (n) => {
      const s = formatSequence(n);
      assert.match(s, SEQ);
      assert.equal(s, `C${String(n).padStart(20, '0')}`);
      assert.equal(sequenceValue(s), n);
    }));
    for (const odd of ['C1', 'S00000000000000000012', 'C 0000000000000000012', 'C0000000000000000001.', 'C99999999999999999999', 'c00000000000000000012', '']) {
      assert.ok(Number.isNaN(sequenceValue(odd)), odd);
    }
  });

  it('property: lexicographic order is numeric order', () => {
    fc.assert(
      fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.nat({ max: Number.MAX_SAFE_INTEGER }), (x, y) => {
        const sx = formatSequence(x);
        const sy = formatSequence(y);
        assert.equal(sx < sy, x < y);
        assert.equal(parseSequence(sx), x);
      }),
    );
  });
});

describe('transition', () => {
  it('from nothing: a set message shows, sequenceNumber is bumped, the expiry is due', () => {
    const f = setMsg(facts(), 'Lunch', T0, { dateTime: '2026-06-01T10:00:00', timeZone: 'UTC' });
    const t = transition(null, f, T0);
    assert.equal(t.changed, true);
    assert.equal(t.record.view.statusMessage?.content, 'Lunch');
    assert.ok(t.record.sequenceNumber > newRecord(T0).sequenceNumber);
    assert.equal(t.record.dueAt, at('2026-06-01T10:00:00Z'));
  });

  it('a no-op transition keeps the same sequenceNumber', () => {
    const r = transition(null, setMsg(facts(), 'Lunch', T0), T0).record;
    const same = transition(r, r.facts, T0 + MIN);
    assert.equal(same.changed, false);
    assert.equal(same.record.sequenceNumber, r.sequenceNumber);
    assert.deepEqual(same.record.view, r.view);
  });

  it('setting the same content again is a change (publishedDateTime moves) and bumps', () => {
    const r = transition(null, setMsg(facts(), 'Lunch', T0), T0).record;
    const again = transition(r, setMsg(r.facts, 'Lunch', T0 + 1000), T0 + 1000);
    assert.equal(again.changed, true);
    assert.ok(again.record.sequenceNumber > r.sequenceNumber);
    assert.equal(again.record.view.statusMessage?.publishedAt, T0 + 1000);
  });

  it('changing only the expiry (as sent) bumps', () => {
    const r = transition(null, setMsg(facts(), 'Lunch', T0, { dateTime: '2026-06-01T10:00:00', timeZone: 'UTC' }), T0).record;
    const t = transition(r, { ...r.facts, statusMessage: r.facts.statusMessage && { ...r.facts.statusMessage, expiry: { dateTime: '2026-06-01T10:00:00.0000000', timeZone: 'Etc/UTC' } } }, T0);
    assert.equal(t.changed, true);
    assert.ok(t.record.sequenceNumber > r.sequenceNumber);
  });

  it('clearing a message bumps; clearing when there is none does not', () => {
    const r = transition(null, setMsg(facts(), 'Lunch', T0), T0).record;
    const cleared = transition(r, setStatusMessage(r.facts, { kind: 'clear' }, T0 + 1), T0 + 1);
    assert.equal(cleared.changed, true);
    assert.equal(cleared.record.view.statusMessage, null);
    const again = transition(cleared.record, setStatusMessage(cleared.record.facts, { kind: 'clear' }, T0 + 2), T0 + 2);
    assert.equal(again.changed, false);
    assert.equal(again.record.sequenceNumber, cleared.record.sequenceNumber);
  });

  it('an already-expired message (seed Example 1 in 2026) shows null at once and is pruned', () => {
    const now = at('2026-06-01T12:00:00Z');
    const r = transition(null, setMsg(facts(), 'Old', now - 1), now - 1).record;
    const t = transition(r, setStatusMessage(r.facts, parseSetStatusMessage(SEED_EXAMPLE_1), now), now);
    assert.equal(t.changed, true, 'the previous message disappears');
    assert.equal(t.record.view.statusMessage, null);
    assert.equal(t.record.facts.statusMessage, null);
    assert.equal(t.record.dueAt, null);
    const fresh = newRecord(now);
    const t2 = transition(fresh, setStatusMessage(fresh.facts, parseSetStatusMessage(SEED_EXAMPLE_1), now), now);
    assert.equal(t2.changed, false, 'nothing visible changed for a user with no message');
    assert.equal(t2.record.sequenceNumber, fresh.sequenceNumber);
  });
});

describe('advance (timed transitions)', () => {
  it('a message expiry: nothing before the instant, a bump and null exactly at it, then pruned and nothing due', () => {
    const f = setMsg(facts(), 'Night shift', at('2026-03-08T08:00:00Z'), { dateTime: '2026-03-08T02:30:00', timeZone: 'Pacific Standard Time' });
    const r = transition(null, f, at('2026-03-08T08:00:00Z')).record;
    assert.equal(r.dueAt, at('2026-03-08T10:30:00Z'));
    const early = advance(r, at('2026-03-08T10:29:59.999Z'));
    assert.equal(early.changed, false);
    assert.equal(early.record.sequenceNumber, r.sequenceNumber);
    const due = advance(r, r.dueAt ?? 0);
    assert.equal(due.changed, true);
    assert.equal(due.record.view.statusMessage, null);
    assert.equal(due.record.facts.statusMessage, null);
    assert.ok(due.record.sequenceNumber > r.sequenceNumber);
    assert.equal(due.record.dueAt, null);
  });

  it('session fades and expiry each bump once, at their instants', () => {
    const f = facts({ everActive: true, sessions: [session('Available', 'Available', T0, 30 * MIN)] });
    let r = transition(null, f, T0).record;
    const seen: string[] = [];
    const seqs = [r.sequenceNumber];
    while (r.dueAt !== null) {
      const t = advance(r, r.dueAt);
      assert.equal(t.changed, true, `a due instant changes the view (${new Date(r.dueAt).toISOString()})`);
      r = t.record;
      seen.push(`${r.view.availability}/${r.view.activity}`);
      seqs.push(r.sequenceNumber);
    }
    assert.deepEqual(seen, ['Available/AvailableInactive', 'Away/Away', 'Offline/Offline']);
    assert.deepEqual([...seqs].sort(), seqs);
    assert.equal(new Set(seqs).size, seqs.length);
  });

  it('an out-of-office window opening and closing bumps', () => {
    const f = facts({ outOfOffice: oofScheduled(T0 + HOUR, T0 + 2 * HOUR) });
    const r0 = transition(null, f, T0).record;
    assert.equal(r0.dueAt, T0 + HOUR);
    const r1 = advance(r0, T0 + HOUR);
    assert.equal(r1.changed, true);
    assert.equal(r1.record.view.outOfOffice.isOutOfOffice, true);
    const r2 = advance(r1.record, T0 + 2 * HOUR);
    assert.equal(r2.changed, true);
    assert.equal(r2.record.view.outOfOffice.isOutOfOffice, false);
    assert.ok(r2.record.sequenceNumber > r1.record.sequenceNumber);
  });
});

describe('property: sequence numbers over random histories', () => {
  type Cmd =
    | { op: 'set'; content: string; lifeMs: number | null }
    | { op: 'clear' }
    | { op: 'session'; pair: 0 | 1 | 2 | 3; lifeMs: number }
    | { op: 'advance' };

  const PAIRS = [['Available', 'Available'], ['Busy', 'InACall'], ['Away', 'Away'], ['DoNotDisturb', 'Presenting']] as const;

  const cmd: fc.Arbitrary<Cmd> = fc.oneof(
    fc.record({ op: fc.constant('set' as const), content: fc.constantFrom('a', 'b', 'Lunch'), lifeMs: fc.option(fc.integer({ min: -HOUR, max: HOUR }), { nil: null }) }),
    fc.record({ op: fc.constant('clear' as const) }),
    fc.record({ op: fc.constant('session' as const), pair: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const), lifeMs: fc.integer({ min: 5 * MIN, max: 4 * HOUR }) }),
    fc.record({ op: fc.constant('advance' as const) }),
  );
  // Time steps: mostly forward, sometimes zero, sometimes backwards (clock skew between nodes, manual clock reset).
  const step = fc.oneof(fc.integer({ min: 0, max: 20 * MIN }), fc.constant(0), fc.integer({ min: -HOUR, max: -1 }));

  function apply(r: PresenceRecord | null, c: Cmd, now: number) {
    const f = r?.facts ?? facts();
    switch (c.op) {
      case 'set':
        return transition(r, setStatusMessage(f, {
          kind: 'set',
          message: { content: c.content, contentType: 'text', expiry: c.lifeMs === null ? null : { dateTime: 'x', timeZone: 'UTC' }, expiresAt: c.lifeMs === null ? null : now + c.lifeMs },
        }, now), now);
      case 'clear':
        return transition(r, setStatusMessage(f, { kind: 'clear' }, now), now);
      case 'session': {
        const [availability, activity] = PAIRS[c.pair];
        const s = session(availability, activity, now, c.lifeMs, `app${c.pair}`);
        return transition(r, { ...f, everActive: true, sessions: [...f.sessions.filter((x) => x.sessionId !== s.sessionId), s] }, now);
      }
      case 'advance':
        return r ? advance(r, now) : transition(null, f, now);
    }
  }

  it('bump exactly when the view changes; numbers strictly increase and sort lexicographically', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(cmd, step), { minLength: 1, maxLength: 40 }), (history) => {
        let now = T0;
        let r: PresenceRecord | null = null;
        const seqs: string[] = [];
        for (const [c, dt] of history) {
          now += dt;
          const before: PresenceRecord = r ?? newRecord(now);
          const t = apply(r, c, now);
          assert.match(t.record.sequenceNumber, SEQ);
          assert.equal(t.changed, JSON.stringify(before.view) !== JSON.stringify(t.record.view), 'changed iff the view differs');
          if (t.changed) {
            assert.ok(t.record.sequenceNumber > before.sequenceNumber, 'bumped');
            assert.ok(parseSequence(t.record.sequenceNumber) > parseSequence(before.sequenceNumber));
            seqs.push(t.record.sequenceNumber);
          } else {
            assert.equal(t.record.sequenceNumber, before.sequenceNumber, 'not bumped');
          }
          assert.deepEqual(t.record.view, view(t.record.facts, now), 'the stored view is the view of the stored facts');
          assert.ok(t.record.dueAt === null || t.record.dueAt > now, 'the next due instant is in the future');
          r = t.record;
        }
        for (let i = 1; i < seqs.length; i++) assert.ok((seqs[i - 1] ?? '') < (seqs[i] ?? ''));
        assert.deepEqual([...seqs].sort(), seqs);
      }),
      { numRuns: 300 },
    );
  });

  it('advancing through each due instant never goes backwards and ends with nothing due', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(cmd, fc.integer({ min: 0, max: 10 * MIN })), { minLength: 1, maxLength: 15 }), (history) => {
        let now = T0;
        let r: PresenceRecord | null = null;
        for (const [c, dt] of history) {
          now += dt;
          r = apply(r, c, now).record;
        }
        let guard = 0;
        while (r && r.dueAt !== null && guard++ < 100) {
          const t = advance(r, r.dueAt);
          // A due instant may be a no-op (e.g. a fade of a session that is outvoted), but never goes backwards.
          assert.ok(t.record.sequenceNumber >= r.sequenceNumber);
          assert.ok(t.record.dueAt === null || t.record.dueAt > r.dueAt);
          r = t.record;
        }
        assert.ok(r !== null && r.dueAt === null);
        assert.equal(r.facts.sessions.length, 0, 'every session eventually expires');
        assert.ok(r.facts.statusMessage === null || r.facts.statusMessage.expiresAt === null);
      }),
      { numRuns: 200 },
    );
  });
});
