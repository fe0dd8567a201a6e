/**
 * `POST /communications/getPresencesByUserId`: the presences of up to 650 users of the caller's tenant in one answer.
 * Clients poll the same list again and again, so the encoded answer is reused while nothing in it changed, and the
 * list's ids are taken from the body's text seen before instead of being read again.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authorizeReadMany } from '../auth/permissions.ts';
import type { Principal } from '../auth/types.ts';
import { readBody } from '../platform/json/body.ts';
import { parseJsonBody } from '../http/wire.ts';
import { InvalidInput } from '../platform/json/errors.ts';
import { readArray, typeName } from '../platform/json/validate.ts';
import type { PresenceSnapshot } from '../store/types.ts';
import { audienceOf, type PresenceAddressing, type Shapeable } from './addressing.ts';
import type { PresenceJson } from './render.ts';
import { BodyWriter } from './bodyWriter.ts';
import type { PresenceService } from './service.ts';
import { GUID_WITH_CAPITALS, NOT_A_GUID, readGuid } from '../platform/json/guid.ts';
import { hashOf } from '../platform/json/guid.ts';

export const MAX_IDS = 650;
/** Slots of the table that finds repeated ids in one request: a power of two, at least twice MAX_IDS. */
const SEEN_SLOTS = 2_048;
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
  const answers = new Map<string, { words: Uint32Array; snapshots: Array<PresenceSnapshot | undefined>; body: Buffer }>();
  /**
   * Lists asked once lately (most recent last). An answer is kept only for a list asked again: a list asked once and
   * never again (ids picked anew each time) would otherwise keep ~250 KB and an array per request alive until 32 more
   * had passed, and at a million users their turnover made the collector walk the whole heap again and again.
   */
  const askedOnce = new Set<string>();
  const lists = new ListsByBody();
  /** Where answers are written (one at a time: a body is written and taken without an await between). */
  const out = new BodyWriter();

  /** The answer's bytes: `{"@odata.context":…,"value":[…]}`, an item an id, in the list's order. */
  const answer = (
    viewer: Principal, context: string, ids: readonly string[], current: ReadonlyArray<PresenceSnapshot | undefined>,
  ): Buffer => {
    out.ascii('{"@odata.context":');
    out.text(JSON.stringify(context));
    out.ascii(',"value":[');
    for (let i = 0; i < ids.length; i++) {
      if (i > 0) out.ascii(',');
      const id = ids[i]!;
      const snap = current[i];
      if (snap) json.writeItem(out, id, snap, audienceOf(viewer, id));
      else json.writeItem(out, id, UNKNOWN_VIEW, 'watcher');
    }
    out.ascii(']}');
    return out.take();
  };

  return async function getPresencesByUserId(request: FastifyRequest, reply: FastifyReply) {
    api.ensureOffered();
    const principal = await api.caller(request);
    authorizeReadMany(principal);
    const { ids, words } = lists.of(request.body); // the body's text: the route is registered with `jsonText`
    const current = await presence.readList(principal.tenantId, ids, words);
    const context = `${api.contextBase(request)}/${api.version}/$metadata#Collection(microsoft.graph.presence)`;
    // While every snapshot in the list is the same as last time (nothing changed), the answer is reused. The
    // list is keyed by a hash of its GUIDs' bits, not by its ids joined (a 24 KB string to build and hash per request):
    // a kept answer is reused only once its GUIDs compare equal.
    const key = `${principal.tenantId}|${principal.userId ?? ''}|${context}|${listHash(words)}`;
    const previous = answers.get(key);
    if (previous && sameWords(previous.words, words) && previous.snapshots.every((snap, i) => sameSnapshot(snap, current[i]))) {
      return reply.type('application/json').send(previous.body);
    }
    // Bytes, not a string: Fastify would measure a string's UTF-8 length, and the socket encode it (./bodyWriter.ts).
    const body = answer(principal, context, ids, current);
    if (!previous && !askedOnce.has(key)) {
      makeRoom(askedOnce, key);
      askedOnce.add(key);
      return reply.type('application/json').send(body);
    }
    askedOnce.delete(key);
    makeRoom(answers, key);
    answers.set(key, { words: words.slice(), snapshots: current, body });
    lists.remember(request.body, { ids, words });
    return reply.type('application/json').send(body);
  };
}

