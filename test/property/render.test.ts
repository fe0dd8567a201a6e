/**
 * The presence JSON written directly (src/presence/render.ts fullMiddle) against the generic rendering (the shape's
 * object, JSON.stringify'd) for any view and either audience: the same bytes, on every cloud's shape; and a shape
 * it does not know makes PresenceJson fall back to the generic rendering.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { presenceForCloud, type Audience } from '../../src/domain/projection.ts';
import type { PresenceView } from '../../src/domain/types.ts';
import type { Shapeable } from '../../src/presence/addressing.ts';
import { BodyWriter } from '../../src/presence/bodyWriter.ts';
import { fullMiddle, PresenceJson } from '../../src/presence/render.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300) * 3;
const USER = '0b9e7a36-5e1a-4c6b-9d55-2f0c1c3e8a01';

const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constantFrom('', 'Busy', '"quoted" \\ \t\n', '会議中 😀'));
const view: fc.Arbitrary<PresenceView> = fc.record({
  availability: text,
  activity: text,
  statusMessage: fc.option(fc.record({
    content: text,
    contentType: fc.constantFrom('text', 'html'),
    publishedAt: fc.integer({ min: 0, max: Date.UTC(2200, 0, 1) }),
    expiry: fc.option(fc.record({ dateTime: text, timeZone: text }), { nil: undefined }),
  }, { requiredKeys: ['content', 'contentType', 'publishedAt'] }), { nil: null }),
  outOfOffice: fc.record({ isOutOfOffice: fc.boolean(), message: fc.option(text, { nil: null }) }),
  workLocation: fc.record({ workLocationType: text, source: text, placeId: fc.option(text, { nil: null }) }),
}) as fc.Arbitrary<PresenceView>;

function item(json: PresenceJson, snap: Shapeable, audience: Audience): string {
  const out = new BodyWriter(16);
  json.writeItem(out, USER, snap, audience);
  return out.take().toString('utf8');
}

describe('presence JSON written directly', () => {
  for (const limited of [false, true]) {
    it(`writes the bytes of the generic rendering for any view, owner and watcher (${limited ? 'US Government shape' : 'full shape'})`, () => {
      const shape = (id: string, s: Shapeable, a: Audience) => presenceForCloud(id, s.view, s.sequenceNumber, a, limited);
      fc.assert(fc.property(view, fc.constantFrom<Audience>('owner', 'watcher'), (v, audience) => {
        const json = new PresenceJson({ shape }, 4);
        const snap: Shapeable = { view: v, sequenceNumber: 'C00001796637981128000' };
        const expected = JSON.stringify(shape(USER, snap, audience));
        assert.equal(item(json, snap, audience), expected, 'first sight, written directly');
        assert.equal(item(json, snap, audience), expected, 'second, kept');
        assert.equal(item(json, snap, audience), expected, 'third, copied');
        assert.equal(json.entity('ctx', USER, snap, audience), `{"@odata.context":"ctx",${expected.slice(1)}`);
      }), { numRuns: RUNS });
    });
  }

  it('fullMiddle is what lies between id and sequenceNumber in the full shape, for any view', () => {
    fc.assert(fc.property(view, fc.constantFrom<Audience>('owner', 'watcher'), (v, audience) => {
      const whole = JSON.stringify(presenceForCloud('', v, '', audience, false));
      assert.equal(fullMiddle(v, audience), whole.slice('{"id":"",'.length, -',"sequenceNumber":""}'.length));
    }), { numRuns: RUNS });
  });

  it('on the full shape, renders views without building the shape\'s object (only to check itself, once)', () => {
    let calls = 0;
    const shape = (id: string, s: Shapeable, a: Audience) => {
      calls++;
      return presenceForCloud(id, s.view, s.sequenceNumber, a, false);
    };
    const json = new PresenceJson({ shape }, 4);
    const checked = calls;
    fc.assert(fc.property(view, (v) => void item(json, { view: v, sequenceNumber: 'C1' }, 'watcher')), { numRuns: 50 });
    assert.equal(calls, checked, 'no view was rendered through the shape');
  });

  it('falls back to the generic rendering for a shape it does not know (the same key names in another order)', () => {
    const shape = (id: string, s: Shapeable, a: Audience) => {
      const { activity, availability, ...rest } = presenceForCloud(id, s.view, s.sequenceNumber, a, false);
      return { ...rest, activity, availability };
    };
    fc.assert(fc.property(view, (v) => {
      const snap: Shapeable = { view: v, sequenceNumber: 'C1' };
      assert.equal(item(new PresenceJson({ shape }, 4), snap, 'owner'), JSON.stringify(shape(USER, snap, 'owner')));
    }), { numRuns: 50 });
  });
});
