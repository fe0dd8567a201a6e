/**
 * Out of office through Graph's mailboxSettings (presence-api.md §4, §5): GET and PATCH of
 * `/{version}/users/{id}/mailboxSettings` and `/me/mailboxSettings`, and of their `/automaticRepliesSetting`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authorizeMailboxSettingsRead, authorizeMailboxSettingsWrite, resolveMe } from '../auth/permissions.ts';
import type { Principal } from '../auth/types.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import {
  mailboxSettingsOf, mergeOutOfOffice, parseAutomaticRepliesPatch, parseMailboxSettingsPatch, type MailboxSettings,
  type MailboxSettingsPatch,
} from '../domain/outOfOffice.ts';
import type { OutOfOfficeFact } from '../domain/types.ts';
import { isGuid } from '../platform/json/validate.ts';
import type { PresenceService } from './service.ts';
import type { Store } from '../store/types.ts';
import { badRequest, notFound, type GraphError } from '../http/errors.ts';
import { baseUrl, type ApiVersion } from '../http/odata.ts';
import { resource } from '../http/wire.ts';

export interface MailboxSettingsRouteDeps {
  presence: PresenceService;
  /** Reads the stored facts (the settings are not time-dependent, so no catch-up is needed). */
  store: Pick<Store, 'getPresence'>;
  verifier: TokenVerifier;
  publicUrl: string | null;
}

type Address = 'me' | 'users';
type Part = 'all' | 'automaticRepliesSetting';

interface Target {
  principal: Principal;
  userId: string;
}

export function mailboxSettingsRoutes(app: FastifyInstance, version: ApiVersion, deps: MailboxSettingsRouteDeps): void {
  const { presence, store, verifier } = deps;

  async function target(request: FastifyRequest, address: Address): Promise<Target> {
    const principal = await verifier.verify(request.headers.authorization);
    request.principal = principal;
    if (address === 'me') return { principal, userId: resolveMe(principal) };
    const id = (request.params as { id: string }).id;
    if (!isGuid(id)) throw badRequest(`Invalid user id '${id.slice(0, 64)}': a user is addressed by their object id, a GUID.`);
    return { principal, userId: id.toLowerCase() };
  }

  function body(request: FastifyRequest, t: Target, part: Part, settings: MailboxSettings): object {
    const context = `${baseUrl(request, deps.publicUrl)}/${version}/$metadata#users('${t.userId}')/mailboxSettings`;
    return part === 'all'
      ? { '@odata.context': context, ...settings }
      : { '@odata.context': `${context}/automaticRepliesSetting`, ...settings.automaticRepliesSetting };
  }

  const get = (address: Address, part: Part) => async (request: FastifyRequest, reply: FastifyReply) => {
    const t = await target(request, address);
    authorizeMailboxSettingsRead(t.principal, t.userId);
    const record = await store.getPresence(t.principal.tenantId, t.userId);
    if (!record) throw userNotFound(t.userId);
    return reply.send(body(request, t, part, mailboxSettingsOf(record.facts.outOfOffice)));
  };

  const patch = (address: Address, part: Part) => async (request: FastifyRequest, reply: FastifyReply) => {
    const t = await target(request, address);
    authorizeMailboxSettingsWrite(t.principal, t.userId);
    const input: MailboxSettingsPatch = part === 'all'
      ? parseMailboxSettingsPatch(request.body)
      : { automaticRepliesSetting: parseAutomaticRepliesPatch(request.body) };
    // The command may run more than once (optimistic retries): the last run is the committed one.
    let stored: OutOfOfficeFact | null = null;
    const exists = await presence.apply(t.principal.tenantId, t.userId, (facts) => {
      stored = mergeOutOfOffice(facts.outOfOffice, input);
      return { ...facts, outOfOffice: stored };
    });
    if (!exists) throw userNotFound(t.userId);
    return reply.code(200).send(body(request, t, part, mailboxSettingsOf(stored)));
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

function userNotFound(userId: string): GraphError {
  return notFound(`User '${userId}' was not found in the caller's tenant.`);
}
