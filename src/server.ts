/**
 * The composition root: from a Config, builds the store, clock, auth, services, notification pipeline and HTTP app,
 * wires who reacts to which event (`wireEvents`), and starts and stops them; nothing else constructs these pieces.
 * Each step is a small function below, in the order buildPresently calls them. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DevIssuer } from './auth/devIssuer.ts';
import { devVerifier, type TokenVerifier } from './auth/verify.ts';
import { oidcAuth, type OidcAuth } from './auth/oidc/oidcAuth.ts';
import { devOnNetworkWarning } from './config/exposure.ts';
import { FirstUse } from './directory/firstUse.ts';
import { manualClock, type ManualClock } from './platform/clock/manual.ts';
import { sharedManualClock } from './platform/clock/shared.ts';
import { systemClock } from './platform/clock/system.ts';
import { CLOUDS, graphAudiences, type Cloud } from './config/clouds.ts';
import type { Config } from './config/config.ts';
import type { Clock } from './platform/clock/clock.ts';
import { installMetrics } from './http/metrics.ts';
import { Front } from './http/front.ts';
import type { Registry } from 'prom-client';
import { adminRoutes } from './admin/routes.ts';
import { installAuthority, type AuthorityOptions } from './authority/install.ts';
import { batchRoutes } from './http/batch.ts';
import { metadataRoutes } from './http/metadata.ts';
import { deliveriesRoutes } from './admin/deliveries.ts';
import { installStoreMetrics } from './admin/metrics.ts';
import { mailboxSettingsRoutes } from './presence/mailboxSettingsRoutes.ts';
import { presenceRoutes } from './presence/routes.ts';
import { sinkRoutes } from './admin/sinkRoutes.ts';
import { subscriptionRoutes } from './subscriptions/routes.ts';
import { installThrottle } from './http/throttle.ts';
import { loadTls, type TlsMaterial } from './config/tls.ts';
import { installWire } from './http/wire.ts';
import { graphHeaders, presentlyServerInfo, type GraphHeaders } from './http/graphHeaders.ts';
import { issuerBase, originOf } from './auth/issuerBase.ts';
import { createHttpApp, listenOn } from './http/app.ts';
import type { DeliveryLog } from './notifications/deliveryLog.ts';
import type { Deliverer } from './notifications/deliverer.ts';
import type { Dispatcher } from './notifications/dispatcher.ts';
import type { Lifecycle } from './notifications/lifecycle.ts';
import { buildPipeline, startLoops, type Pipeline } from './notifications/pipeline.ts';
import type { Scheduler } from './presence/dueLoop.ts';
import { SinkStore } from './admin/sink.ts';
import { SubscriptionService } from './subscriptions/service.ts';
import { connectGuard, type Resolver, type UrlPolicy, type WebhookMode } from './subscriptions/urlPolicy.ts';
import { webhookClient, type WebhookClient } from './notifications/webhookClient.ts';
import { Directory } from './directory/directory.ts';
import { PresenceService } from './presence/service.ts';
import { DEMO, DEMO_TENANT_ID, DEV_APP_ID, applySeed, readSeedFile, seedDemoOnce, type SeedData } from './directory/seed.ts';
import { StateService } from './admin/state/service.ts';
import { installDashboard, type Dashboard } from './dashboard/install.ts';
import { openStore } from './store/index.ts';
import { EventBus } from './platform/events.ts';
import type { PresenceEvents } from './presence/events.ts';
import type { DirectoryEvents } from './directory/events.ts';
import type { NotificationEvents } from './notifications/events.ts';
import type { SubscriptionEvents } from './subscriptions/events.ts';
import type { Store } from './store/types.ts';
import { VERSION } from './config/version.ts';

export { VERSION };

/** Every event of every feature: what the one bus carries. */
export type PresentlyEvents = PresenceEvents & DirectoryEvents & SubscriptionEvents & NotificationEvents;

