/**
 * CORS for the authority's endpoints a single-page app calls from its own origin (the discovery document, the keys
 * and the token endpoint), as Entra ID allows it for SPA redirect URIs: any origin, no cookies (dev mode). Local to
 * these routes.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export function allowCors(request: FastifyRequest, reply: FastifyReply): void {
  const origin = request.headers.origin;
  if (typeof origin !== 'string') return;
  reply.header('access-control-allow-origin', origin);
  reply.header('vary', 'Origin');
  reply.header('access-control-expose-headers', 'client-request-id, request-id');
}

/** The OPTIONS handler of a path whose `methods` a single-page app may call: answers its preflights. */
export function preflight(methods: string): (request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (request, reply) => {
    allowCors(request, reply);
    const asked = request.headers['access-control-request-headers'];
    reply.header('access-control-allow-methods', methods);
    if (typeof asked === 'string') reply.header('access-control-allow-headers', asked);
    reply.header('access-control-max-age', '86400');
    return reply.code(204).send();
  };
}
