/**
 * The background loops of the due index and of notification delivery, built together (docs/notifications/delivery.md):
 * committed changes → dispatcher → deliveries → deliverer → POSTs; the lifecycle loop expires subscriptions and
 * sends reauthorizationRequired; the due loop makes timed transitions. The composition root (src/server.ts) builds
 * it once and says which events wake which loop.
 */
import type { FastifyInstance } from 'fastify';
import type { Front } from '../http/front.ts';
import type { DevIssuer } from '../auth/devIssuer.ts';
import type { Cloud } from '../config/clouds.ts';
import type { Config } from '../config/config.ts';
import type { Clock } from '../platform/clock/clock.ts';
import type { Emitter } from '../platform/events.ts';
import { Pacer } from '../platform/loops/pacer.ts';
import { SHARED_STORE_POLL_MS, Scheduler } from '../presence/dueLoop.ts';
import type { PresenceService } from '../presence/service.ts';
import type { Store } from '../store/types.ts';
import { Deliverer } from './deliverer.ts';
import { DeliveryLog } from './deliveryLog.ts';
import { Dispatcher } from './dispatcher.ts';
import type { NotificationEvents } from './events.ts';
import { Lifecycle } from './lifecycle.ts';
import type { WebhookClient } from './webhookClient.ts';

/** The background loops of the due index and of notification delivery, and the manual clock's settle. */
export interface Pipeline {
  scheduler: Scheduler;
  dispatcher: Dispatcher;
  lifecycle: Lifecycle;
  deliverer: Deliverer;
  log: DeliveryLog;
  /** Manual clock: everything due by the new time is transitioned, expired, dispatched and attempted, in order. */
  settle: () => Promise<void>;
}

export interface PipelineDeps {
  config: Pick<Config, 'deliveryLeaseMs' | 'webhookTimeoutMs'>;
  store: Store;
  clock: Clock;
  cloud: Cloud;
  issuer: DevIssuer;
  /** Where the pipeline's failures are logged. */
  app: FastifyInstance;
  /** Requests go ahead of the fan-out and the sends: every request is noted as it comes in at the front. */
  front: Front;
  events: Emitter<NotificationEvents>;
  /** The one webhook client's POST (src/notifications/webhookClient.ts), under the URL policy. */
  post: WebhookClient['postJson'];
}

export function buildPipeline({ config, store, clock, cloud, issuer, app, front, events, post }: PipelineDeps, presence: PresenceService): Pipeline {
  const failed = (what: string) => (err: unknown) => app.log.error({ err }, `${what} failed`);
  const solo = store.facts.soleWriter;
  const scheduler = new Scheduler(store, presence, clock, {
    // A shared store: other nodes store due instants this one hears nothing of.
    pollMs: solo ? 0 : SHARED_STORE_POLL_MS, onError: failed('scheduler'),
  });
  const log = new DeliveryLog();
  // One pace for the fan-out and the sends, which requests go ahead of.
  const pacer = new Pacer();
  front.onRequest(() => pacer.noteRequest());
  const deliverer = new Deliverer(store, clock, {
    pacer,
    log, issuer, limitedShape: cloud.limitedShape, post, queue: solo ? 'local' : 'shared', reclaimLeasesAtStart: solo,
    leaseMs: config.deliveryLeaseMs, timeoutMs: config.webhookTimeoutMs, onError: failed('notification deliverer'),
  });
  const dispatcher = new Dispatcher(store, clock, { events, pacer, dispatch: solo ? 'local' : 'shared', onError: failed('notification dispatcher') });
  const lifecycle = new Lifecycle(store, clock, { events, onError: failed('subscription lifecycle') });
  return {
    scheduler, dispatcher, lifecycle, deliverer, log,
    settle: async () => {
      await scheduler.runDue();
      await lifecycle.runDue();
      await dispatcher.run();
      await deliverer.settle();
    },
  };
}

/** Starts the loops, the scheduler's catch-up first. */
export async function startLoops({ scheduler, deliverer, lifecycle, dispatcher }: Pipeline): Promise<void> {
  await scheduler.start();
  // After the scheduler's catch-up: pending deliveries go out, expiries pass, and the outbox drains.
  await deliverer.start();
  await lifecycle.start();
  await dispatcher.start();
}
