import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toGraphPresence } from '../../src/domain/projection.ts';
import { transition } from '../../src/domain/record.ts';
import { parseSetStatusMessage, setStatusMessage } from '../../src/domain/statusMessage.ts';
import type { PresenceFacts } from '../../src/domain/types.ts';
import { view } from '../../src/domain/view.ts';
import { SEED_EXAMPLE_1, SEED_EXAMPLE_2, SEED_EXAMPLE_3, T0, at, body, facts, oofAlways, session } from './fixtures.ts';

const ID = 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3';
const SEQ = 'C00000000000000000012';
const GRAPH_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/;

/** As the client receives it: through JSON. */
const wire = (f: PresenceFacts, now: number, audience: 'owner' | 'watcher') =>
  JSON.parse(JSON.stringify(toGraphPresence(ID, view(f, now), SEQ, audience))) as Record<string, unknown>;

describe('toGraphPresence: owner', () => {
  it('sees expiryDateTime as sent (7 digits, zone as sent) and publishedDateTime in UTC with 7 digits and Z', () => {
    const published = at('2022-10-18T16:05:33.123Z');
    const f = setStatusMessage(facts(), parseSetStatusMessage(SEED_EXAMPLE_1), published);
    assert.deepEqual(wire(f, published, 'owner').statusMessage, {
      message: { content: "Hey I'm currently in a meeting.", contentType: 'text' },
      expiryDateTime: { dateTime: '2022-10-18T17:05:33.2079781', timeZone: 'Pacific Standard Time' },
      publishedDateTime: '2022-10-18T16:05:33.1230000Z',
    });
  });

  it('gets expiryDateTime only when one was set', () => {
    const f = setStatusMessage(facts(), parseSetStatusMessage(SEED_EXAMPLE_2), T0);
    const sm = wire(f, T0, 'owner').statusMessage as Record<string, unknown>;
    assert.deepEqual(Object.keys(sm).sort(), ['message', 'publishedDateTime']);
    assert.equal(sm.publishedDateTime, '2026-06-01T09:00:00.0000000Z');
  });

  it('sees the zone name exactly as sent and dateTime normalised', () => {
    const f = setStatusMessage(facts(), parseSetStatusMessage(body('x', { dateTime: '2026-10-25T02:30:00.5', timeZone: 'w. europe standard time' })), T0);
    const sm = wire(f, T0, 'owner').statusMessage as { expiryDateTime: unknown };
    assert.deepEqual(sm.expiryDateTime, { dateTime: '2026-10-25T02:30:00.5000000', timeZone: 'w. europe standard time' });
  });

  it('a year-9999 expiry is returned as sent and the message keeps showing', () => {
    const f = setStatusMessage(facts(), parseSetStatusMessage(body('Leave', { dateTime: '9999-12-31T23:59:59.9999999', timeZone: 'UTC' })), T0);
    const sm = wire(f, T0 + 365 * 86_400_000, 'owner').statusMessage as { expiryDateTime: unknown };
    assert.deepEqual(sm.expiryDateTime, { dateTime: '9999-12-31T23:59:59.9999999', timeZone: 'UTC' });
  });

  it('property: publishedDateTime is always UTC, 7 fractional digits, ending in Z, and is the publish instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: at('2000-01-01T00:00:00Z'), max: at('2100-01-01T00:00:00Z') }), (now) => {
        const f = setStatusMessage(facts(), parseSetStatusMessage(SEED_EXAMPLE_2), now);
        const p = (wire(f, now, 'owner').statusMessage as { publishedDateTime: string }).publishedDateTime;
        assert.match(p, GRAPH_UTC);
        assert.equal(Date.parse(p.slice(0, 23) + 'Z'), now);
      }),
    );
  });
});

