/**
 * The composition root: reads a Config, builds the store, clock, auth, services, scheduler and HTTP app, and
 * starts and stops them. Nothing else constructs these pieces.
 */
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { DevIssuer } from './auth/devIssuer.ts';
import { devVerifier } from './auth/verify.ts';
import { manualClock, type ManualClock } from './platform/clock/manual.ts';
import { sharedManualClock } from './platform/clock/shared.ts';
import { systemClock } from './platform/clock/system.ts';
import { CLOUDS, graphAudiences } from './config/clouds.ts';
import type { Config } from './config/config.ts';
import type { Clock } from './platform/clock/clock.ts';
import { installMetrics } from './http/metrics.ts';
import { adminRoutes } from './admin/routes.ts';
import { batchRoutes } from './http/batch.ts';
import { deliveriesRoutes } from './admin/deliveries.ts';
import { mailboxSettingsRoutes } from './presence/mailboxSettings.ts';
import { presenceRoutes } from './presence/routes.ts';
import { sinkRoutes } from './admin/sinkRoutes.ts';
import { subscriptionRoutes } from './subscriptions/routes.ts';
import { installThrottle } from './http/throttle.ts';
import { loadTls, type TlsMaterial } from './config/tls.ts';
import { frameworkErrorHandler, genReqId, installWire } from './http/wire.ts';
import { Deliverer } from './notifications/deliverer.ts';
import { DeliveryLog } from './notifications/deliveryLog.ts';
import { Dispatcher } from './notifications/dispatcher.ts';
import { Lifecycle } from './notifications/lifecycle.ts';
import { SinkStore } from './admin/sink.ts';
import { SubscriptionService } from './subscriptions/service.ts';
import type { WebhookMode } from './subscriptions/urlPolicy.ts';
import { Scheduler } from './presence/dueLoop.ts';
import { Directory } from './directory/directory.ts';
import { PresenceService } from './presence/service.ts';
import { DEMO_TENANT_ID, DEV_APP_ID, applySeed, readSeedFile, seedDemoOnce } from './directory/seed.ts';
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
  subscriptions: SubscriptionService;
  /** The built-in webhook sink's records (/_presently/sink/{name}). */
  sinks: SinkStore;
  /** Delivery of change notifications: outbox → deliveries → POSTs, and the subscription lifecycle. */
  notifications: { dispatcher: Dispatcher; deliverer: Deliverer; lifecycle: Lifecycle; log: DeliveryLog };
  tls: TlsMaterial | null;
  /** Listens on the configured host and port; resolves to the URL it serves. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface BuildOptions {
  /**
   * Start time of the manual clock (epoch ms); defaults to the system time at start. A clock shared through the
   * store (redis) uses it only when the store holds no time yet: the time is part of the shared data, so a node
   * started — or restarted — on data that has one continues from it.
   */
  manualStart?: number;
}

