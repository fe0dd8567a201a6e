/**
 * `GET /_presently/info`: version, store, auth mode, cloud, clock, and warnings about how the server is exposed
 * (dev auth mode on a network address). Open in dev auth mode; else behind the admin key like the rest.
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../platform/clock/clock.ts';
import { resource } from '../http/wire.ts';
import { syncedClock } from './clock.ts';

export interface InfoDeps {
  clock: Clock;
  version: string;
  storeKind: string;
  authMode: string;
  cloud: string;
  /** What an operator should know (e.g. dev tokens mintable by anyone who can reach the port); empty: none. */
  warnings: readonly string[];
  /** `--auth oidc`: the issuers and audiences accepted. */
  oidc?: { issuers: readonly string[]; audiences: readonly string[]; tenants: readonly string[] };
}

export function infoRoutes(app: FastifyInstance, deps: InfoDeps): void {
  resource(app, '/_presently/info', {
    GET: async function info() {
      await syncedClock(deps.clock);
      return {
        version: deps.version,
        store: deps.storeKind,
        auth: deps.authMode,
        ...(deps.oidc ? { oidc: deps.oidc } : {}),
        cloud: deps.cloud,
        clock: { mode: deps.clock.mode, now: new Date(deps.clock.now()).toISOString() },
        warnings: deps.warnings,
      };
    },
  });
}
