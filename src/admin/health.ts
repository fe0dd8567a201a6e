/**
 * `GET /_presently/health` (the process answers) and `GET /_presently/ready` (and its store serves: answers, takes
 * writes; and with `--auth oidc` every issuer's signing keys are loaded: until then 503 naming why, with
 * `Retry-After`). Open.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readiness } from '../auth/oidc/keyRing.ts';
import type { Store } from '../store/types.ts';
import { GraphError } from '../http/errors.ts';
import { resource } from '../http/wire.ts';

/** `--auth oidc`: whether tokens can be checked. */
export type AuthReadiness = () => Readiness;

export function healthRoutes(app: FastifyInstance, store: Pick<Store, 'readiness' | 'kind'>, auth: AuthReadiness | null = null): void {
  resource(app, '/_presently/health', { GET: async function health() { return { status: 'ok' }; } });
  resource(app, '/_presently/ready', {
    GET: async function ready(request: FastifyRequest, reply: FastifyReply) {
      // Ready means the store answers and takes writes (and a shared store still holds its data): a database that
      // went read-only or bad would otherwise be reported ready while every write fails.
      const readiness = await store.readiness();
      if (!readiness.ready) {
        request.log.error({ problem: readiness.problem }, 'the store is not ready');
        throw new GraphError(503, 'ServiceUnavailable', `The ${store.kind} store is not ready: ${readiness.problem}.`);
      }
      const keys = auth?.();
      if (keys && !keys.ready) {
        throw new GraphError(503, 'ServiceUnavailable', `Not ready: ${keys.reason ?? 'token validation is not available'}.`, {
          'Retry-After': String(keys.retryAfterSeconds),
        });
      }
      // Ready, but the store says something needs the operator (docs/operations/storage.md#presence-journal).
      if (readiness.warnings?.length) request.log.warn({ warnings: readiness.warnings }, 'the store is ready, with warnings');
      return reply.send({
        status: 'ready', store: store.kind, ...(keys ? { issuers: keys.issuers } : {}),
        ...(readiness.warnings?.length ? { warnings: readiness.warnings } : {}),
      });
    },
  });
}
