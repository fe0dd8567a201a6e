/** What the HTTP layer adds to Fastify's request and instance. */
import type { Principal } from '../auth/types.ts';
import type { Clock } from '../platform/clock/clock.ts';

declare module 'fastify' {
  interface FastifyInstance {
    clock: Clock;
  }
  interface FastifyRequest {
    /** Set by the authenticate hook on routes that need a caller. */
    principal: Principal | null;
  }
}
