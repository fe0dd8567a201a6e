/**
 * Presence change-notification subscriptions under /v1.0 and /beta (notifications.md §1): create (after the
 * validation handshake), read, list, renew or move (PATCH), delete and reauthorize.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/types.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import type { Cloud } from '../config/clouds.ts';
import type { SubscriptionService } from './service.ts';
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

export function subscriptionRoutes(app: FastifyInstance, version: ApiVersion, deps: SubscriptionRouteDeps): void {
  const { subscriptions, verifier, cloud } = deps;
  const offered = version === 'v1.0' ? cloud.presenceV1 : cloud.presenceBeta;
  const context = (request: FastifyRequest, suffix: string) =>
    `${deps.publicUrl ?? (cloud.name === 'global' ? baseUrl(request, null) : cloud.graphRoot)}/${version}/$metadata#subscriptions${suffix}`;

  async function caller(request: FastifyRequest): Promise<Principal> {
    if (!offered) {
      throw new GraphError(404, 'ResourceNotFound', cloud.presenceV1
        ? `Presence subscriptions are not available under /${version} in the ${cloud.displayName} cloud; use /v1.0.`
        : `Presence subscriptions are not available in the ${cloud.displayName} cloud.`);
    }
    const principal = await verifier.verify(request.headers.authorization);
    request.principal = principal;
    return principal;
  }

  const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;
  const prefix = `/${version}`;

  resource(app, `${prefix}/subscriptions`, {
    GET: async (request, reply) => {
      const list = await subscriptions.list(await caller(request));
      return reply.send({
        '@odata.context': context(request, ''),
        value: list.map((s) => subscriptionJson(s, { hideClientState: true })),
      });
    },
    POST: async (request, reply) => {
      const created = await subscriptions.create(await caller(request), request.body);
      return reply.code(201).send({ '@odata.context': context(request, '/$entity'), ...subscriptionJson(created) });
    },
  });

  resource(app, `${prefix}/subscriptions/:id`, {
    GET: async (request, reply) => {
      const sub = await subscriptions.get(await caller(request), idOf(request));
      return reply.send({ '@odata.context': context(request, '/$entity'), ...subscriptionJson(sub) });
    },
    PATCH: async (request, reply) => {
      const sub = await subscriptions.update(await caller(request), idOf(request), request.body);
      return reply.send({ '@odata.context': context(request, '/$entity'), ...subscriptionJson(sub) });
    },
    DELETE: async (request, reply) => {
      await subscriptions.delete(await caller(request), idOf(request));
      return reply.code(204).send();
    },
  });

  resource(app, `${prefix}/subscriptions/:id/reauthorize`, {
    POST: async (request, reply) => {
      await subscriptions.reauthorize(await caller(request), idOf(request));
      return reply.code(204).send();
    },
  });
}
