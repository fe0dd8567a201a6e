/**
 * A presence as the JSON of an answer, made from parts instead of a `JSON.stringify` of a fresh object per request.
 *
 * What an answer holds between its `id` and its `sequenceNumber` depends only on the view and the audience (the owner
 * or a watcher), and views are shared by the users whose presence looks the same and never changed
 * (src/store/codec.ts), so a few renderings serve a million users: the body of a GET is a concatenation of an id, that
 * middle and a sequence number, and an item of getPresencesByUserId the same written as bytes (./bodyWriter.ts). Where
 * this cloud's shape puts other fields first or last (the US Government clouds' has no sequenceNumber) the middle is
 * null and the answer is rendered whole.
 * A GET's body is the same bytes either way (test/api/presence-body.test.ts compares them with a `$select` of every
 * property, which is rendered whole).
 *
 * The renderings are kept for the views of each audience used lately, in two generations of MIDDLES_KEPT (a view
 * used again within MIDDLES_KEPT new ones stays), not in a WeakMap by view: users' writes make new views and let old
 * ones die, and a WeakMap whose keys turn over like that regrows its table in work V8 does apart from other objects
 * (its entries are ephemerons): single `set` calls of 60–230 ms, measured, in the 100,000-user soak's stalls
 * (BENCHMARKS.md, 2026-12-06 16:55). Nor in a map that evicts its oldest view for each new one: that reads the
 * evicted view's hash from memory long gone cold, a cache miss for most items of a list at a million users
 * (BENCHMARKS.md, 2026-12-07 17:15); a generation is dropped whole. At most twice MIDDLES_KEPT views per audience are
 * held, dead ones too until their generation goes: with their renderings, under 1 KB each.
 */
import type { Audience } from '../domain/projection.ts';
import type { PresenceView } from '../domain/types.ts';
import { formatUtc } from '../domain/timezones.ts';
import { isGuid } from '../platform/json/validate.ts';
import type { PresenceAddressing, Shapeable } from './addressing.ts';
import { TwoGenerationMap } from '../platform/recency.ts';
import { BodyWriter, ownBytes } from './bodyWriter.ts';

/** The start and the end of a presence rendered with an empty id and sequence number (see middleOf). */
const HEAD = '{"id":"",';
const TAIL = ',"sequenceNumber":""}';

/** Views whose rendering is kept, per audience and generation (src/platform/recency.ts TwoGenerationMap). */
export const MIDDLES_KEPT = 5_000;

/**
 * A view's rendering as kept: `text`, what lies between `id` and `sequenceNumber`; `item`, the same with the bytes
 * around it in a list's item (`",` before, `,"sequenceNumber":"` after) as UTF-8, made when a list writes it. A list
 * copies those bytes instead of encoding the text again: 650 items written in 190-330 µs instead of 340-440
 * (BENCHMARKS.md, 2026-12-07 12:05).
 *
 * Nothing is kept the first time a list meets a view, only SEEN: the view is written straight into the answer, and
 * the second sight renders and keeps it. A view most lists meet once (a user's own, after a change, among a million)
 * would otherwise be rendered as text and bytes only for the collector: at a million users with half of them changed,
 * that was most of a 650-id list's garbage (BENCHMARKS.md, 2026-12-07 14:55 and 17:15;
 * docs/contributing/performance.md#second-use).
 */
interface Middle {
  readonly text: string;
  item: Uint8Array | null;
}

/** A view a list has met once and nothing kept of it yet. */
const SEEN = Symbol('seen');

export class PresenceJson {
  private readonly middles: Record<Audience, TwoGenerationMap<PresenceView, Middle | typeof SEEN | null>>;
  /**
   * The view each audience's rendering was last asked for, and its middle: a list's items often follow each other with
   * the one view users created together share, and then skip the map (a hash lookup of an object out of the CPU's
   * caches at a million users). A view's rendering never changes, so this stays right after the map lets it go.
   */
  private readonly last: Record<Audience, { view: PresenceView | null; middle: Middle | null }> = {
    owner: { view: null, middle: null }, watcher: { view: null, middle: null },
  };
  /** Whether fullMiddle writes this API's shape (checked once, on PROBE): else every view is rendered generically. */
  private readonly fullShape: boolean;

