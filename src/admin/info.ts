/** `GET /_presently/info`: version, store, auth mode, cloud and clock. Open. */
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
}

export function infoRoutes(app: FastifyInstance, deps: InfoDeps): void {
  resource(app, '/_presently/info', {
    GET: async function info() {
      await syncedClock(deps.clock);
      return {
        version: deps.version,
        store: deps.storeKind,
        auth: deps.authMode,
        cloud: deps.cloud,
        clock: { mode: deps.clock.mode, now: new Date(deps.clock.now()).toISOString() },
      };
    },
  });
}