/**
 * The id lists of the bodies whose answers are kept, by the body's text (most recent last). A client polls with the
 * same body each time, and reading its JSON and 650 ids was a third of such a request's time (BENCHMARKS.md,
 * 2026-12-07 19:10): a body seen before is looked up here instead. Only lists asked again are remembered (as answers
 * are kept); a body's text is compared whole, so a list is never taken for another. At most ANSWER_CACHE_LIMIT
 * bodies, each within the request body limit (64 KB by default): 2 MB.
 */
class ListsByBody {
  private readonly lists = new Map<string, IdList>();

  /** The list a body names (its text: the route is registered with `jsonText`), remembered or read. */
  of(body: unknown): IdList {
    if (typeof body !== 'string') return parseIds(body);
    return this.lists.get(body) ?? parseIds(parseJsonBody(body));
  }

  /** Remembers `list` for `body`, whose answer is now kept. */
  remember(body: unknown, list: IdList): void {
    if (typeof body !== 'string' || this.lists.has(body)) return;
    makeRoom(this.lists, body);
    this.lists.set(body, { ids: list.ids, words: list.words.slice() });
  }
}

/** A hash of a list's GUIDs in order, in two independent 32-bit halves, and its length. */
function listHash(words: Uint32Array): string {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    a = Math.imul(a ^ w, 0x01000193);
    b = Math.imul(b ^ (b >>> 15) ^ w, 0x85ebca6b);
  }
  return `${(a >>> 0).toString(36)}.${(b >>> 0).toString(36)}.${words.length}`;
}

/**
 * The same published presence: the same sequence number and view object. (The read cache hands out a new snapshot
 * object each read, src/presence/snapshotCache.ts; a change makes a new sequence number.)
 */
function sameSnapshot(a: PresenceSnapshot | undefined, b: PresenceSnapshot | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.sequenceNumber === b.sequenceNumber && a.view === b.view);
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Removes `key`, and the oldest key when ANSWER_CACHE_LIMIT are held: `key` can then be added as the most recent. */
function makeRoom(recent: Map<string, unknown> | Set<string>, key: string): void {
  recent.delete(key);
  if (recent.size >= ANSWER_CACHE_LIMIT) recent.delete(recent.keys().next().value!);
}

/** The users a getPresencesByUserId body names: their ids (lower case) and their GUIDs' bits, four words an id. */
export interface IdList {
  ids: string[];
  words: Uint32Array;
}

/**
 * `{"ids": [...]}`: 1 to 650 GUIDs, duplicates answered once, request order kept. Each id is read once
 * (src/platform/json/guid.ts), into the words the read cache looks users up by (./guidTable.ts), and repeats are found
 * by those words, not by hashing strings.
 */
export function parseIds(body: unknown): IdList {
  const root = readBody(body, { allowed: ['ids'], whenAbsent: 'empty-object' });
  const raw = readArray(root, 'ids', '');
  if (raw.length === 0) throw new InvalidInput("Property 'ids' must contain at least one user id.", 'ids');
  if (raw.length > MAX_IDS) throw new InvalidInput(`Property 'ids' has ${raw.length} ids; the limit is ${MAX_IDS}.`, 'ids');
  const words = new Uint32Array(raw.length * 4);
  const seen = new Int32Array(SEEN_SLOTS).fill(-1);
  const ids: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const value: unknown = raw[i];
    const at = ids.length * 4;
    const kind = typeof value === 'string' ? readGuid(value, words, at) : NOT_A_GUID;
    if (kind === NOT_A_GUID) {
      const shown = typeof value === 'string' ? `'${value.slice(0, 64)}'` : typeName(value);
      throw new InvalidInput(`Property 'ids[${i}]' must be a user id (a GUID), not ${shown}.`, `ids[${i}]`);
    }
    if (firstTime(seen, words, at)) ids.push(kind === GUID_WITH_CAPITALS ? (value as string).toLowerCase() : (value as string));
  }
  return { ids, words: words.subarray(0, ids.length * 4) };
}

/** Notes the GUID at `words[at .. at + 3]` in `seen` (word offsets of the GUIDs kept, by hash); false if already there. */
function firstTime(seen: Int32Array, words: Uint32Array, at: number): boolean {
  const mask = seen.length - 1;
  for (let slot = hashOf(0, words, at) & mask; ; slot = (slot + 1) & mask) {
    const other = seen[slot]!;
    if (other < 0) {
      seen[slot] = at;
      return true;
    }
    if (words[other] === words[at] && words[other + 1] === words[at + 1] && words[other + 2] === words[at + 2] &&
      words[other + 3] === words[at + 3]) return false;
  }
}
