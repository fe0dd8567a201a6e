/**
 * The dashboard (docs/operations/dashboard.md), installed on the app: the timeline recorder and the stream hub fed
 * from the event bus, the deliveries log and the manual clock; the static web app; the data API. The composition
 * root calls `installDashboard` once.
 *
 * Per committed change, with nobody watching, this costs one timeline entry (a few comparisons, no store read) and
 * one ring slot: the card and its JSON are made only when a stream sends them.
 */
import type { FastifyInstance } from 'fastify';
import type { DirectoryEvents } from '../directory/events.ts';
import type { NotificationEvents } from '../notifications/events.ts';
import type { ManualClock } from '../platform/clock/manual.ts';
import { formatUtc } from '../domain/timezones.ts';
import type { Subscription } from '../domain/subscription.ts';
import type { Listener } from '../platform/events.ts';
import type { PresenceEvents } from '../presence/events.ts';
import type { SubscriptionEvents } from '../subscriptions/events.ts';
import { cardOf, deliveryJson, subscriptionCard } from './cards.ts';
import { StreamHub } from './hub.ts';
import { Names } from './names.ts';
import { dashboardRoutes, type DashboardRouteDeps } from './routes.ts';
import { staticRoutes } from './static.ts';
import { Timeline, createdEntry, entryJson, entryOf } from './timeline.ts';

/** The events the dashboard follows. */
export type DashboardEvents = PresenceEvents & DirectoryEvents & SubscriptionEvents & NotificationEvents;

export interface EventSource<M> {
  on<K extends keyof M>(name: K, listener: Listener<M[K]>): () => void;
}

export interface DashboardDeps extends Omit<DashboardRouteDeps, 'timeline' | 'hub' | 'names'> {
  events: EventSource<DashboardEvents>;
  /** The manual clock, if any: each move is a `clock` event once everything due by then has happened. */
  manualClock: Pick<ManualClock, 'onSettle'> | null;
  /** The stream position of this run's first event (larger than any of an earlier run: ./hub.ts). */
  firstStreamId: number;
  /** Where the web app's files are (tests); by default dist/ui/ of the package. */
  uiDir?: string;
  onError: (err: unknown) => void;
}

export interface Dashboard {
  timeline: Timeline;
  hub: StreamHub;
}

export function installDashboard(app: FastifyInstance, deps: DashboardDeps): Dashboard {
  const timeline = new Timeline();
  const hub = new StreamHub({ firstId: deps.firstStreamId });
  const names = new Names(deps.store, deps.onError);
  followPresence(deps, timeline, hub, names);
  followSubscriptions(deps, hub);
  const dev = deps.authMode === 'dev';
  deps.log.onRecord((entry) => hub.publish('delivery', entry.tenantIds, null, () => deliveryJson(entry, dev)));
  deps.manualClock?.onSettle(async () => {
    const clock = { now: formatUtc(deps.clock.now()), mode: deps.clock.mode };
    hub.publish('clock', null, null, () => clock);
  });
  // Before the server stops accepting: open streams end, so closing never waits on them.
  app.addHook('preClose', (done) => {
    hub.close();
    done();
  });
  staticRoutes(app, deps.uiDir);
  dashboardRoutes(app, { ...deps, timeline, hub, names });
  return { timeline, hub };
}

/** Every committed change and every new user: a timeline entry and a `presence` event; a deleted user: a resync. */
function followPresence({ events, clock }: DashboardDeps, timeline: Timeline, hub: StreamHub, names: Names): void {
  events.on('presenceChanged', ({ tenantId, userId, transition, previous, cause }) => {
    const entry = entryOf(previous, transition, cause);
    timeline.record(tenantId, userId, entry);
    hub.publish('presence', tenantId, userId, () => ({
      tenantId, userId, card: cardOf(names.of(tenantId, userId), transition.record, transition.at), entry: entryJson(entry),
    }));
  });
  events.on('userCreated', ({ user, record }) => {
    names.added(user);
    const at = clock.now();
    const entry = createdEntry(record, at);
    timeline.record(user.tenantId, user.id, entry);
    hub.publish('presence', user.tenantId, user.id, () => ({
      tenantId: user.tenantId, userId: user.id, card: cardOf(user, record, at), entry: entryJson(entry),
    }));
  });
  events.on('userDeleted', ({ tenantId, userId }) => {
    timeline.forget(tenantId, userId);
    names.removed(tenantId, userId);
    // The contract has no event for a user gone: the app reads the board again (one resync for a run of deletions).
    const latest = hub.latest();
    if (latest?.type !== 'resync' || !latest.concerns(tenantId)) hub.publish('resync', tenantId, null, () => ({}));
  });
}

/** A subscription created, changed, warned or ended: a `subscription` event with its card, or `deleted`. */
function followSubscriptions({ events, store, clock, onError }: DashboardDeps, hub: StreamHub): void {
  const gone = (tenantId: string, id: string) => hub.publish('subscription', tenantId, null, () => ({ id, deleted: true }));
  // The card is made only if a stream sends the event; its state is the one at the change.
  const card = (sub: Subscription) => {
    const now = clock.now();
    hub.publish('subscription', sub.tenantId, null, () => subscriptionCard(sub, now));
  };
  const changed = async (tenantId: string, id: string) => {
    const sub = await store.getSubscription(id);
    if (sub) card(sub);
    else gone(tenantId, id);
  };
  events.on('subscriptionChanged', ({ change, tenantId, subscriptionId, subscription }) => {
    if (change === 'deleted') gone(tenantId, subscriptionId);
    else card(subscription);
  });
  events.on('subscriptionLifecycle', ({ change, tenantId, subscriptionId }) => {
    if (change === 'reauthorizationRequired') changed(tenantId, subscriptionId).catch(onError);
    else gone(tenantId, subscriptionId);
  });
}
