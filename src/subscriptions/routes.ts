/**
 * Presence change-notification subscriptions under /v1.0 and /beta (docs/notifications/subscriptions.md): create (after the
 * validation handshake), read, list, renew or move (PATCH), delete and reauthorize. Each handler finds the caller,
 * calls the service (./service.ts) and answers Graph's JSON (./wire.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/types.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import type { Cloud } from '../config/clouds.ts';
import type { SubscriptionService } from './service.ts';
import type { Subscription } from '../domain/subscription.ts';
import { subscriptionJson } from './wire.ts';
import { GraphError } from '../http/errors.ts';
import { baseUrl, type ApiVersion } from '../http/odata.ts';
import { resource } from '../http/wire.ts';

export interface SubscriptionRouteDeps {
  subscriptions: SubscriptionService;
  verifier: TokenVerifier;
  cloud: Cloud;
  publicUrl: string | null;
}

/** What the handlers of one API version share. */
interface Api {
  service: SubscriptionService;
  caller(request: FastifyRequest): Promise<Principal>;
  context(request: FastifyRequest, suffix: string): string;
  /** The absolute URL of the collection, on the same base as `@odata.context` (--public-url when given). */
  collection(request: FastifyRequest): string;
  /** A subscription as this version's entity has it. */
  json(s: Subscription, opts?: { hideClientState?: boolean }): Record<string, unknown>;
}

export function subscriptionRoutes(app: FastifyInstance, version: ApiVersion, deps: SubscriptionRouteDeps): void {
  const api = subscriptionApi(version, deps);
  const prefix = `/${version}`;
  resource(app, `${prefix}/subscriptions`, { GET: listHandler(api), POST: createHandler(api) });
  resource(app, `${prefix}/subscriptions/:id`, { GET: getHandler(api), PATCH: updateHandler(api), DELETE: deleteHandler(api) });
  resource(app, `${prefix}/subscriptions/:id/reauthorize`, { POST: reauthorizeHandler(api) });
}

function subscriptionApi(version: ApiVersion, deps: SubscriptionRouteDeps): Api {
  const { cloud } = deps;
  return {
    service: deps.subscriptions,
    /**
     * The verified caller. Presence change notifications are a feature of Graph's global service only: in a national
     * cloud every subscription request answers 404 naming the cloud, before anything else
     * (docs/api/national-clouds.md).
     */
    async caller(request) {
      if (!cloud.presenceSubscriptions) {
        throw new GraphError(404, 'ResourceNotFound',
          `Presence subscriptions are not available in the ${cloud.displayName} cloud: change notifications for presence are offered in the global service only.`);
      }
      const principal = await deps.verifier.verify(request.headers.authorization);
      request.principal = principal;
      return principal;
    },
    context: (request, suffix) => `${root(request)}/${version}/$metadata#subscriptions${suffix}`,
    collection: (request) => `${root(request)}/${version}/subscriptions`,
    json: (s, opts = {}) => subscriptionJson(s, { ...opts, version }),
  };
  function root(request: FastifyRequest): string {
    return baseUrl(request, deps.publicUrl);
  }
}

/** `$skiptoken` from the query (OData option names ignore case), or undefined; given twice is a 400. */
function skipTokenOf(request: FastifyRequest): string | undefined {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const values = Object.keys(query).filter((k) => k.toLowerCase() === '$skiptoken').flatMap((k) => query[k] as string | string[]);
  if (values.length > 1) throw new GraphError(400, 'BadRequest', 'The query option $skiptoken is given more than once.');
  return values[0];
}

const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;

function listHandler(api: Api) {
  return async function listSubscriptions(request: FastifyRequest, reply: FastifyReply) {
    const page = await api.service.list(await api.caller(request), skipTokenOf(request));
    return reply.send({
      '@odata.context': api.context(request, ''),
      // Before `value`, where Graph writes it.
      ...(page.skipToken === null ? {} : { '@odata.nextLink': `${api.collection(request)}?$skiptoken=${page.skipToken}` }),
      value: page.value.map((s) => api.json(s, { hideClientState: true })),
    });
  };
}

function createHandler(api: Api) {
  return async function createSubscription(request: FastifyRequest, reply: FastifyReply) {
    const created = await api.service.create(await api.caller(request), request.body);
    return reply.code(201).send({ '@odata.context': api.context(request, '/$entity'), ...api.json(created) });
  };
}

function getHandler(api: Api) {
  return async function getSubscription(request: FastifyRequest, reply: FastifyReply) {
    const sub = await api.service.get(await api.caller(request), idOf(request));
    return reply.send({ '@odata.context': api.context(request, '/$entity'), ...api.json(sub) });
  };
}

function updateHandler(api: Api) {
  return async function updateSubscription(request: FastifyRequest, reply: FastifyReply) {
    const sub = await api.service.update(await api.caller(request), idOf(request), request.body);
    return reply.send({ '@odata.context': api.context(request, '/$entity'), ...api.json(sub) });
  };
}

function deleteHandler(api: Api) {
  return async function deleteSubscription(request: FastifyRequest, reply: FastifyReply) {
    await api.service.delete(await api.caller(request), idOf(request));
    return reply.code(204).send();
  };
}

function reauthorizeHandler(api: Api) {
  return async function reauthorizeSubscription(request: FastifyRequest, reply: FastifyReply) {
    await api.service.reauthorize(await api.caller(request), idOf(request));
    return reply.code(204).send();
  };
}
