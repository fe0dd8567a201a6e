/**
 * Presence JSON made from parts (src/presence/render.ts): the rendering between `id` and `sequenceNumber` is kept per
 * view for the latest views only, so a server whose users keep making new views holds a bounded number, and a view
 * that fell out is rendered again to the same bytes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Audience } from '../../src/domain/projection.ts';
import type { PresenceView } from '../../src/domain/types.ts';
import type { Shapeable } from '../../src/presence/addressing.ts';
import { PresenceJson } from '../../src/presence/render.ts';

const USER = '0b9e7a36-5e1a-4c6b-9d55-2f0c1c3e8a01';

/** A stand-in for the API's shape: id, availability, activity and sequenceNumber, counting its renderings. */
function fakeShape() {
  const calls: Array<{ view: PresenceView; audience: Audience }> = [];
  const shape = (id: string, snap: Shapeable, audience: Audience) => {
    calls.push({ view: snap.view, audience });
    return { id, availability: snap.view.availability, activity: audience === 'owner' ? snap.view.activity : 'Hidden', sequenceNumber: snap.sequenceNumber };
  };
  return { shape, calls };
}

const viewOf = (availability: string, activity: string) => ({ availability, activity }) as unknown as PresenceView;
const snap = (view: PresenceView): Shapeable => ({ view, sequenceNumber: 'C0001' });

describe('presence JSON from kept renderings', () => {
  it('renders the same bytes as the whole object, kept or not', () => {
    const fake = fakeShape();
    const json = new PresenceJson(fake, 2);
    const views = [viewOf('Busy', 'InACall'), viewOf('Away', 'Away'), viewOf('Available', 'Available')];
    const whole = (v: PresenceView, audience: Audience) => JSON.stringify(fake.shape(USER, snap(v), audience));
    for (const round of [1, 2]) {
      for (const v of views) {
        for (const audience of ['owner', 'watcher'] as const) {
          assert.equal(json.item(USER, snap(v), audience), whole(v, audience), `round ${round}`);
          assert.equal(json.entity('ctx', USER, snap(v), audience), `{"@odata.context":"ctx",${whole(v, audience).slice(1)}`);
        }
      }
    }
  });

  it('keeps the latest views only: one that fell out is rendered again, one still kept is not', () => {
    const fake = fakeShape();
    const json = new PresenceJson(fake, 2);
    const [a, b, c] = [viewOf('Busy', 'InACall'), viewOf('Away', 'Away'), viewOf('Available', 'Available')];
    const renders = (v: PresenceView) => fake.calls.filter((call) => call.view === v && call.audience === 'owner').length;
    for (const v of [a, b, a, b]) json.item(USER, snap(v), 'owner');
    assert.equal(renders(a), 1, 'a kept view is rendered once');
    assert.equal(renders(b), 1);
    json.item(USER, snap(c), 'owner');
    json.item(USER, snap(a), 'owner');
    assert.equal(renders(a), 2, 'two views later, the first had to be rendered again');
    json.item(USER, snap(c), 'owner');
    assert.equal(renders(c), 1, 'the view kept since stays kept');
  });

  it('an unknown user (no sequence number) is rendered whole each time', () => {
    const fake = fakeShape();
    const json = new PresenceJson(fake, 2);
    const unknown: Shapeable = { view: viewOf('PresenceUnknown', 'PresenceUnknown'), sequenceNumber: null };
    assert.equal(json.item(USER, unknown, 'watcher'), JSON.stringify(fake.shape(USER, unknown, 'watcher')));
  });
});
