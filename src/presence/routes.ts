/**
 * The presence resource at its three addresses, under /v1.0 and /beta: GET, the bound actions, and
 * getPresencesByUserId (presence-api.md §1, §2, §3, §7).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  authorizePresenceRead, authorizePresenceWrite, authorizeReadMany, authorizeWorkLocationWrite, resolveMe,
} from '../auth/permissions.ts';
import type { Principal } from '../auth/types.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import type { Cloud } from '../config/clouds.ts';
import { InvalidInput } from '../platform/json/errors.ts';
import { LIMITED_PROPERTIES, presenceForCloud, type Audience, type GraphPresence } from '../domain/projection.ts';
import {
  clearPreferred, clearPresence, parseClearPresence, parseEmptyBody, parseSetPreferred, parseSetPresence, setPreferred, setPresence,
} from '../domain/sessions.ts';
import { parseSetStatusMessage, setStatusMessage } from '../domain/statusMessage.ts';
import type { PresenceFacts } from '../domain/types.ts';
import { clearLocation, parseWorkLocation, setLocationLayer } from '../domain/workLocation.ts';
import { isGuid, readArray, readObject, typeName } from '../platform/json/validate.ts';
import type { PresenceService } from './service.ts';
import type { PresenceSnapshot } from '../store/types.ts';
import { GraphError, badRequest, notFound } from '../http/errors.ts';
import { PRESENCE_PROPERTIES, applySelect, baseUrl, parseSelect, type ApiVersion } from '../http/odata.ts';
import { resource } from '../http/wire.ts';

export interface PresenceRouteDeps {
  presence: PresenceService;
  cloud: Cloud;
  verifier: TokenVerifier;
  publicUrl: string | null;
  maxStatusLength: number;
}

export const MAX_IDS = 650;
/** How many distinct getPresencesByUserId answers are kept for reuse (about 200 KB each at 650 ids). */
const ANSWER_CACHE_LIMIT = 32;

type Address = 'me' | 'users' | 'communications';

interface Target {
  principal: Principal;
  userId: string;
  address: Address;
}

/** The unknown-user answer of getPresencesByUserId [P]. */
const UNKNOWN_VIEW: Omit<PresenceSnapshot, 'sequenceNumber'> & { sequenceNumber: null } = {
  view: {
    availability: 'PresenceUnknown', activity: 'PresenceUnknown', statusMessage: null,
    outOfOffice: { isOutOfOffice: false, message: null },
    workLocation: { workLocationType: 'unspecified', source: 'none', placeId: null },
  },
  sequenceNumber: null,
  dueAt: null,
};