  constructor(private readonly api: Pick<PresenceAddressing, 'shape'>, kept = MIDDLES_KEPT) {
    this.middles = { owner: new TwoGenerationMap(kept), watcher: new TwoGenerationMap(kept) };
    this.fullShape = (['owner', 'watcher'] as const).every((a) => fullMiddle(PROBE, a) === this.renderGeneric(PROBE, a));
  }

  /**
   * One presence as an item of a list, `{"id":…,…,"sequenceNumber":…}`, written into `out` (getPresencesByUserId's
   * body, ./bodyWriter.ts). `id` is a GUID (getPresencesByUserId reads its ids as GUIDs), which needs no escaping.
   */
  writeItem(out: BodyWriter, id: string, snap: Shapeable, audience: Audience): void {
    if (snap.sequenceNumber === null) return this.writeWhole(out, id, snap, audience);
    const last = this.last[audience];
    let middle = last.view === snap.view ? last.middle : this.middles[audience].get(snap.view);
    if (middle === undefined) {
      // Met for the first time: written into the answer, and only the sight kept.
      this.middles[audience].set(snap.view, SEEN);
      const generic = this.fullShape ? null : this.renderGeneric(snap.view, audience);
      if (!this.fullShape && generic === null) return this.writeWhole(out, id, snap, audience);
      out.ascii('{"id":"');
      out.ascii(id);
      out.ascii('",');
      if (generic === null) writeFullMiddle(out, snap.view, audience);
      else out.text(generic);
      out.ascii(',"sequenceNumber":"');
    } else {
      if (middle === SEEN) middle = this.keep(snap.view, audience);
      last.view = snap.view;
      last.middle = middle;
      if (middle === null) return this.writeWhole(out, id, snap, audience);
      out.ascii('{"id":"');
      out.ascii(id);
      out.bytes((middle.item ??= ownBytes(`",${middle.text},"sequenceNumber":"`)));
    }
    // A letter and digits (formatSequence): ASCII, nothing to escape.
    out.ascii(snap.sequenceNumber);
    out.ascii('"}');
  }

  /** The item rendered whole, through the API's shape (an unknown user, or a shape with no middle). */
  private writeWhole(out: BodyWriter, id: string, snap: Shapeable, audience: Audience): void {
    out.text(JSON.stringify(this.api.shape(id, snap, audience)));
  }

  /** One presence as a whole answer, its `@odata.context` first: a GET's body without `$select`. */
  entity(context: string, id: string, snap: Shapeable, audience: Audience): string {
    const middle = this.middleOf(snap, audience);
    const head = `{"@odata.context":${JSON.stringify(context)}`;
    if (middle === null) return `${head},${JSON.stringify(this.api.shape(id, snap, audience)).slice(1)}`;
    return `${head},${idMember(id)},${middle.text},"sequenceNumber":"${snap.sequenceNumber}"}`;
  }

  /** What the JSON holds between `id` and `sequenceNumber`, by audience and view; null when the shape does not fit. */
  private middleOf(snap: Shapeable, audience: Audience): Middle | null {
    // No sequence number (an unknown user in a list) is rendered whole; one is a letter and digits (formatSequence),
    // which need no escaping.
    if (snap.sequenceNumber === null) return null;
    const last = this.last[audience];
    if (last.view === snap.view) return last.middle;
    const known = this.middles[audience].get(snap.view);
    const middle = known === undefined || known === SEEN ? this.keep(snap.view, audience) : known;
    last.view = snap.view;
    last.middle = middle;
    return middle;
  }

  /** The view rendered and kept (null kept when the shape does not fit). */
  private keep(view: PresenceView, audience: Audience): Middle | null {
    const text = this.render(view, audience);
    const middle = text === null ? null : { text, item: null };
    this.middles[audience].set(view, middle);
    return middle;
  }

