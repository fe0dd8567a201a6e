/** `GET /_presently/health` (the process answers) and `GET /_presently/ready` (and so does its store). Open. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../store/types.ts';
import { GraphError } from '../http/errors.ts';
import { resource } from '../http/wire.ts';

export function healthRoutes(app: FastifyInstance, store: Pick<Store, 'ping' | 'kind'>): void {
  resource(app, '/_presently/health', { GET: async function health() { return { status: 'ok' }; } });
  resource(app, '/_presently/ready', {
    GET: async function ready(_request: FastifyRequest, reply: FastifyReply) {
      const ok = await store.ping().catch(() => false);
      if (!ok) throw new GraphError(503, 'ServiceUnavailable', `The ${store.kind} store does not answer.`);
      return reply.send({ status: 'ready', store: store.kind });
    },
  });
}
