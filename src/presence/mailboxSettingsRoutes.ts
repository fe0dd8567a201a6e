/**
 * Out of office through Graph's mailboxSettings (docs/api/out-of-office.md, docs/api/permissions.md): GET and PATCH of
 * `/{version}/users/{id}/mailboxSettings` and `/me/mailboxSettings`, and of their `/automaticRepliesSetting`.
 * The use cases are in ./mailboxSettings.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { resolveMe } from '../auth/permissions.ts';
import type { Principal } from '../auth/types.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import type { MailboxSettings } from '../domain/outOfOffice.ts';
import { isGuid } from '../platform/json/validate.ts';
import type { Store } from '../store/types.ts';
import { badRequest } from '../http/errors.ts';
import { baseUrl, type ApiVersion } from '../http/odata.ts';
import { resource } from '../http/wire.ts';
import { MailboxSettingsService, type Part } from './mailboxSettings.ts';
import type { PresenceService } from './service.ts';

export interface MailboxSettingsRouteDeps {
  presence: PresenceService;
  /** Reads the stored facts (the settings are not time-dependent, so no catch-up is needed). */
  store: Pick<Store, 'getPresence'>;
  verifier: TokenVerifier;
  publicUrl: string | null;
}

type Address = 'me' | 'users';

interface Target {
  principal: Principal;
  userId: string;
}

export function mailboxSettingsRoutes(app: FastifyInstance, version: ApiVersion, deps: MailboxSettingsRouteDeps): void {
  const settings = new MailboxSettingsService(deps.presence, deps.store);

  async function target(request: FastifyRequest, address: Address): Promise<Target> {
    const principal = await deps.verifier.verify(request.headers.authorization);
    request.principal = principal;
    if (address === 'me') return { principal, userId: resolveMe(principal) };
    const id = (request.params as { id: string }).id;
    if (!isGuid(id)) throw badRequest(`Invalid user id '${id.slice(0, 64)}': a user is addressed by their object id, a GUID.`);
    return { principal, userId: id.toLowerCase() };
  }

  function answer(request: FastifyRequest, t: Target, part: Part, value: MailboxSettings): object {
    const context = `${baseUrl(request, deps.publicUrl)}/${version}/$metadata#users('${t.userId}')/mailboxSettings`;
    return part === 'all'
      ? { '@odata.context': context, ...value }
      : { '@odata.context': `${context}/automaticRepliesSetting`, ...value.automaticRepliesSetting };
  }

  const get = (address: Address, part: Part) => async function readMailboxSettings(request: FastifyRequest, reply: FastifyReply) {
    const t = await target(request, address);
    return reply.send(answer(request, t, part, await settings.read(t.principal, t.userId)));
  };

  const patch = (address: Address, part: Part) => async function patchMailboxSettings(request: FastifyRequest, reply: FastifyReply) {
    const t = await target(request, address);
    const committed = await settings.patch(t.principal, t.userId, part, request.body);
    return reply.code(200).send(answer(request, t, part, committed));
  };

  const prefix = `/${version}`;
  for (const address of ['me', 'users'] as const) {
    const base = address === 'me' ? `${prefix}/me/mailboxSettings` : `${prefix}/users/:id/mailboxSettings`;
    resource(app, base, { GET: get(address, 'all'), PATCH: patch(address, 'all') });
    resource(app, `${base}/automaticRepliesSetting`, {
      GET: get(address, 'automaticRepliesSetting'), PATCH: patch(address, 'automaticRepliesSetting'),
    });
  }
}