export interface Presently {
  app: FastifyInstance;
  /** The event bus (subscribe with `events.on`: tests watch presence changes this way). */
  events: EventBus<PresentlyEvents>;
  store: Store;
  clock: Clock;
  presence: PresenceService;
  scheduler: Scheduler;
  issuer: DevIssuer;
  /** `--auth oidc`: the issuers' keys, readiness and verifier; null in dev mode. */
  oidc: OidcAuth | null;
  subscriptions: SubscriptionService;
  /** The built-in webhook sink's records (/_presently/sink/{name}). */
  sinks: SinkStore;
  /** Delivery of change notifications: outbox → deliveries → POSTs, and the subscription lifecycle. */
  notifications: { dispatcher: Dispatcher; deliverer: Deliverer; lifecycle: Lifecycle; log: DeliveryLog };
  tls: TlsMaterial | null;
  /** The dashboard's timeline and stream hub (/_presently/ui: docs/operations/dashboard.md). */
  dashboard: Dashboard;
  /** Where every request comes in (src/http/front.ts): `laneAnswers` counts the express lanes' answers. */
  front: Front;
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
  /** Name resolution for webhook hosts (the URL policy and every connection); tests inject their own. */
  resolve?: Resolver;
  /**
   * The dev signing key (newDevSigningKey) a store without one starts with, instead of a newly generated one: test
   * suites that start many servers share one; `presently serve` passes one it generates while this module loads.
   */
  devSigningKey?: string | Promise<string>;
  /** Where the dashboard's web app is (tests); by default dist/ui/ of the package. */
  uiDir?: string;
  /** False: no express lanes (tests comparing both paths; the bench's A/B). Default: on where they apply. */
  expressLanes?: boolean;
}

