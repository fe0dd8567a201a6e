/**
 * `POST /communications/getPresencesByUserId`: the presences of up to 650 users of the caller's tenant in one answer.
 * Clients poll the same list again and again, so the encoded answer is reused while nothing in it changed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authorizeReadMany } from '../auth/permissions.ts';
import type { Principal } from '../auth/types.ts';
import { readBody } from '../platform/json/body.ts';
import { InvalidInput } from '../platform/json/errors.ts';
import { isGuid, readArray, typeName } from '../platform/json/validate.ts';
import type { PresenceSnapshot } from '../store/types.ts';
import type { Audience } from '../domain/projection.ts';
import type { PresenceView } from '../domain/types.ts';
import { audienceOf, type PresenceAddressing, type Shapeable } from './addressing.ts';
import type { PresenceService } from './service.ts';

export const MAX_IDS = 650;
/** How many distinct getPresencesByUserId answers are kept for reuse (about 200 KB each at 650 ids). */
const ANSWER_CACHE_LIMIT = 32;

/** The unknown-user answer of getPresencesByUserId [P: d-read-many-unknown-user]. */
const UNKNOWN_VIEW: Shapeable = {
  view: {
    availability: 'PresenceUnknown', activity: 'PresenceUnknown', statusMessage: null,
    outOfOffice: { isOutOfOffice: false, message: null },
    workLocation: { workLocationType: 'unspecified', source: 'none', placeId: null },
  },
  sequenceNumber: null,
};

/** The start and the end of an item rendered with an empty id and sequence number (see middleOf). */
const HEAD = '{"id":"",';
const TAIL = ',"sequenceNumber":""}';

/** The handler of one API version, with its caches. */
export function getPresencesByUserIdHandler(presence: PresenceService, api: PresenceAddressing) {
  /**
   * What an item's JSON holds between its `id` and its `sequenceNumber`, by audience and view: it depends on nothing
   * else, and views are shared by users whose presence looks the same and never changed (src/store/codec.ts), so a
   * few renderings serve a million users, and an item is a concatenation. null where the shape puts other fields
   * first or last (the US Government clouds' has no sequenceNumber): those items are rendered whole.
   */
  const middles: Record<Audience, WeakMap<PresenceView, string | null>> = { owner: new WeakMap(), watcher: new WeakMap() };
  /** Recent answers, with the snapshots they were built from (most recent last). */
  const answers = new Map<string, { snapshots: Array<PresenceSnapshot | undefined>; body: Buffer }>();

  function middleOf(view: PresenceView, audience: Audience): string | null {
    const known = middles[audience].get(view);
    if (known !== undefined) return known;
    const whole = JSON.stringify(api.shape('', { view, sequenceNumber: '' }, audience));
    const fits = whole.length > HEAD.length + TAIL.length && whole.startsWith(HEAD) && whole.endsWith(TAIL);
    const middle = fits ? whole.slice(HEAD.length, -TAIL.length) : null;
    middles[audience].set(view, middle);
    return middle;
  }

  /** One item's JSON: `{"id":…,` + the view's middle + `,"sequenceNumber":…}`. */
  function itemJson(viewer: Principal, id: string, snap: PresenceSnapshot | undefined): string {
    if (!snap) return JSON.stringify(api.shape(id, UNKNOWN_VIEW, 'watcher'));
    const audience = audienceOf(viewer, id);
    const middle = middleOf(snap.view, audience);
    if (middle === null) return JSON.stringify(api.shape(id, snap, audience));
    // Neither needs escaping: the id is a GUID (parseIds), the sequence number a letter and digits (formatSequence).
    return `{"id":"${id}",${middle},"sequenceNumber":"${snap.sequenceNumber}"}`;
  }

  return async function getPresencesByUserId(request: FastifyRequest, reply: FastifyReply) {
    api.ensureOffered();
    const principal = await api.caller(request);
    authorizeReadMany(principal);
    const ids = parseIds(request.body);
    const snaps = await presence.readMany(principal.tenantId, ids);
    const context = `${api.contextBase(request)}/${api.version}/$metadata#Collection(microsoft.graph.presence)`;
    // While every snapshot in the list is the same object as last time (nothing changed), the answer is reused.
    const key = `${principal.tenantId}|${principal.userId ?? ''}|${context}|${ids.join(',')}`;
    const current = ids.map((id) => snaps.get(id));
    const previous = answers.get(key);
    if (previous && previous.snapshots.every((snap, i) => snap === current[i])) {
      return reply.type('application/json').send(previous.body);
    }
    const items = ids.map((id, i) => itemJson(principal, id, current[i]));
    const body = Buffer.from(`{"@odata.context":${JSON.stringify(context)},"value":[${items.join(',')}]}`);
    answers.delete(key);
    if (answers.size >= ANSWER_CACHE_LIMIT) answers.delete(answers.keys().next().value!);
    answers.set(key, { snapshots: current, body });
    return reply.type('application/json').send(body);
  };
}

/** `{"ids": [...]}`: 1 to 650 GUIDs, duplicates answered once, request order kept. */
export function parseIds(body: unknown): string[] {
  const root = readBody(body, { allowed: ['ids'], whenAbsent: 'empty-object' });
  const raw = readArray(root, 'ids', '');
  if (raw.length === 0) throw new InvalidInput("Property 'ids' must contain at least one user id.", 'ids');
  if (raw.length > MAX_IDS) throw new InvalidInput(`Property 'ids' has ${raw.length} ids; the limit is ${MAX_IDS}.`, 'ids');
  const seen = new Set<string>();
  const ids: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const value: unknown = raw[i];
    if (!isGuid(value)) {
      const shown = typeof value === 'string' ? `'${value.slice(0, 64)}'` : typeName(value);
      throw new InvalidInput(`Property 'ids[${i}]' must be a user id (a GUID), not ${shown}.`, `ids[${i}]`);
    }
    const id = (value as string).toLowerCase();
    if (!seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  }
  return ids;
}
