/**
 * A presence as the JSON of an answer, made from parts instead of a `JSON.stringify` of a fresh object per request.
 *
 * What an answer holds between its `id` and its `sequenceNumber` depends only on the view and the audience (the owner
 * or a watcher), and views are shared by the users whose presence looks the same and never changed
 * (src/store/codec.ts), so a few renderings serve a million users: an item of getPresencesByUserId and the body of a
 * GET are concatenations of an id, that middle and a sequence number. Where this cloud's shape puts other fields first
 * or last (the US Government clouds' has no sequenceNumber) the middle is null and the answer is rendered whole.
 * A GET's body is the same bytes either way (test/api/presence-body.test.ts compares them with a `$select` of every
 * property, which is rendered whole).
 */
import type { Audience } from '../domain/projection.ts';
import type { PresenceView } from '../domain/types.ts';
import { isGuid } from '../platform/json/validate.ts';
import type { PresenceAddressing, Shapeable } from './addressing.ts';

/** The start and the end of a presence rendered with an empty id and sequence number (see middleOf). */
const HEAD = '{"id":"",';
const TAIL = ',"sequenceNumber":""}';

export class PresenceJson {
  private readonly middles: Record<Audience, WeakMap<PresenceView, string | null>> = { owner: new WeakMap(), watcher: new WeakMap() };

  constructor(private readonly api: PresenceAddressing) {}

  /**
   * One presence as an item of a list: `{"id":…,…,"sequenceNumber":…}`. `guid`: the caller has read `id` as a GUID
   * already (getPresencesByUserId's ids), so it is not read again to know that it needs no escaping.
   */
  item(id: string, snap: Shapeable, audience: Audience, guid = false): string {
    const middle = this.middleOf(snap, audience);
    if (middle === null) return JSON.stringify(this.api.shape(id, snap, audience));
    return `{${guid ? `"id":"${id}"` : idMember(id)},${middle},"sequenceNumber":"${snap.sequenceNumber}"}`;
  }

  /** One presence as a whole answer, its `@odata.context` first: a GET's body without `$select`. */
  entity(context: string, id: string, snap: Shapeable, audience: Audience): string {
    const middle = this.middleOf(snap, audience);
    const head = `{"@odata.context":${JSON.stringify(context)}`;
    if (middle === null) return `${head},${JSON.stringify(this.api.shape(id, snap, audience)).slice(1)}`;
    return `${head},${idMember(id)},${middle},"sequenceNumber":"${snap.sequenceNumber}"}`;
  }

  /** What the JSON holds between `id` and `sequenceNumber`, by audience and view; null when the shape does not fit. */
  private middleOf(snap: Shapeable, audience: Audience): string | null {
    // No sequence number (an unknown user in a list) is rendered whole; one is a letter and digits (formatSequence),
    // which need no escaping.
    if (snap.sequenceNumber === null) return null;
    const known = this.middles[audience].get(snap.view);
    if (known !== undefined) return known;
    const whole = JSON.stringify(this.api.shape('', { view: snap.view, sequenceNumber: '' }, audience));
    const fits = whole.length > HEAD.length + TAIL.length && whole.startsWith(HEAD) && whole.endsWith(TAIL);
    const middle = fits ? whole.slice(HEAD.length, -TAIL.length) : null;
    this.middles[audience].set(snap.view, middle);
    return middle;
  }
}

/** `"id":"…"`: a GUID needs no escaping; anything else (a token's own user id) is escaped. */
function idMember(id: string): string {
  return isGuid(id) ? `"id":"${id}"` : `"id":${JSON.stringify(id)}`;
}
