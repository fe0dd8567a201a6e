/**
 * The composition root: reads a Config, builds the store, clock, auth, services, scheduler and HTTP app, and
 * starts and stops them. Nothing else constructs these pieces.
 */
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { DevIssuer } from './auth/devIssuer.ts';
import { devVerifier } from './auth/verify.ts';
import { manualClock, type ManualClock } from './clock/manual.ts';
import { systemClock } from './clock/system.ts';
import { CLOUDS, graphAudiences } from './config/clouds.ts';
import type { Config } from './config/config.ts';
import type { Clock } from './domain/clock.ts';
import { installMetrics } from './http/metrics.ts';
import { adminRoutes } from './http/routes/admin.ts';
import { batchRoutes } from './http/routes/batch.ts';
import { mailboxSettingsRoutes } from './http/routes/mailboxSettings.ts';
import { presenceRoutes } from './http/routes/presence.ts';
import { installThrottle } from './http/throttle.ts';
import { loadTls, type TlsMaterial } from './http/tls.ts';
import { frameworkErrorHandler, genReqId, installWire } from './http/wire.ts';
import { Scheduler } from './scheduler/scheduler.ts';
import { Directory } from './service/directory.ts';
import { PresenceService } from './service/presence.ts';
import { DEMO_TENANT_ID, DEV_APP_ID, applySeed, readSeedFile, seedDemoOnce } from './service/seed.ts';
import { openStore } from './store/index.ts';
import type { Store } from './store/types.ts';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Presently {
  app: FastifyInstance;
  store: Store;
  clock: Clock;
  presence: PresenceService;
  scheduler: Scheduler;
  issuer: DevIssuer;
  tls: TlsMaterial | null;
  /** Listens on the configured host and port; resolves to the URL it serves. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface BuildOptions {
  /** Start time of the manual clock (epoch ms); defaults to the system time at start. */
  manualStart?: number;
}

export async function buildPresently(config: Config, opts: BuildOptions = {}): Promise<Presently> {
  const clock: Clock = config.clock === 'manual' ? manualClock(opts.manualStart ?? Date.now()) : systemClock();
  const store = openStore({ kind: config.store, dataDir: config.dataDir });
  try {
    const cloud = CLOUDS[config.cloud];
    const audiences = graphAudiences(cloud);
    const issuer = await DevIssuer.load(store, clock);
    const verifier = devVerifier(issuer, clock, audiences);

    const presence = new PresenceService(store, clock);
    const directory = new Directory(store, presence, clock);
    await seedDemoOnce(store, directory, clock.now());
    if (config.seedFile) await applySeed(store, directory, readSeedFile(config.seedFile));

    const tls = config.https || config.certFile || config.keyFile ? await loadTls(config) : null;

    const app = Fastify({
      logger: { level: config.logLevel },
      genReqId,
      // Long ids are answered by the routes (400 naming the id), not by the router's 414.
      routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 2048 },
      bodyLimit: config.bodyLimit,
      frameworkErrors: frameworkErrorHandler(clock),
      ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}),
    }) as unknown as FastifyInstance;
    app.decorateRequest('principal', null);

    const scheduler = new Scheduler(store, presence, clock, (err) => app.log.error({ err }, 'scheduler failed'));
    if (clock.mode === 'manual') (clock as ManualClock).onSettle(() => scheduler.runDue());

    installWire(app, clock);
    installMetrics(app);
    if (config.throttle === 'graph') {
      installThrottle(app, {
        clock, verifier,
        limits: { windowMs: config.throttleWindow * 1000, readLimit: config.throttleReadLimit, limit: config.throttleLimit },
      });
    }
    const routeDeps = { presence, cloud, verifier, publicUrl: config.publicUrl?.replace(/\/+$/, '') ?? null, maxStatusLength: config.maxStatusLength };
    presenceRoutes(app, 'v1.0', routeDeps);
    presenceRoutes(app, 'beta', routeDeps);
    batchRoutes(app, 'v1.0');
    batchRoutes(app, 'beta');
    mailboxSettingsRoutes(app, 'v1.0', { ...routeDeps, store });
    mailboxSettingsRoutes(app, 'beta', { ...routeDeps, store });
    adminRoutes(app, {
      store, directory, clock, issuer, verifier, authMode: config.auth, cloud: config.cloud, version: VERSION,
      audience: cloud.graphRoot, defaultTenantId: DEMO_TENANT_ID, defaultAppId: DEV_APP_ID,
      settle: () => scheduler.runDue(),
    });
    await app.ready();
    await scheduler.start();

    let closed = false;
    return {
      app, store, clock, presence, scheduler, issuer, tls,
      async listen() {
        await app.listen({ port: config.port, host: config.host });
        const address = app.server.address();
        const port = typeof address === 'object' && address ? address.port : config.port;
        const host = config.host.includes(':') ? `[${config.host}]` : config.host;
        return `${tls ? 'https' : 'http'}://${host}:${port}`;
      },
      async close() {
        if (closed) return;
        closed = true;
        scheduler.stop();
        await app.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}
