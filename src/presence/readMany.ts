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
import { audienceOf, type PresenceAddressing, type Shapeable } from './addressing.ts';
import type { PresenceJson } from './render.ts';
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

/** The handler of one API version, with its cache of answers. */
export function getPresencesByUserIdHandler(presence: PresenceService, api: PresenceAddressing, json: PresenceJson) {
  /** Recent answers to lists asked more than once, with the snapshots they were built from (most recent last). */
  const answers = new Map<string, { snapshots: Array<PresenceSnapshot | undefined>; body: Buffer }>();
  /**
   * Lists asked once lately (most recent last). An answer is kept only for a list asked again: a list asked once and
   * never again (ids picked anew each time) would otherwise keep ~250 KB and an array per request alive until 32 more
   * had passed, and at a million users their turnover made the collector walk the whole heap again and again.
   */
  const askedOnce = new Set<string>();

  const itemJson = (viewer: Principal, id: string, snap: PresenceSnapshot | undefined): string =>
    snap ? json.item(id, snap, audienceOf(viewer, id)) : json.item(id, UNKNOWN_VIEW, 'watcher');

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
    const text = `{"@odata.context":${JSON.stringify(context)},"value":[${items.join(',')}]}`;
    if (!previous && !askedOnce.has(key)) {
      makeRoom(askedOnce, key);
      askedOnce.add(key);
      return reply.type('application/json').send(text);
    }
    askedOnce.delete(key);
    const body = Buffer.from(text);
    makeRoom(answers, key);
    answers.set(key, { snapshots: current, body });
    return reply.type('application/json').send(body);
  };
}

/** Removes `key`, and the oldest key when ANSWER_CACHE_LIMIT are held: `key` can then be added as the most recent. */
function makeRoom(recent: Map<string, unknown> | Set<string>, key: string): void {
  recent.delete(key);
  if (recent.size >= ANSWER_CACHE_LIMIT) recent.delete(recent.keys().next().value!);
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
