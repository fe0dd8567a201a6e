/**
 * The admin and testing API under /_presently (product.md §4): health, readiness, info, the dev token endpoint and
 * JWKS, the users of a tenant, and the manual clock. Open in dev auth mode; otherwise it needs `Presently.Admin`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DevIssuer } from '../auth/devIssuer.ts';
import { mintDevToken } from '../auth/devTokens.ts';
import { authorizeAdmin } from '../auth/permissions.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import type { ManualClock } from '../platform/clock/manual.ts';
import type { Clock } from '../platform/clock/clock.ts';
import { parseDuration } from '../domain/duration.ts';
import { InvalidInput } from '../platform/json/errors.ts';
import { formatUtc } from '../domain/timezones.ts';
import { isGuid, readObject, readString } from '../platform/json/validate.ts';
import { parseUser } from '../directory/seed.ts';
import type { Store } from '../store/types.ts';
import type { Directory } from '../directory/directory.ts';
import { GraphError, badRequest, notFound } from '../http/errors.ts';
import { resource } from '../http/wire.ts';

export interface AdminDeps {
  store: Store;
  directory: Directory;
  clock: Clock;
  issuer: DevIssuer;
  verifier: TokenVerifier;
  authMode: string;
  cloud: string;
  version: string;
  audience: string;
  defaultTenantId: string;
  defaultAppId: string;
  /** Runs every timed transition due by the clock's new time (manual clock). */
  settle: () => Promise<void>;
  /**
   * Withdraws an app's access to a tenant: its subscriptions there get `reauthorizationRequired` and end
   * (src/notifications/lifecycle.ts). Resolves to how many ended.
   */
  revokeAppAccess?: (tenantId: string, appId: string) => Promise<number>;
}

