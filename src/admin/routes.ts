/**
 * The admin and testing API under /_presently (docs/operations/admin-api.md), one concern per file: health and readiness
 * (./health.ts), info (./info.ts), the dev token endpoint and JWKS (./tokens.ts), the users of a tenant
 * (./users.ts), app access (./apps.ts), the manual clock (./clock.ts), and reset, export, import and tenants (./state/). Who may use it: ./guard.ts. Paths match
 * exactly: ./exactPaths.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { DevIssuer } from '../auth/devIssuer.ts';
import type { Clock } from '../platform/clock/clock.ts';
import type { Store } from '../store/types.ts';
import type { Directory } from '../directory/directory.ts';
import { appRoutes, type RevokeAppAccess } from './apps.ts';
import { clockRoutes } from './clock.ts';
import { installExactAdminPaths } from './exactPaths.ts';
import { guardedScope } from './guard.ts';
import { healthRoutes, type AuthReadiness } from './health.ts';
import { infoRoutes, type InfoDeps } from './info.ts';
import type { StateService } from './state/service.ts';
import { stateRoutes } from './state/routes.ts';
import { tokenRoutes } from './tokens.ts';
import { userRoutes } from './users.ts';

export interface AdminDeps {
  store: Store;
  directory: Directory;
  clock: Clock;
  issuer: DevIssuer;
  authMode: string;
  /** Outside dev auth mode, the admin API's bearer key; null: the guarded routes are off. */
  adminKey: string | null;
  /** `--auth oidc`: whether every issuer's keys are loaded (part of /_presently/ready). */
  authReadiness: AuthReadiness | null;
  /** Shown by /_presently/info. */
  warnings: readonly string[];
  oidc?: InfoDeps['oidc'];
  cloud: string;
  version: string;
  audience: string;
  defaultTenantId: string;
  defaultAppId: string;
  /** `--public-url`, without a trailing slash; null when not set. */
  publicUrl: string | null;
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
  healthRoutes(app, deps.store, deps.authReadiness);
  tokenRoutes(app, deps);
  guardedScope(app, deps, (scope) => {
    infoRoutes(scope, {
      clock: deps.clock, version: deps.version, storeKind: deps.store.kind, authMode: deps.authMode, cloud: deps.cloud,
      warnings: deps.warnings, ...(deps.oidc ? { oidc: deps.oidc } : {}),
    });
    userRoutes(scope, deps);
    appRoutes(scope, deps.revokeAppAccess);
    clockRoutes(scope, deps);
    if (deps.state) stateRoutes(scope, deps.state);
  });
}
