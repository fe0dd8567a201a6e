/**
 * The presence resource at its three addresses, under /v1.0 and /beta: GET, the bound actions (generated from the
 * table in ./actions.ts) and getPresencesByUserId (docs/api/addresses.md, docs/api/presence.md, docs/api/status-message.md, docs/api/get-presences-by-user-id.md).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authorizePresenceRead } from '../auth/permissions.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import type { Cloud } from '../config/clouds.ts';
import { segmentNotFound } from '../http/errors.ts';
import type { Front } from '../http/front.ts';
import { applySelect, parseSelect, type ApiVersion } from '../http/odata.ts';
import { resource } from '../http/wire.ts';
import { ACTION_PATHS, findAction, type Address } from './actions.ts';
import { PresenceAddressing, audienceOf } from './addressing.ts';
import { getPresencesByUserIdHandler } from './readMany.ts';
import { presenceReadLane } from './readLane.ts';
import { presenceWriteLane } from './writeLane.ts';
import { PresenceJson } from './render.ts';
import type { PresenceService } from './service.ts';
import { commitWrite, userNotFound } from './write.ts';

export interface PresenceRouteDeps {
  presence: PresenceService;
  /** Where the express lanes of the GET (./readLane.ts) and of the frequent writes (./writeLane.ts) are added. */
  front: Front;
  cloud: Cloud;
  verifier: TokenVerifier;
  publicUrl: string | null;
  maxStatusLength: number;
}

/** The presence paths of one address, relative to the version prefix. */
const READ_PATHS: Record<Address, string> = {
  me: '/me/presence',
  users: '/users/:id/presence',
  communications: '/communications/presences/:id',
};

export function presenceRoutes(app: FastifyInstance, version: ApiVersion, deps: PresenceRouteDeps): void {
  const api = new PresenceAddressing(version, deps);
  const json = new PresenceJson(api);
  const prefix = `/${version}`;
  for (const address of Object.keys(READ_PATHS) as Address[]) {
    resource(app, `${prefix}${READ_PATHS[address]}`, { GET: readPresenceHandler(deps.presence, api, json, address) });
    resource(app, `${prefix}${ACTION_PATHS[address]}`, { POST: presenceActionHandler(deps, api, address) }, {
      unknownSegment: (request) => unknownAction(request, address),
    });
  }
  resource(app, `${prefix}/communications/getPresencesByUserId`, { POST: getPresencesByUserIdHandler(deps.presence, api, json) },
    { jsonText: true });
  const readRoutes = Object.fromEntries(Object.entries(READ_PATHS).map(([address, path]) => [address, `${prefix}${path}`])) as Record<Address, string>;
  deps.front.lane(presenceReadLane(version, api, json, readRoutes, deps));
  const actionRoutes = Object.fromEntries(Object.entries(ACTION_PATHS).map(([address, path]) => [address, `${prefix}${path}`])) as Record<Address, string>;
  deps.front.bodyLane(presenceWriteLane(version, api, actionRoutes, deps));
}

/** GET of one presence, with `$select`; without it (nearly always), the body is made from parts (./render.ts). */
function readPresenceHandler(presence: PresenceService, api: PresenceAddressing, json: PresenceJson, address: Address) {
  return async function readPresence(request: FastifyRequest, reply: FastifyReply) {
    const t = await api.target(request, address);
    authorizePresenceRead(t.principal, t.userId);
    const select = parseSelect(request.query, api.properties);
    const snap = await presence.read(t.principal.tenantId, t.userId);
    if (!snap) throw userNotFound(t.userId);
    const audience = audienceOf(t.principal, t.userId);
    if (select === null) return reply.type('application/json').send(json.entity(api.contextUrl(request, t, null), t.userId, snap, audience));
    const entity = api.shape(t.userId, snap, audience);
    return reply.send({ '@odata.context': api.contextUrl(request, t, select), ...applySelect(entity, select) });
  };
}

/** POST of a bound action: the action named in the path, through the write pipeline; 200 with no body. */
function presenceActionHandler(deps: PresenceRouteDeps, api: PresenceAddressing, address: Address) {
  return async function runPresenceAction(request: FastifyRequest, reply: FastifyReply) {
    api.ensureOffered();
    const name = (request.params as { action: string }).action;
    const action = findAction(name, address);
    if (!action) throw segmentNotFound(name);
    const t = await api.target(request, address);
    await commitWrite(deps.presence, action, {
      caller: t.principal, userId: t.userId, body: request.body,
      context: { appId: t.principal.appId, maxStatusLength: deps.maxStatusLength },
    });
    return reply.code(200).send();
  };
}

/** The action segment of the path when it names no action bound at `address` (Graph's 400, whatever the method). */
function unknownAction(request: FastifyRequest, address: Address): string | null {
  const name = (request.params as { action: string }).action;
  return findAction(name, address) ? null : name;
}