export async function buildPresently(config: Config, opts: BuildOptions = {}): Promise<Presently> {
  const store: Store = config.store === 'redis'
    ? await openStore({ kind: 'redis', redisUrl: config.redisUrl, redisPrefix: config.redisPrefix })
    : openStore({ kind: config.store, dataDir: config.dataDir });
  /** The manual clock, if any; closed with the server (a shared one stops following the store). */
  let manual: ManualClock | null = null;
  /** Where the shared clock reports a failed refresh; the logger once there is one. */
  let clockError: (err: unknown) => void = () => {};
  try {
    // A store shared by several nodes keeps the manual clock's time, so every node sees the same time and a move on
    // any node moves it for all (src/platform/clock/shared.ts); otherwise the manual clock lives in this process.
    if (config.clock === 'manual') {
      const start = opts.manualStart ?? Date.now();
      const shared = store.sharedClock?.();
      manual = shared ? await sharedManualClock(shared, start, { onError: (err) => clockError(err) }) : manualClock(start);
    }
    const clock: Clock = manual ?? systemClock();
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
    clockError = (err) => app.log.warn({ err }, 'reading the shared manual clock failed');

    const scheduler = new Scheduler(store, presence, clock, (err) => app.log.error({ err }, 'scheduler failed'));

    // Notification delivery (notifications.md §2): committed changes → dispatcher → deliveries → deliverer → POSTs;
    // the lifecycle loop expires subscriptions and sends reauthorizationRequired.
    const deliveryLog = new DeliveryLog();
    const deliverer = new Deliverer(store, clock, {
      log: deliveryLog, issuer, limitedShape: cloud.limitedShape, leaseMs: config.deliveryLeaseMs, timeoutMs: config.webhookTimeoutMs,
      onError: (err) => app.log.error({ err }, 'notification deliverer failed'),
    });
    const dispatcher = new Dispatcher(store, clock, {
      onDispatched: () => deliverer.wake(), onError: (err) => app.log.error({ err }, 'notification dispatcher failed'),
    });
    const lifecycle = new Lifecycle(store, clock, {
      onEnqueued: () => deliverer.wake(), onError: (err) => app.log.error({ err }, 'subscription lifecycle failed'),
    });
    presence.onChange(() => dispatcher.wake());
    directory.onUserDeleted(async (tenantId, userId) => {
      await lifecycle.revokeCreator(tenantId, userId);
    });
    /** Manual clock: everything due by the new time is transitioned, expired, dispatched and attempted, in order. */
    const settle = async () => {
      await scheduler.runDue();
      await lifecycle.runDue();
      await dispatcher.run();
      await deliverer.settle();
    };
    manual?.onSettle(settle);

    installWire(app, clock);
    const registry = installMetrics(app);
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

    // Change notifications: subscriptions and the built-in sink (notifications.md §1, §3, §4). The webhook URL policy
    // is --webhook-policy, by default development with dev auth (http to localhost allowed) and production otherwise.
    const webhookMode: WebhookMode = config.webhookPolicy ?? (config.auth === 'dev' ? 'development' : 'production');
    /** Origins of this server, so its own sink is always an allowed webhook URL; the listen address is added later. */
    const ownOrigins = new Set<string>(routeDeps.publicUrl ? [new URL(routeDeps.publicUrl).origin] : []);
    const subscriptions = new SubscriptionService({
      store, clock, handshakeTimeoutMs: config.handshakeTimeoutMs,
      policy: {
        mode: webhookMode,
        allowHosts: config.webhookAllow,
        isOwnSink: (url) => ownOrigins.has(url.origin) && url.pathname.toLowerCase().startsWith('/_presently/sink/'),
      },
      onHandshakeFailure: ({ property, url, result }) =>
        app.log.info({ property, url, reason: result.reason, detail: result.detail }, 'webhook validation handshake failed'),
    });
    const sinks = new SinkStore();
    const subscriptionDeps = { subscriptions, verifier, cloud, publicUrl: routeDeps.publicUrl };
    subscriptionRoutes(app, 'v1.0', subscriptionDeps);
    subscriptionRoutes(app, 'beta', subscriptionDeps);
    sinkRoutes(app, { sinks, clock, authMode: config.auth, verifier });
    // A created or renewed subscription may need the lifecycle loop sooner than it is armed for.
    app.addHook('onResponse', async (request, reply) => {
      if ((request.method === 'POST' || request.method === 'PATCH') && reply.statusCode < 300
        && /\/subscriptions(?:[/?]|$)/i.test(request.url)) lifecycle.wake();
    });
    deliveriesRoutes(app, { log: deliveryLog, store, authMode: config.auth, verifier, registry });
    adminRoutes(app, {
      store, directory, clock, issuer, verifier, authMode: config.auth, cloud: config.cloud, version: VERSION,
      audience: cloud.graphRoot, defaultTenantId: DEMO_TENANT_ID, defaultAppId: DEV_APP_ID,
      settle,
      revokeAppAccess: (tenantId, appId) => lifecycle.revokeApp(tenantId, appId),
    });
    await app.ready();
    await scheduler.start();
    // After the scheduler's catch-up: pending deliveries go out, expiries pass, and the outbox drains.
    await deliverer.start();
    await lifecycle.start();
    await dispatcher.start();

    let closed = false;
    return {
      app, store, clock, presence, scheduler, issuer, subscriptions, sinks, tls,
      notifications: { dispatcher, deliverer, lifecycle, log: deliveryLog },
      async listen() {
        await app.listen({ port: config.port, host: config.host });
        const address = app.server.address();
        const port = typeof address === 'object' && address ? address.port : config.port;
        const host = config.host.includes(':') ? `[${config.host}]` : config.host;
        const scheme = tls ? 'https' : 'http';
        ownOrigins.add(new URL(`${scheme}://${host}:${port}`).origin);
        if (['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost'].includes(config.host)) {
          for (const loopback of ['127.0.0.1', 'localhost', '[::1]']) ownOrigins.add(new URL(`${scheme}://${loopback}:${port}`).origin);
        }
        return `${scheme}://${host}:${port}`;
      },
      async close() {
        if (closed) return;
        closed = true;
        await scheduler.stop();
        await lifecycle.stop();
        await dispatcher.stop();
        // Before the app closes: a POST to this server's own sink needs it to answer. Bounded by the POST timeout.
        await deliverer.stop(5000);
        await app.close();
        await manual?.close();
        await store.close();
      },
    };
  } catch (err) {
    await manual?.close().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
}
