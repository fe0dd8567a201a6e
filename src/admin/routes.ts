/**
 * The admin and testing API under /_presently (docs/operations/admin-api.md), one concern per file: health and readiness
 * (./health.ts), info (./info.ts), the dev token endpoint and JWKS (./tokens.ts), the users of a tenant
 * (./users.ts), app access (./apps.ts), the manual clock (./clock.ts), and reset, export, import and tenants (./state/). Who may use it: ./guard.ts. Paths match
 * exactly: ./exactPaths.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { DevIssuer } from '../auth/devIssuer.ts';
import type { TokenVerifier } from '../auth/verify.ts';
import type { Clock } from '../platform/clock/clock.ts';
import type { Store } from '../store/types.ts';
import type { Directory } from '../directory/directory.ts';
import { appRoutes, type RevokeAppAccess } from './apps.ts';
import { clockRoutes } from './clock.ts';
import { installExactAdminPaths } from './exactPaths.ts';
import { guardedScope } from './guard.ts';
import { healthRoutes } from './health.ts';
import { infoRoutes } from './info.ts';
import type { StateService } from './state/service.ts';
import { stateRoutes } from './state/routes.ts';
import { tokenRoutes } from './tokens.ts';
import { userRoutes } from './users.ts';

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
  revokeAppAccess?: RevokeAppAccess;
  /** Reset, export, import and tenants (./state/). */
  state?: StateService;
}

export function adminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  installExactAdminPaths(app);
  healthRoutes(app, deps.store);
  infoRoutes(app, { clock: deps.clock, version: deps.version, storeKind: deps.store.kind, authMode: deps.authMode, cloud: deps.cloud });
  tokenRoutes(app, deps);
  guardedScope(app, deps, (scope) => {
    userRoutes(scope, deps);
    appRoutes(scope, deps.revokeAppAccess);
    clockRoutes(scope, deps);
    if (deps.state) stateRoutes(scope, deps.state);
  });
}
