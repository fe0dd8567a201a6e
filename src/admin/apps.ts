/**
 * `DELETE /_presently/tenants/{tid}/apps/{appId}/access`: withdraws an app's access to a tenant; its subscriptions
 * there get `reauthorizationRequired` and end. Behind the admin guard (./guard.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isGuid } from '../platform/json/validate.ts';
import { GraphError, badRequest } from '../http/errors.ts';
import { resource } from '../http/wire.ts';
import { tenantOf } from './users.ts';

/** Ends an app's subscriptions in a tenant (src/notifications/lifecycle.ts); resolves to how many ended. */
export type RevokeAppAccess = (tenantId: string, appId: string) => Promise<number>;

export function appRoutes(app: FastifyInstance, revokeAppAccess: RevokeAppAccess | undefined): void {
  resource(app, '/_presently/tenants/:tid/apps/:appId/access', {
    DELETE: async function revokeAccess(request: FastifyRequest, reply: FastifyReply) {
      const tid = tenantOf(request);
      const appId = (request.params as { appId: string }).appId;
      if (!isGuid(appId)) throw badRequest(`Invalid application id '${appId.slice(0, 64)}': a GUID is expected.`);
      if (!revokeAppAccess) throw new GraphError(501, 'NotImplemented', 'Change notifications are not enabled.');
      await revokeAppAccess(tid, appId.toLowerCase());
      return reply.code(204).send();
    },
  });
}
