/**
 * The presence resource at its three addresses, under /v1.0 and /beta: GET, the bound actions, and
 * getPresencesByUserId (presence-api.md §1, §2, §3, §7).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  authorizePresenceRead, authorizePresenceWrite, authorizeReadMany, resolveMe,
} from '../../auth/permissions.ts';
import type { Principal } from '../../auth/types.ts';
import type { TokenVerifier } from '../../auth/verify.ts';
import { InvalidInput } from '../../domain/errors.ts';
import { toGraphPresence, type Audience } from '../../domain/projection.ts';
import { parseSetStatusMessage } from '../../domain/statusMessage.ts';
import { isGuid, readArray, readObject } from '../../domain/validate.ts';
import type { PresenceService } from '../../service/presence.ts';
import type { PresenceSnapshot } from '../../store/types.ts';
import { GraphError, badRequest, notFound } from '../errors.ts';
import { applySelect, baseUrl, parseSelect, type ApiVersion } from '../odata.ts';
import { resource } from '../wire.ts';

export interface PresenceRouteDeps {
  presence: PresenceService;
  verifier: TokenVerifier;
  publicUrl: string | null;
  maxStatusLength: number;
}

export const MAX_IDS = 650;

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
  const { presence, verifier } = deps;

  async function target(request: FastifyRequest, address: Address): Promise<Target> {
    const principal = await verifier.verify(request.headers.authorization);
    request.principal = principal;
    if (address === 'me') return { principal, userId: resolveMe(principal), address };
    const id = (request.params as { id: string }).id;
    if (!isGuid(id)) throw badRequest(`Invalid user id '${id.slice(0, 64)}': a user's presence is addressed by their object id, a GUID.`);
    return { principal, userId: id.toLowerCase(), address };
  }

  function contextUrl(request: FastifyRequest, t: Target, select: string[] | null): string {
    const base = `${baseUrl(request, deps.publicUrl)}/${version}/$metadata#`;
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
    const select = parseSelect(request.query);
    const snap = await presence.read(t.principal.tenantId, t.userId);
    if (!snap) throw userNotFound(t.userId);
    const entity = toGraphPresence(t.userId, snap.view, snap.sequenceNumber, audienceOf(t.principal, t.userId));
    return reply.send({ '@odata.context': contextUrl(request, t, select), ...applySelect(entity, select) });
  };

  /** Bound actions, by lower-case name: OData matches path segments case-insensitively. */
  const actions: Record<string, (t: Target, body: unknown) => Promise<void>> = {
    setstatusmessage: async (t, body) => {
      authorizePresenceWrite(t.principal, t.userId);
      const input = parseSetStatusMessage(body, deps.maxStatusLength);
      if (!(await presence.setStatusMessage(t.principal.tenantId, t.userId, input))) throw userNotFound(t.userId);
    },
  };

  const action = (address: Address) => async (request: FastifyRequest, reply: FastifyReply) => {
    const name = (request.params as { action: string }).action;
    const run = actions[name.toLowerCase()];
    if (!run) throw badRequest(`Resource not found for the segment '${name.slice(0, 64)}'.`);
    const t = await target(request, address);
    await run(t, request.body);
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
      const principal = await verifier.verify(request.headers.authorization);
      request.principal = principal;
      const ids = parseIds(request.body);
      authorizeReadMany(principal);
      const snaps = await presence.readMany(principal.tenantId, ids);
      const value = ids.map((id) => {
        const snap = snaps.get(id) ?? UNKNOWN_VIEW;
        return toGraphPresence(id, snap.view, snap.sequenceNumber, audienceOf(principal, id));
      });
      return reply.send({
        '@odata.context': `${baseUrl(request, deps.publicUrl)}/${version}/$metadata#Collection(microsoft.graph.presence)`,
        value,
      });
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
      const shown = typeof value === 'string' ? `'${value.slice(0, 64)}'` : JSON.stringify(value)?.slice(0, 64);
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
