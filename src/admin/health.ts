/**
 * `GET /_presently/health` (the process answers) and `GET /_presently/ready` (and so does its store, and with
 * `--auth oidc` every issuer's signing keys are loaded: until then 503 naming why, with `Retry-After`). Open.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readiness } from '../auth/oidc/keyRing.ts';
import type { Store } from '../store/types.ts';
import { GraphError } from '../http/errors.ts';
import { resource } from '../http/wire.ts';

/** `--auth oidc`: whether tokens can be checked. */
export type AuthReadiness = () => Readiness;

export function healthRoutes(app: FastifyInstance, store: Pick<Store, 'ping' | 'kind'>, auth: AuthReadiness | null = null): void {
  resource(app, '/_presently/health', { GET: async function health() { return { status: 'ok' }; } });
  resource(app, '/_presently/ready', {
    GET: async function ready(_request: FastifyRequest, reply: FastifyReply) {
      const ok = await store.ping().catch(() => false);
      if (!ok) throw new GraphError(503, 'ServiceUnavailable', `The ${store.kind} store does not answer.`);
      const keys = auth?.();
      if (keys && !keys.ready) {
        throw new GraphError(503, 'ServiceUnavailable', `Not ready: ${keys.reason ?? 'token validation is not available'}.`, {
          'Retry-After': String(keys.retryAfterSeconds),
        });
      }
      return reply.send({ status: 'ready', store: store.kind, ...(keys ? { issuers: keys.issuers } : {}) });
    },
  });
}
