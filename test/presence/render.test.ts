/**
 * Presence JSON made from parts (src/presence/render.ts): the rendering between `id` and `sequenceNumber` is kept per
 * view for the views used lately only (two generations), so a server whose users keep making new views holds a bounded
 * number, and a view that fell out is rendered again to the same bytes. A list keeps nothing of a view it meets once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Audience } from '../../src/domain/projection.ts';
import type { PresenceView } from '../../src/domain/types.ts';
import type { Shapeable } from '../../src/presence/addressing.ts';
import { BodyWriter, ownBytes } from '../../src/presence/bodyWriter.ts';
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

/** writeItem's bytes, as text (a small writer, so that it grows). */
function item(json: PresenceJson, id: string, s: Shapeable, audience: Audience, out = new BodyWriter(16)): string {
  json.writeItem(out, id, s, audience);
  return out.take().toString('utf8');
}

describe('presence JSON from kept renderings', () => {
  it('renders the same bytes as the whole object, kept or not', () => {
    const fake = fakeShape();
    const json = new PresenceJson(fake, 2);
    const views = [viewOf('Busy', 'InACall'), viewOf('Away', 'Away'), viewOf('Available', 'Available')];
    const whole = (v: PresenceView, audience: Audience) => JSON.stringify(fake.shape(USER, snap(v), audience));
    // Round 1 writes a list item without keeping it, round 2 keeps its text and bytes, round 3 copies them.
    for (const round of [1, 2, 3]) {
      for (const v of views) {
        for (const audience of ['owner', 'watcher'] as const) {
          assert.equal(item(json, USER, snap(v), audience), whole(v, audience), `round ${round}`);
          assert.equal(json.entity('ctx', USER, snap(v), audience), `{"@odata.context":"ctx",${whole(v, audience).slice(1)}`);
        }
      }
    }
  });

  it('writes a view a list meets for the first time without keeping it, and keeps it the second time', () => {
    const fake = fakeShape();
    const json = new PresenceJson(fake, 100);
    const [a, b] = [viewOf('Busy', 'InACall'), viewOf('Away', 'Away')];
    const renders = (v: PresenceView) =>
      fake.calls.filter((call) => call.view === v && call.audience === 'watcher').length;
    item(json, USER, snap(a), 'watcher');
    assert.equal(renders(a), 1);
    for (let i = 0; i < 3; i++) item(json, USER, snap(a), 'watcher');
    assert.equal(renders(a), 2, 'rendered again the second time, and kept from then on');
    json.entity('ctx', USER, snap(b), 'watcher');
    item(json, USER, snap(b), 'watcher');
    json.entity('ctx', USER, snap(b), 'watcher');
    assert.equal(renders(b), 1, 'a GET keeps its rendering at once, and a list then uses it');
  });

  it('keeps a view used within a generation of others, and forgets one unused for two', () => {
    const fake = fakeShape();
    const json = new PresenceJson(fake, 2);
    const [a, b, c, d] = [viewOf('Busy', 'x'), viewOf('Away', 'x'), viewOf('Available', 'x'), viewOf('Off', 'x')];
    const renders = (v: PresenceView) => fake.calls.filter((call) => call.view === v && call.audience === 'owner').length;
    for (const v of [a, a, b, b, a]) item(json, USER, snap(v), 'owner');
    assert.equal(renders(a), 2, 'a kept view is not rendered again while used');
    for (const v of [c, c, d, d, a]) item(json, USER, snap(v), 'owner');
    assert.equal(renders(a), 3, 'two generations later, the first had to be met anew');
    assert.equal(renders(d), 2);
  });

  it('writes UTF-8: a status message in any script comes out as the JSON of the whole object, byte for byte', () => {
    const shape = (id: string, s: Shapeable, audience: Audience) =>
      ({ id, availability: s.view.availability, message: (s.view as unknown as { message: string }).message, audience, sequenceNumber: s.sequenceNumber });
    const json = new PresenceJson({ shape }, 2);
    const view = { availability: 'Busy', message: 'Réunion — 会議中 😀 "quoted" \\ tab\t' } as unknown as PresenceView;
    const out = new BodyWriter(8);
    for (const round of [1, 2, 3]) {
      out.ascii('[');
      json.writeItem(out, USER, snap(view), 'owner');
      out.ascii(',');
      json.writeItem(out, USER, snap(view), 'watcher');
      out.ascii(']');
      const body = out.take();
      const expected = `[${JSON.stringify(shape(USER, snap(view), 'owner'))},${JSON.stringify(shape(USER, snap(view), 'watcher'))}]`;
      assert.deepEqual(body, Buffer.from(expected, 'utf8'), `round ${round}`);
      assert.equal(body.length, Buffer.byteLength(expected));
    }
  });

  it('an unknown user (no sequence number) is rendered whole each time', () => {
    const fake = fakeShape();
    const json = new PresenceJson(fake, 2);
    const unknown: Shapeable = { view: viewOf('PresenceUnknown', 'PresenceUnknown'), sequenceNumber: null };
    assert.equal(item(json, USER, unknown, 'watcher'), JSON.stringify(fake.shape(USER, unknown, 'watcher')));
  });
});

describe('the body writer (src/presence/bodyWriter.ts)', () => {
  it('grows for a large answer, gives back exactly what was written, and starts over for the next', () => {
    const out = new BodyWriter(4);
    const long = 'é'.repeat(3_000_000);
    out.ascii('{"a":"');
    out.text(long);
    out.ascii('"}');
    const first = out.take();
    assert.equal(first.length, 6 + 6_000_000 + 2);
    assert.equal(JSON.parse(first.toString('utf8')).a, long);
    out.ascii('[]');
    assert.equal(out.take().toString(), '[]', 'the next body holds only its own bytes');
  });

  it('keeps a rendering in bytes of its own, not in a slice of a shared buffer that it would hold whole', () => {
    const text = '"statusMessage":{"message":{"content":"Back at 3 — é"}}';
    const kept = ownBytes(text);
    assert.equal(Buffer.from(kept).toString('utf8'), text);
    assert.equal(kept.buffer.byteLength, kept.byteLength, 'the buffer behind it is exactly its bytes');
  });
});

describe('a JSON value written directly (src/presence/bodyWriter.ts json)', () => {
  it('gives the bytes of JSON.stringify for any string or null', () => {
    const samples = [null, '', 'Available', 'a "quote"', 'back\\slash', 'tab\there', 'line\nbreak',
      '\u0000\u001f\u007f', 'delete \u007f alone', 'é', 'Réunion — 会議中 😀', '\ud800 lone',
      'x'.repeat(5000)];
    for (const value of samples) {
      const out = new BodyWriter(4);
      out.ascii('[');
      out.json(value);
      out.ascii(']');
      assert.deepEqual(out.take(), Buffer.from(`[${JSON.stringify(value)}]`, 'utf8'), JSON.stringify(value));
    }
  });
});
