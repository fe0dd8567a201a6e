/**
 * Who may use the admin API under `/_presently`: anyone in dev auth mode; otherwise a caller with the app role
 * `Presently.Admin`. Open by design, in every mode: health, readiness, info, the signing keys, and POSTs to the
 * webhook sink (webhooks carry no token). The token endpoint exists in dev auth mode only.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authorizeAdmin } from '../auth/permissions.ts';
import type { TokenVerifier } from '../auth/verify.ts';

export type AdminGuard = (request: FastifyRequest) => Promise<void>;

export interface GuardDeps {
  authMode: string;
  verifier: TokenVerifier;
}

/** Resolves when the request may use the admin API; else throws 401 or 403. */
export function adminGuard(deps: GuardDeps): AdminGuard {
  return async function requireAdmin(request: FastifyRequest): Promise<void> {
    if (deps.authMode === 'dev') return;
    const principal = await deps.verifier.verify(request.headers.authorization);
    request.principal = principal;
    authorizeAdmin(principal);
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