describe('toGraphPresence: watcher (privacy rule)', () => {
  it('sees only message: no expiryDateTime, no publishedDateTime', () => {
    const f = setStatusMessage(facts(), parseSetStatusMessage(body('Secret plans', { dateTime: '2026-06-01T18:00:00', timeZone: 'UTC' })), T0);
    const sm = wire(f, T0, 'watcher').statusMessage as Record<string, unknown>;
    assert.deepEqual(sm, { message: { content: 'Secret plans', contentType: 'text' } });
    const raw = JSON.stringify(toGraphPresence(ID, view(f, T0), SEQ, 'watcher'));
    assert.ok(!raw.includes('expiryDateTime'));
    assert.ok(!raw.includes('publishedDateTime'));
    assert.ok(!raw.includes('2026-06-01T18:00:00'));
  });

  it('matches seed Example 3 field for field after seed Example 2 (with a live Available session)', () => {
    const now = at('2026-06-01T12:00:00Z');
    let r = transition(null, facts({ everActive: true, sessions: [session('Available', 'Available', now)] }), now).record;
    r = transition(r, setStatusMessage(r.facts, parseSetStatusMessage(SEED_EXAMPLE_2), now + 1), now + 1).record;
    const actual = JSON.parse(JSON.stringify(toGraphPresence(ID, r.view, r.sequenceNumber, 'watcher'))) as Record<string, unknown>;
    for (const [key, expected] of Object.entries(SEED_EXAMPLE_3)) {
      assert.deepEqual(actual[key], expected, `field ${key}`);
    }
    assert.equal(JSON.stringify(actual.statusMessage), JSON.stringify(SEED_EXAMPLE_3.statusMessage), 'same JSON text for statusMessage');
    // Anything beyond Example 3 is only what docs/api/presence.md adds to the resource (workLocation, sequenceNumber).
    assert.deepEqual(Object.keys(actual).filter((k) => !(k in SEED_EXAMPLE_3)).sort(), ['sequenceNumber', 'workLocation']);
    assert.equal(actual.sequenceNumber, r.sequenceNumber);
  });
});

describe('toGraphPresence: both audiences', () => {
  it('no status message → statusMessage null', () => {
    for (const a of ['owner', 'watcher'] as const) assert.equal(wire(facts(), T0, a).statusMessage, null);
  });

  it('an expired status message → statusMessage null', () => {
    const f = setStatusMessage(facts(), parseSetStatusMessage(SEED_EXAMPLE_1), at('2022-10-18T16:05:33Z'));
    for (const a of ['owner', 'watcher'] as const) assert.equal(wire(f, at('2022-10-19T00:05:33.208Z'), a).statusMessage, null);
  });

  it('the rest of the resource is the same for owner and watcher, with the shapes of docs/api/presence.md', () => {
    const f = facts({ everActive: true, sessions: [session('Busy', 'InACall', T0)], outOfOffice: oofAlways('Back Monday') });
    const owner = wire(f, T0, 'owner');
    const watcher = wire(f, T0, 'watcher');
    assert.deepEqual(owner, watcher);
    assert.deepEqual(owner, {
      id: ID,
      availability: 'Busy',
      activity: 'InACall',
      statusMessage: null,
      outOfOfficeSettings: { message: 'Back Monday', isOutOfOffice: true },
      workLocation: { workLocationType: 'unspecified', source: 'none', placeId: null },
      sequenceNumber: SEQ,
    });
  });

  it('a brand-new user: PresenceUnknown and the Graph default sub-objects', () => {
    assert.deepEqual(wire(facts(), T0, 'watcher'), {
      id: ID,
      availability: 'PresenceUnknown',
      activity: 'PresenceUnknown',
      statusMessage: null,
      outOfOfficeSettings: { message: null, isOutOfOffice: false },
      workLocation: { workLocationType: 'unspecified', source: 'none', placeId: null },
      sequenceNumber: SEQ,
    });
  });

  it('projection does not share objects with the view (a caller editing the JSON cannot change stored state)', () => {
    const f = setStatusMessage(facts(), parseSetStatusMessage(SEED_EXAMPLE_1), at('2022-10-18T16:05:33Z'));
    const v = view(f, at('2022-10-18T16:05:34Z'));
    const g = toGraphPresence(ID, v, SEQ, 'owner');
    assert.ok(g.statusMessage?.expiryDateTime);
    g.statusMessage.expiryDateTime.timeZone = 'tampered';
    g.workLocation.source = 'tampered';
    assert.equal(v.statusMessage?.expiry?.timeZone, 'Pacific Standard Time');
    assert.equal(v.workLocation.source, 'none');
  });
});