export function adminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { store, clock } = deps;

  const guard = async (request: FastifyRequest) => {
    if (deps.authMode === 'dev') return;
    const principal = await deps.verifier.verify(request.headers.authorization);
    authorizeAdmin(principal);
  };

  resource(app, '/_presently/health', { GET: async () => ({ status: 'ok' }) });

  resource(app, '/_presently/ready', {
    GET: async (_request, reply) => {
      const ok = await store.ping().catch(() => false);
      if (!ok) throw new GraphError(503, 'ServiceUnavailable', `The ${store.kind} store does not answer.`);
      return reply.send({ status: 'ready', store: store.kind });
    },
  });

  /**
   * A manual clock shared by several nodes (redis): brings this node's copy up to date first, so a move made on
   * another node is seen here as soon as that node answered it. If the store does not answer, the copy stands.
   */
  const synced = async (): Promise<void> => {
    if (clock.mode === 'manual') await (clock as ManualClock).sync().catch(() => {});
  };

  resource(app, '/_presently/info', {
    GET: async () => {
      await synced();
      return {
        version: deps.version,
        store: store.kind,
        auth: deps.authMode,
        cloud: deps.cloud,
        clock: { mode: clock.mode, now: new Date(clock.now()).toISOString() },
      };
    },
  });

  resource(app, '/_presently/keys', { GET: async () => deps.issuer.jwks() });

  resource(app, '/_presently/tokens', {
    POST: async (request) => {
      if (deps.authMode !== 'dev') throw new GraphError(404, 'ResourceNotFound', 'Tokens are issued only in dev auth mode.');
      return mintDevToken({
        issuer: deps.issuer, store, audience: deps.audience,
        defaultTenantId: deps.defaultTenantId, defaultAppId: deps.defaultAppId,
      }, request.body);
    },
  });

  const tenantOf = async (request: FastifyRequest) => {
    await guard(request);
    const tid = (request.params as { tid: string }).tid;
    if (!isGuid(tid)) throw badRequest(`Invalid tenant id '${tid.slice(0, 64)}': a GUID is expected.`);
    return tid.toLowerCase();
  };

  resource(app, '/_presently/tenants/:tid/users', {
    GET: async (request) => {
      const tid = await tenantOf(request);
      const users = await store.listUsers(tid);
      return { value: users.map(userJson) };
    },
    POST: async (request, reply) => {
      const tid = await tenantOf(request);
      const user = parseUser(request.body ?? {}, '', () => randomUUID());
      if (!(await store.getTenant(tid))) await store.putTenant({ id: tid, displayName: tid });
      const existing = await store.findUserByUpn(user.userPrincipalName);
      if (existing && (existing.id !== user.id || existing.tenantId !== tid)) {
        throw new GraphError(409, 'Conflict', `The userPrincipalName '${user.userPrincipalName}' is already taken by user ${existing.id}.`);
      }
      const created = await deps.directory.putUser({ ...user, tenantId: tid });
      return reply.code(created ? 201 : 200).send(userJson({ ...user, tenantId: tid }));
    },
  });

  resource(app, '/_presently/tenants/:tid/users/:id', {
    DELETE: async (request, reply) => {
      const tid = await tenantOf(request);
      const id = (request.params as { id: string }).id.toLowerCase();
      if (!(await deps.directory.deleteUser(tid, id))) throw notFound(`No user '${id.slice(0, 64)}' in tenant '${tid}'.`);
      return reply.code(204).send();
    },
  });

  resource(app, '/_presently/tenants/:tid/apps/:appId/access', {
    DELETE: async (request, reply) => {
      const tid = await tenantOf(request);
      const appId = (request.params as { appId: string }).appId;
      if (!isGuid(appId)) throw badRequest(`Invalid application id '${appId.slice(0, 64)}': a GUID is expected.`);
      if (!deps.revokeAppAccess) throw new GraphError(501, 'NotImplemented', 'Change notifications are not enabled.');
      await deps.revokeAppAccess(tid, appId.toLowerCase());
      return reply.code(204).send();
    },
  });

  resource(app, '/_presently/clock', {
    GET: async (request) => {
      await guard(request);
      await synced();
      return clockJson(clock);
    },
    POST: async (request) => {
      await guard(request);
      if (clock.mode !== 'manual') {
        throw new GraphError(409, 'Conflict', 'The clock is the system clock; start Presently with --clock manual to move it.');
      }
      const manual = clock as ManualClock;
      const body = readObject(request.body ?? {}, '', ['advance', 'now']);
      const advance = readString(body, 'advance', '');
      const now = readString(body, 'now', '');
      if ((advance == null) === (now == null)) throw new InvalidInput("Give exactly one of 'advance' (an ISO-8601 duration such as PT10M) or 'now' (an ISO-8601 instant).");
      // The new time is computed from the clock's current time inside `update`: on a clock shared by several nodes,
      // that is the shared time, and the move is a compare-and-set, so concurrent moves on several nodes all count.
      let to: (current: number) => number;
      if (advance != null) {
        const ms = parseDuration(advance, 'advance');
        if (ms < 0) throw new InvalidInput("Property 'advance' must not be negative: the clock only moves forward.", 'advance');
        to = (current) => current + ms;
      } else {
        const t = Date.parse(now!);
        if (!/^\d{4}-\d{2}-\d{2}T.*(?:Z|[+-]\d{2}:\d{2})$/i.test(now!) || Number.isNaN(t)) throw new InvalidInput(`Property 'now' must be an ISO-8601 instant such as 2026-11-28T08:00:00Z, not '${now!.slice(0, 64)}'.`, 'now');
        to = (current) => {
          if (t < current) throw new InvalidInput(`Property 'now' is before the clock's current time ${new Date(current).toISOString()}: the clock only moves forward.`, 'now');
          return t;
        };
      }
      await manual.update(to);
      await deps.settle();
      return clockJson(clock);
    },
  });
}

function clockJson(clock: Clock) {
  return { mode: clock.mode, now: formatUtc(clock.now()) };
}

function userJson(u: { id: string; tenantId: string; displayName: string; userPrincipalName: string }) {
  return { id: u.id, tenantId: u.tenantId, displayName: u.displayName, userPrincipalName: u.userPrincipalName };
}