export function presenceRoutes(app: FastifyInstance, version: ApiVersion, deps: PresenceRouteDeps): void {
  const { presence, verifier, cloud } = deps;
  /** A watcher's JSON of a snapshot, by snapshot identity (snapshots are replaced on change, never mutated). */
  const watcherJson = new WeakMap<PresenceSnapshot, string>();
  /** Recent getPresencesByUserId answers, with the snapshots they were built from (most recent last). */
  const answers = new Map<string, { snapshots: Array<PresenceSnapshot | undefined>; body: Buffer }>();
  const offered = version === 'v1.0' ? cloud.presenceV1 : cloud.presenceBeta;
  const properties = cloud.limitedShape ? LIMITED_PROPERTIES : PRESENCE_PROPERTIES;
  /** The @odata.context base: the public URL if configured, else the request's own (global) or the cloud's root. */
  const contextBase = (request: FastifyRequest) =>
    deps.publicUrl ?? (cloud.name === 'global' ? baseUrl(request, null) : cloud.graphRoot);

  /** National clouds without presence (or without beta) answer 404 naming the cloud, before anything else. */
  function ensureOffered(): void {
    if (!offered) {
      throw new GraphError(404, 'ResourceNotFound', cloud.presenceV1
        ? `The presence API is not available under /${version} in the ${cloud.displayName} cloud; use /v1.0.`
        : `The presence API is not available in the ${cloud.displayName} cloud.`);
    }
  }

  /** The presence JSON in this cloud's shape. */
  function shape(id: string, snap: Pick<PresenceSnapshot, 'view'> & { sequenceNumber: string | null }, audience: Audience): Partial<GraphPresence> {
    return presenceForCloud(id, snap.view, snap.sequenceNumber, audience, cloud.limitedShape);
  }

  async function target(request: FastifyRequest, address: Address): Promise<Target> {
    ensureOffered();
    const principal = await verifier.verify(request.headers.authorization);
    request.principal = principal;
    if (address === 'me') return { principal, userId: resolveMe(principal), address };
    const id = (request.params as { id: string }).id;
    if (!isGuid(id)) throw badRequest(`Invalid user id '${id.slice(0, 64)}': a user's presence is addressed by their object id, a GUID.`);
    return { principal, userId: id.toLowerCase(), address };
  }

  function contextUrl(request: FastifyRequest, t: Target, select: string[] | null): string {
    const base = `${contextBase(request)}/${version}/$metadata#`;
    const selected = select ? `(${select.join(',')})` : '';
    return t.address === 'communications'
      ? `${base}communications/presences${selected}/$entity`
      : `${base}users('${t.userId}')/presence${selected}/$entity`;
  }

  function audienceOf(p: Principal, userId: string): Audience {
    return p.kind === 'delegated' && p.userId === userId ? 'owner' : 'watcher';
  }

  const get = (address: Address) => async (request: FastifyRequest, reply: FastifyReply) => {
    const t = await target(request, address);
    authorizePresenceRead(t.principal, t.userId);
    const select = parseSelect(request.query, properties);
    const snap = await presence.read(t.principal.tenantId, t.userId);
    if (!snap) throw userNotFound(t.userId);
    const entity = shape(t.userId, snap, audienceOf(t.principal, t.userId));
    return reply.send({ '@odata.context': contextUrl(request, t, select), ...applySelect(entity, select) });
  };

  /** Applies a command to the target's facts; 404 when the user does not exist. */
  async function apply(t: Target, command: (facts: PresenceFacts, now: number) => PresenceFacts): Promise<void> {
    if (!(await presence.apply(t.principal.tenantId, t.userId, command))) throw userNotFound(t.userId);
  }

  /** Bound actions, by lower-case name: OData matches path segments case-insensitively. */
  const actions: Record<string, (t: Target, body: unknown) => Promise<void>> = {
    setstatusmessage: async (t, body) => {
      authorizePresenceWrite(t.principal, t.userId);
      const input = parseSetStatusMessage(body, deps.maxStatusLength);
      await apply(t, (facts, now) => setStatusMessage(facts, input, now));
    },
    setpresence: async (t, body) => {
      authorizePresenceWrite(t.principal, t.userId);
      const input = parseSetPresence(body, t.principal.appId);
      await apply(t, (facts, now) => setPresence(facts, input, now));
    },
    clearpresence: async (t, body) => {
      authorizePresenceWrite(t.principal, t.userId);
      const sessionId = parseClearPresence(body, t.principal.appId);
      await apply(t, (facts, now) => clearPresence(facts, sessionId, now));
    },
    setuserpreferredpresence: async (t, body) => {
      authorizePresenceWrite(t.principal, t.userId);
      const input = parseSetPreferred(body);
      await apply(t, (facts, now) => setPreferred(facts, input, now));
    },
    clearuserpreferredpresence: async (t, body) => {
      authorizePresenceWrite(t.principal, t.userId);
      parseEmptyBody(body);
      await apply(t, (facts) => clearPreferred(facts));
    },
    setmanuallocation: async (t, body) => {
      authorizeWorkLocationWrite(t.principal, t.userId);
      const layer = parseWorkLocation(body);
      await apply(t, (facts) => setLocationLayer(facts, 'manual', layer));
    },
    setautomaticlocation: async (t, body) => {
      authorizeWorkLocationWrite(t.principal, t.userId);
      const layer = parseWorkLocation(body);
      await apply(t, (facts) => setLocationLayer(facts, 'automatic', layer));
    },
    clearautomaticlocation: async (t, body) => {
      authorizeWorkLocationWrite(t.principal, t.userId);
      parseEmptyBody(body);
      await apply(t, (facts) => clearLocation(facts, 'automatic'));
    },
    clearlocation: async (t, body) => {
      authorizeWorkLocationWrite(t.principal, t.userId);
      parseEmptyBody(body);
      await apply(t, (facts) => clearLocation(facts, 'manualAndAutomatic'));
    },
  };

  const action = (address: Address) => async (request: FastifyRequest, reply: FastifyReply) => {
    ensureOffered();
    const name = (request.params as { action: string }).action;
    const run = actions[name.toLowerCase()];
    if (!run) throw badRequest(`Resource not found for the segment '${name.slice(0, 64)}'.`);
    const t = await target(request, address);
    await run(t, request.body ?? {}); // an empty body reads as {}: the 400 then names the missing property
    return reply.code(200).send();
  };

  const prefix = `/${version}`;
  resource(app, `${prefix}/me/presence`, { GET: get('me') });
  resource(app, `${prefix}/users/:id/presence`, { GET: get('users') });
  resource(app, `${prefix}/communications/presences/:id`, { GET: get('communications') });
  resource(app, `${prefix}/me/presence/:action`, { POST: action('me') });
  resource(app, `${prefix}/users/:id/presence/:action`, { POST: action('users') });
  resource(app, `${prefix}/communications/presences/:id/:action`, { POST: action('communications') });

  resource(app, `${prefix}/communications/getPresencesByUserId`, {
    POST: async (request, reply) => {
      ensureOffered();
      const principal = await verifier.verify(request.headers.authorization);
      request.principal = principal;
      authorizeReadMany(principal);
      const ids = parseIds(request.body ?? {});
      const snaps = await presence.readMany(principal.tenantId, ids);
      const context = `${contextBase(request)}/${version}/$metadata#Collection(microsoft.graph.presence)`;
      // Clients poll the same list again and again: while every snapshot in it is the same object (nothing changed),
      // the encoded answer is reused.
      const key = `${principal.tenantId}|${principal.userId ?? ''}|${context}|${ids.join(',')}`;
      const current = ids.map((id) => snaps.get(id));
      const previous = answers.get(key);
      if (previous && previous.snapshots.every((snap, i) => snap === current[i])) {
        return reply.type('application/json').send(previous.body);
      }
      // Built as text: each watcher item's JSON is rendered once per snapshot and reused until the presence changes.
      const items = ids.map((id, i) => {
        const snap = current[i];
        if (!snap) return JSON.stringify(shape(id, UNKNOWN_VIEW, 'watcher'));
        const audience = audienceOf(principal, id);
        if (audience === 'owner') return JSON.stringify(shape(id, snap, audience));
        let json = watcherJson.get(snap);
        if (json === undefined) {
          json = JSON.stringify(shape(id, snap, audience));
          watcherJson.set(snap, json);
        }
        return json;
      });
      const body = Buffer.from(`{"@odata.context":${JSON.stringify(context)},"value":[${items.join(',')}]}`);
      answers.delete(key);
      if (answers.size >= ANSWER_CACHE_LIMIT) answers.delete(answers.keys().next().value!);
      answers.set(key, { snapshots: current, body });
      return reply.type('application/json').send(body);
    },
  });
}

function userNotFound(userId: string): GraphError {
  return notFound(`User '${userId}' was not found in the caller's tenant.`);
}

/** `{"ids": [...]}`: 1 to 650 GUIDs, duplicates answered once, request order kept. */
export function parseIds(body: unknown): string[] {
  const root = readObject(body, '', ['ids']);
  const raw = readArray(root, 'ids', '');
  if (raw.length === 0) throw new InvalidInput("Property 'ids' must contain at least one user id.", 'ids');
  if (raw.length > MAX_IDS) throw new InvalidInput(`Property 'ids' has ${raw.length} ids; the limit is ${MAX_IDS}.`, 'ids');
  const seen = new Set<string>();
  const ids: string[] = [];
  raw.forEach((value, i) => {
    if (!isGuid(value)) {
      const shown = typeof value === 'string' ? `'${value.slice(0, 64)}'` : typeName(value);
      throw new InvalidInput(`Property 'ids[${i}]' must be a user id (a GUID), not ${shown}.`, `ids[${i}]`);
    }
    const id = (value as string).toLowerCase();
    if (!seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  });
  return ids;
}
