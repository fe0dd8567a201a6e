/**
 * Who may use the admin API under `/_presently` [P: d-admin-key]: anyone in dev auth mode; in any other mode only a
 * caller presenting `Authorization: Bearer <admin key>` (`--admin-key` / PRESENTLY_ADMIN_KEY), compared in constant
 * time; without a configured key the guarded routes are off (404). Open by design, in every mode: health, readiness,
 * /metrics, the public signing keys (receivers verify rich notifications' validation tokens with them) and POSTs to
 * the webhook sink (webhooks carry no token). The token endpoint exists in dev auth mode only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GraphError } from '../http/errors.ts';

export type AdminGuard = (request: FastifyRequest) => Promise<void>;

export interface GuardDeps {
  authMode: string;
  /** The admin key; null: outside dev mode, the guarded routes are off. */
  adminKey: string | null;
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** True when `authorization` is `Bearer <key>`; hashes first, so the comparison takes the same time for any input. */
export function presentsAdminKey(authorization: string | undefined, key: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return timingSafeEqual(sha256(match?.[1] ?? ''), sha256(key)) && match !== null;
}

/** Resolves when the request may use the admin API; else throws 401, or 404 when the admin API is off. */
export function adminGuard(deps: GuardDeps): AdminGuard {
  const key = deps.adminKey;
  return async function requireAdmin(request: FastifyRequest): Promise<void> {
    if (deps.authMode === 'dev') return;
    if (key === null) {
      throw new GraphError(404, 'ResourceNotFound',
        'The admin API is off: start Presently with --admin-key (or PRESENTLY_ADMIN_KEY) to use it.');
    }
    if (!presentsAdminKey(request.headers.authorization, key)) {
      throw new GraphError(401, 'InvalidAuthenticationToken', 'The admin API needs the header Authorization: Bearer <admin key>.');
    }
  };
}

/**
 * Registers admin routes in a scope of their own whose every request passes the guard before anything else (before
 * its body is read), so a route added there cannot forget it.
 */
export function guardedScope(app: FastifyInstance, deps: GuardDeps, register: (scope: FastifyInstance) => void): void {
  const guard = adminGuard(deps);
  void app.register(async (scope) => {
    scope.addHook('onRequest', guard);
    register(scope);
  });
}