  /** What lies between `id` and `sequenceNumber` for `view` (null: this shape has no such middle). */
  private render(view: PresenceView, audience: Audience): string | null {
    return this.fullShape ? fullMiddle(view, audience) : this.renderGeneric(view, audience);
  }

  /** The view rendered with an empty id and sequence number, cut to what lies between them (null: it does not fit). */
  private renderGeneric(view: PresenceView, audience: Audience): string | null {
    const whole = JSON.stringify(this.api.shape('', { view, sequenceNumber: '' }, audience));
    const fits = whole.length > HEAD.length + TAIL.length && whole.startsWith(HEAD) && whole.endsWith(TAIL);
    return fits ? whole.slice(HEAD.length, -TAIL.length) : null;
  }
}

/**
 * The middle of Graph's full presence shape (src/domain/projection.ts toGraphPresence, in its key order), written
 * directly as UTF-8 into `out`: faster than building the object and stringifying it (2.3 times, as text), which counts
 * where users' own views (a status message) keep turning over, as in getPresencesByUserId at a million users
 * (BENCHMARKS.md, 2026-12-07 09:50). A list writes a view it meets for the first time this way, making no string;
 * fullMiddle makes the text to keep. Used only where it gives the generic rendering's bytes for PROBE, a view with
 * every part set (test/property/render.test.ts checks it against the generic one for any view).
 */
export function writeFullMiddle(out: BodyWriter, v: PresenceView, audience: Audience): void {
  out.ascii('"availability":');
  out.json(v.availability);
  out.ascii(',"activity":');
  out.json(v.activity);
  out.ascii(',"statusMessage":');
  const m = v.statusMessage;
  if (!m) out.ascii('null');
  else {
    out.ascii('{"message":{"content":');
    out.json(m.content);
    out.ascii(',"contentType":');
    out.json(m.contentType);
    out.ascii('}');
    if (audience === 'owner') {
      if (m.expiry) {
        out.ascii(',"expiryDateTime":{"dateTime":');
        out.json(m.expiry.dateTime);
        out.ascii(',"timeZone":');
        out.json(m.expiry.timeZone);
        out.ascii('}');
      }
      out.ascii(',"publishedDateTime":');
      out.json(formatUtc(m.publishedAt));
    }
    out.ascii('}');
  }
  const { outOfOffice: o, workLocation: w } = v;
  out.ascii(',"outOfOfficeSettings":{"message":');
  out.json(o.message);
  out.ascii(o.isOutOfOffice ? ',"isOutOfOffice":true}' : ',"isOutOfOffice":false}');
  out.ascii(',"workLocation":{"workLocationType":');
  out.json(w.workLocationType);
  out.ascii(',"source":');
  out.json(w.source);
  out.ascii(',"placeId":');
  out.json(w.placeId);
  out.ascii('}');
}

/** Where fullMiddle writes (one call at a time: it is synchronous). */
const scratch = new BodyWriter(4 * 1024);

/** writeFullMiddle's bytes as text: a rendering to keep. */
export function fullMiddle(v: PresenceView, audience: Audience): string {
  writeFullMiddle(scratch, v, audience);
  return scratch.takeText();
}

/** A view with every part of the shape set, to check fullMiddle against an API's shape. */
const PROBE: PresenceView = {
  availability: 'Busy', activity: 'InAMeeting',
  statusMessage: {
    content: 'Probe "quoted" é', contentType: 'text', publishedAt: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
    expiry: { dateTime: '2026-01-03T00:00:00.0000000', timeZone: 'Pacific Standard Time' },
  },
  outOfOffice: { isOutOfOffice: true, message: 'Away' },
  workLocation: { workLocationType: 'office', source: 'manual', placeId: 'place' },
};

/** `"id":"…"`: a GUID needs no escaping; anything else (a token's own user id) is escaped. */
function idMember(id: string): string {
  return isGuid(id) ? `"id":"${id}"` : `"id":${JSON.stringify(id)}`;
}