export async function buildPresently(config: Config, opts: BuildOptions = {}): Promise<Presently> {
  const store: Store = config.store === 'redis'
    ? await openStore({ kind: 'redis', redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, dataDir: config.dataDir })
    : openStore({ kind: config.store, dataDir: config.dataDir, presence: config.presenceStore ?? undefined });
  let clocks: Clocks | null = null;
  try {
    clocks = await openClock(config, store, opts);
    const core = await buildCore(config, store, clocks, opts);
    // Decided once, here, from how the store is deployed: with one writer (sqlite, memory) the writes keep the read cache
    // and the background loops need not allow for other nodes; on a shared store (redis) the cache follows the changes
    // the store tells, and the loops allow for other nodes.
    const shared = !store.facts.soleWriter;
    const warn = (message: string) => core.app.log.warn(message);
    const presence = new PresenceService(store, core.clock, core.events, { readCache: true, cacheLimit: config.readCacheUsers, sharedStore: shared, warn });
    const directory = new Directory(store, presence, core.clock, core.events);
    provisionOnFirstUse(core, new FirstUse(store, directory));
    await seedDemoOnce(store, directory, core.clock.now());
    const seedFile = config.seedFile ? readSeedFile(config.seedFile) : null;
    if (seedFile) await applySeed(store, directory, seedFile);
    const pipeline = pipelineOf(core, presence);
    clocks.manual?.onSettle(pipeline.settle);
    const registry = registerGraphRoutes(core, presence);
    const notifications = registerNotificationRoutes(core, presence, pipeline, registry);
    const dashboard = dashboardOf(core, clocks, presence, pipeline, notifications.sinks, opts);
    registerAdminRoutes(core, directory, pipeline, new StateService({
      store, directory, presence, clock: core.clock, seeds: [DEMO, ...(seedFile ? [seedFile] : [])] satisfies SeedData[],
      dispatchChanges: () => pipeline.dispatcher.run(),
      subscriptionStored: (id) => void pipeline.lifecycle.changed(id).catch((err: unknown) => core.app.log.error({ err }, 'subscription lifecycle failed')),
    }));
    if (config.auth === 'dev') await installAuthority(core.app, authorityOptions(core));
    const warmReadCache = readCacheWarmer(core.app, presence);
    await core.app.ready();
    await startLoops(pipeline);
    warmReadCache();
    return assemble(core, clocks, presence, pipeline, notifications, dashboard);
  } catch (err) {
    await clocks?.manual?.close().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
}

/**
 * What fills the read cache in the background once the server is up (src/presence/service.ts warm); the fill stops
 * when the app closes. Made before the app is ready (hooks cannot be added after), called after.
 */
function readCacheWarmer(app: FastifyInstance, presence: PresenceService): () => void {
  const stop = new AbortController();
  app.addHook('onClose', (_app, done) => { stop.abort(); done(); });
  return () => {
    const started = performance.now();
    presence.warm(stop.signal).then(
      (users) => { if (users > 0) app.log.info({ users, ms: Math.round(performance.now() - started) }, 'read cache filled'); },
      (err: unknown) => app.log.warn({ err }, 'filling the read cache failed; reads of the users it did not reach go to the store'),
    );
  };
}

/** What every part is built from. */
interface Core {
  config: Config;
  store: Store;
  clock: Clock;
  cloud: Cloud;
  issuer: DevIssuer;
  verifier: TokenVerifier;
  oidc: OidcAuth | null;
  tls: TlsMaterial | null;
  app: FastifyInstance;
  /** Where every request comes in: observers of every request and answer, and the express lanes (src/http/front.ts). */
  front: Front;
  /** Headers of every answer that do not depend on the request (x-ms-ags-diagnostic, the 401 challenge). */
  headers: GraphHeaders;
  events: EventBus<PresentlyEvents>;
  webhooks: Webhooks;
}

/** Every webhook call (handshake, notification, lifecycle) goes through one client under one URL policy. */
interface Webhooks {
  policy: UrlPolicy;
  client: WebhookClient;
  /** Origins of this server, so its own sink is always an allowed webhook URL; the listen address is added later. */
  ownOrigins: Set<string>;
}

interface Clocks {
  clock: Clock;
  /** The manual clock, if any; closed with the server (a shared one stops following the store). */
  manual: ManualClock | null;
  /** Where the shared clock reports a failed refresh; the logger once there is one. */
  report: { error: (err: unknown) => void };
}

/**
 * A store shared by several nodes keeps the manual clock's time, so every node sees the same time and a move on any
 * node moves it for all (src/platform/clock/shared.ts); otherwise the manual clock lives in this process.
 */
async function openClock(config: Config, store: Store, opts: BuildOptions): Promise<Clocks> {
  const report = { error: (_err: unknown): void => {} };
  if (config.clock !== 'manual') return { clock: systemClock(), manual: null, report };
  const start = opts.manualStart ?? Date.now();
  const shared = store.sharedClock?.();
  const manual = shared ? await sharedManualClock(shared, start, { onError: (err) => report.error(err) }) : manualClock(start);
  return { clock: manual, manual, report };
}

/** Auth, TLS, the Fastify app and the event bus (its listener errors go to the app's log). */
async function buildCore(config: Config, store: Store, clocks: Clocks, opts: BuildOptions): Promise<Core> {
  const { clock } = clocks;
  const cloud = CLOUDS[config.cloud];
  const issuer = await DevIssuer.load(store, clock, opts.devSigningKey);
  const tls = config.https || config.certFile || config.keyFile ? await loadTls(config) : null;
  // In dev mode Presently is the authority (src/authority/): a 401's challenge sends MSAL to it [P: d-dev-challenge].
  const devAuthority = (request: FastifyRequest) => `${issuerBase(originOf(request), publicUrl(config))}/common/oauth2/v2.0/authorize`;
  const headers = graphHeaders(cloud, presentlyServerInfo({ cloud, store: config.store, version: VERSION }), config.auth === 'dev' ? devAuthority : undefined);
  const app = createHttpApp(config, clock, tls, headers);
  clocks.report.error = (err) => app.log.warn({ err }, 'reading the shared manual clock failed');
  const events = new EventBus<PresentlyEvents>((err, event) => app.log.error({ err, event }, 'an event listener failed'));
  const oidc = config.auth === 'oidc' ? buildOidc(config, clock, cloud, app) : null;
  const verifier = oidc?.verifier ?? devVerifier(issuer, clock, graphAudiences(cloud));
  // Express lanes [P: d-express-lanes], unless a framework hook must see every request: throttling counts reads, and at
  // --log-level info and below the framework logs each request.
  const lanes = opts.expressLanes !== false && config.throttle === 'off' && !['info', 'debug', 'trace'].includes(config.logLevel);
  const front = new Front(app, { clock, headers, lanes });
  return { config, store, clock, cloud, issuer, verifier, oidc, tls, app, front, headers, events, webhooks: buildWebhooks(config, opts) };
}

/** `--auth oidc` (docs/operations/auth.md): keys first fetched when the app gets ready, the loop stopped with it. */
function buildOidc(config: Config, clock: Clock, cloud: Cloud, app: FastifyInstance): OidcAuth {
  const oidc = oidcAuth({
    issuers: config.issuers, audiences: config.audiences, tenants: config.tenants, cloud: cloud.name,
    defaultAudiences: graphAudiences(cloud),
    timeoutMs: config.oidcTimeoutMs, cooldownMs: config.keysCooldownMs, refreshMs: config.keysRefreshMs,
  }, clock, (err) => app.log.error({ err }, 'loading the issuers\' signing keys failed'));
  app.addHook('onReady', () => oidc.start());
  app.addHook('onClose', () => oidc.stop());
  return oidc;
}

/** `--auth oidc`: a verified token's tenant and user are created on first use; a deleted user, again on the next. */
function provisionOnFirstUse({ oidc, events }: Core, firstUse: FirstUse): void {
  if (!oidc) return;
  oidc.onFirstUse((principal, profile) => firstUse.ensure(principal, profile));
  events.on('userDeleted', ({ tenantId, userId }) => firstUse.forget(tenantId, userId));
}

/**
 * The webhook URL policy is --webhook-policy, by default development with dev auth (http to localhost allowed) and
 * production otherwise. Under the production policy the one client checks, on every connection, the address it
 * actually connects to (no DNS rebinding past the check made at subscription time).
 */
function buildWebhooks(config: Config, opts: BuildOptions): Webhooks {
  const mode: WebhookMode = config.webhookPolicy ?? (config.auth === 'dev' ? 'development' : 'production');
  const own = publicUrl(config);
  const ownOrigins = new Set<string>(own ? [new URL(own).origin] : []);
  const policy: UrlPolicy = {
    mode,
    allowHosts: config.webhookAllow,
    isOwnSink: (url) => ownOrigins.has(url.origin) && url.pathname.startsWith('/_presently/sink/'),
    ...(opts.resolve ? { resolve: opts.resolve } : {}),
  };
  const client = webhookClient({ guard: connectGuard(policy), ...(opts.resolve ? { resolve: opts.resolve } : {}) });
  return { policy, client, ownOrigins };
}

/** The notification pipeline and the due loop (src/notifications/pipeline.ts), wired to the events that wake them. */
function pipelineOf({ config, store, clock, cloud, issuer, app, front, events, webhooks }: Core, presence: PresenceService): Pipeline {
  const pipeline = buildPipeline({ config, store, clock, cloud, issuer, app, front, events, post: webhooks.client.postJson }, presence);
  wireEvents(events, pipeline);
  return pipeline;
}

/** Who reacts to what: every event of the bus and the loop it wakes. */
function wireEvents(events: EventBus<PresentlyEvents>, { scheduler, dispatcher, lifecycle, deliverer }: Pipeline): void {
  events.on('dueChanged', ({ dueAt }) => scheduler.wake(dueAt));
  events.on('presenceChanged', () => dispatcher.wake());
  events.on('deliveriesEnqueued', () => deliverer.wake());
  // A created or renewed subscription may need the lifecycle loop sooner than it is armed for.
  events.on('subscriptionChanged', ({ subscriptionId }) => lifecycle.changed(subscriptionId));
  events.on('userDeleted', ({ tenantId, userId }) => lifecycle.revokeCreator(tenantId, userId));
}

/** The wire format, metrics, throttling, and the Graph presence API; resolves to the metrics registry. */
function registerGraphRoutes({ config, store, clock, cloud, verifier, app, front, headers }: Core, presence: PresenceService): Registry {
  installWire(app, clock, headers);
  const registry = installMetrics(app, front);
  if (config.throttle === 'graph') {
    installThrottle(app, {
      clock, verifier, store,
      limits: { windowMs: config.throttleWindow * 1000, readLimit: config.throttleReadLimit, limit: config.throttleLimit },
    });
  }
  const routeDeps = { presence, front, cloud, verifier, publicUrl: publicUrl(config), maxStatusLength: config.maxStatusLength };
  for (const version of ['v1.0', 'beta'] as const) {
    presenceRoutes(app, version, routeDeps);
    batchRoutes(app, version, front);
    metadataRoutes(app, version, cloud);
    mailboxSettingsRoutes(app, version, { ...routeDeps, store });
  }
  return registry;
}

function publicUrl(config: Config): string | null {
  return config.publicUrl?.replace(/\/+$/, '') ?? null;
}

interface NotificationRoutes {
  subscriptions: SubscriptionService;
  sinks: SinkStore;
}

/** Change notifications: subscriptions, the built-in sink and the deliveries log (docs/notifications/). */
function registerNotificationRoutes(core: Core, presence: PresenceService, pipeline: Pipeline, registry: Registry): NotificationRoutes {
  const { config, store, clock, cloud, verifier, app, events, webhooks } = core;
  const subscriptions = new SubscriptionService({
    store, clock, events, handshakeTimeoutMs: config.handshakeTimeoutMs, policy: webhooks.policy, post: webhooks.client.postText,
    limits: { perUser: config.maxSubscriptionsPerUser, perApp: config.maxSubscriptionsPerApp, perTenant: config.maxSubscriptionsPerTenant },
    knownUsers: (tenantId, userIds) => presence.readMany(tenantId, userIds),
    onHandshakeFailure: ({ property, url, result }) =>
      app.log.info({ property, url, reason: result.reason, detail: result.detail }, 'webhook validation handshake failed'),
  });
  const sinks = new SinkStore();
  const subscriptionDeps = { subscriptions, verifier, cloud, publicUrl: publicUrl(config) };
  subscriptionRoutes(app, 'v1.0', subscriptionDeps);
  subscriptionRoutes(app, 'beta', subscriptionDeps);
  sinkRoutes(app, { sinks, clock, authMode: config.auth, adminKey: config.adminKey });
  deliveriesRoutes(app, { log: pipeline.log, authMode: config.auth, adminKey: config.adminKey });
  installStoreMetrics(registry, { log: pipeline.log, store, dataDir: store.kind === 'sqlite' ? config.dataDir : null });
  return { subscriptions, sinks };
}

function registerAdminRoutes(
  { config, store, clock, cloud, issuer, oidc, app }: Core, directory: Directory, pipeline: Pipeline, state: StateService,
): void {
  const exposed = devOnNetworkWarning(config);
  adminRoutes(app, {
    store, directory, clock, issuer, authMode: config.auth, cloud: config.cloud, version: VERSION,
    adminKey: config.adminKey, authReadiness: oidc?.readiness ?? null, warnings: exposed === null ? [] : [exposed],
    ...(oidc ? { oidc: { issuers: oidc.issuers, audiences: oidc.audiences, tenants: config.tenants } } : {}),
    audience: cloud.graphRoot, defaultTenantId: DEMO_TENANT_ID, defaultAppId: DEV_APP_ID, publicUrl: publicUrl(config),
    settle: pipeline.settle,
    revokeAppAccess: (tenantId, appId) => pipeline.lifecycle.revokeApp(tenantId, appId),
    state,
  });
}

/** The dashboard (src/dashboard/): its timeline and stream follow the bus, the deliveries log and the manual clock. */
function dashboardOf(core: Core, clocks: Clocks, presence: PresenceService, pipeline: Pipeline, sinks: SinkStore, opts: BuildOptions): Dashboard {
  const { config, store, clock, app, events } = core;
  return installDashboard(app, {
    store, presence, clock, events, authMode: config.auth, adminKey: config.adminKey, version: VERSION, defaultTenantId: DEMO_TENANT_ID,
    log: pipeline.log, sinks, manualClock: clocks.manual, onError: (err) => app.log.error({ err }, 'dashboard failed'),
    // Above every position of an earlier run of this node, so an app's cursor from before a restart asks for a resync.
    firstStreamId: Date.now() * 1000, ...(opts.uiDir ? { uiDir: opts.uiDir } : {}),
  });
}

/** The dev authority (src/authority/): with `--auth dev` only, as the token endpoint. */
function authorityOptions({ config, store, clock, cloud, issuer }: Core): AuthorityOptions {
  return {
    store, issuer, clock, adminKey: config.adminKey, authMode: config.auth, audience: cloud.graphRoot, resources: graphAudiences(cloud),
    publicUrl: publicUrl(config), demoAppId: DEV_APP_ID, seedFile: config.seedFile,
  };
}

function assemble(
  core: Core, clocks: Clocks, presence: PresenceService, pipeline: Pipeline, routes: NotificationRoutes, dashboard: Dashboard,
): Presently {
  const { app, front, events, store, clock, issuer, oidc, tls } = core;
  const { scheduler, dispatcher, deliverer, lifecycle, log } = pipeline;
  let closed = false;
  return {
    app, front, events, store, clock, presence, scheduler, issuer, oidc, subscriptions: routes.subscriptions, sinks: routes.sinks, tls, dashboard,
    notifications: { dispatcher, deliverer, lifecycle, log },
    listen: () => listenOn(core.app, core.config, core.tls, core.webhooks.ownOrigins),
    async close() {
      if (closed) return;
      closed = true;
      await scheduler.stop();
      await lifecycle.stop();
      await dispatcher.stop();
      // Before the app closes: a POST to this server's own sink needs it to answer. Bounded by the POST timeout.
      await deliverer.stop(5000);
      await app.close();
      await clocks.manual?.close();
      await store.close();
    },
  };
}
