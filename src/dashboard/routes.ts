/**
 * The dashboard's data API under `/_presently/ui/api/` (docs/operations/dashboard.md): the session (open: it says
 * whether the app must ask for the admin key), and behind the admin guard the board, a user's timeline, the
 * notifications view and the event stream [P: d-dashboard-access].
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { guardedScope, presentsAdminKey } from '../admin/guard.ts';
import type { SinkStore } from '../admin/sink.ts';
import { formatUtc } from '../domain/timezones.ts';
import { badRequest, notFound } from '../http/errors.ts';
import { resource } from '../http/wire.ts';
import type { DeliveryLog } from '../notifications/deliveryLog.ts';
import type { Clock } from '../platform/clock/clock.ts';
import type { PresenceService } from '../presence/service.ts';
import type { Store } from '../store/types.ts';
import { readBoard } from './board.ts';
import { deliveryJson, subscriptionCard } from './cards.ts';
import type { StreamHub } from './hub.ts';
import type { Names } from './names.ts';
import { entryJson, type Timeline } from './timeline.ts';

export interface DashboardRouteDeps {
  store: Store;
  presence: PresenceService;
  clock: Clock;
  authMode: string;
  /** Outside dev auth mode, the admin API's bearer key; null: the data API is off (as the admin API). */
  adminKey: string | null;
  version: string;
  defaultTenantId: string;
  log: DeliveryLog;
  sinks: SinkStore;
  timeline: Timeline;
  hub: StreamHub;
  names: Names;
}

/** Newest sink records listed per sink. */
const SINK_ITEMS = 50;

export function dashboardRoutes(app: FastifyInstance, deps: DashboardRouteDeps): void {
  resource(app, '/_presently/ui/api/session', { GET: (request: FastifyRequest) => session(deps, request) });
  guardedScope(app, deps, (scope) => {
    resource(scope, '/_presently/ui/api/board', {
      GET: async (request: FastifyRequest) => readBoard(deps, await tenantOf(deps, request)),
    });
    resource(scope, '/_presently/ui/api/timeline', { GET: (request: FastifyRequest) => timeline(deps, request) });
    resource(scope, '/_presently/ui/api/notifications', { GET: (request: FastifyRequest) => notifications(deps, request) });
    resource(scope, '/_presently/ui/api/stream', { GET: (request: FastifyRequest, reply: FastifyReply) => stream(deps, request, reply) });
  });
}

async function session(deps: DashboardRouteDeps, request: FastifyRequest) {
  const dev = deps.authMode === 'dev';
  const may = dev || (deps.adminKey !== null && presentsAdminKey(request.headers.authorization, deps.adminKey));
  return {
    authMode: deps.authMode,
    needsKey: !dev,
    // Outside dev mode without --admin-key the data API is off, whatever key the app would send.
    adminApi: dev || deps.adminKey !== null ? 'on' : 'off',
    version: deps.version,
    tenants: may ? (await deps.store.listTenants()).map((t) => ({ id: t.id, displayName: t.displayName })) : [],
    defaultTenantId: deps.defaultTenantId,
    clock: may ? { mode: deps.clock.mode, now: formatUtc(deps.clock.now()) } : null,
  };
}

async function timeline(deps: DashboardRouteDeps, request: FastifyRequest) {
  const tenantId = await tenantOf(deps, request);
  const userId = queryParam(request, 'user')?.toLowerCase();
  if (!userId) throw badRequest("Give the user whose timeline to show: '?user=<id>'.");
  if (!(await deps.store.getUser(tenantId, userId))) throw notFound(`No user '${userId.slice(0, 64)}' in tenant '${tenantId}'.`);
  return { value: deps.timeline.entries(tenantId, userId).map(entryJson) };
}

async function notifications(deps: DashboardRouteDeps, request: FastifyRequest) {
  const tenantId = await tenantOf(deps, request);
  const subscription = queryParam(request, 'subscription')?.toLowerCase();
  const user = queryParam(request, 'user')?.toLowerCase();
  const now = deps.clock.now();
  const subscriptions = (await deps.store.listSubscriptions({ tenantId }))
    .filter((s) => (subscription === undefined || s.id === subscription) && (user === undefined || s.userIds.includes(user)))
    .map((s) => subscriptionCard(s, now));
  const dev = deps.authMode === 'dev';
  const deliveries = deps.log.entries(subscription === undefined ? {} : { subscriptionId: subscription })
    .filter((e) => e.tenantIds.includes(tenantId) && (user === undefined || e.userIds.includes(user)))
    .reverse()
    .map((e) => deliveryJson(e, dev));
  const sinks = deps.sinks.summaries(SINK_ITEMS).map(({ name, count, records }) => ({
    name, count, items: records.map((r) => ({ receivedAt: r.receivedDateTime, url: r.url, headers: r.headers, body: r.body })),
  }));
  return { subscriptions, deliveries, sinks };
}

/** `text/event-stream` of the tenant's events, resumed after `Last-Event-ID` (or `?after=`) when given. */
async function stream(deps: DashboardRouteDeps, request: FastifyRequest, reply: FastifyReply) {
  const tenantId = await tenantOf(deps, request);
  const after = cursorOf(request);
  // The cards of the stream show names: list the tenant's users now, not once per change.
  await deps.names.load(tenantId);
  reply.hijack();
  const headers: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
  Object.assign(headers, {
    'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no',
  });
  // HTTP/1.1: the connection ends with the stream, so closing the server never waits on a kept-alive socket. HTTP/2:
  // when the server ends the stream it also closes the session (in-flight requests on it finish), which would
  // otherwise keep the server open until its idle timeout.
  if (request.raw.httpVersionMajor === 1) headers.connection = 'close';
  reply.raw.writeHead(200, headers);
  const { closed } = deps.hub.connect(reply.raw, tenantId, after);
  reply.raw.on('close', closed);
}

/** The stream position to resume after: `Last-Event-ID` (what a reconnecting client sends), else `?after=`. */
function cursorOf(request: FastifyRequest): number | null {
  const header = request.headers['last-event-id'];
  const raw = typeof header === 'string' && header.trim() !== '' ? header.trim() : queryParam(request, 'after');
  if (raw === undefined) return null;
  if (!/^\d{1,16}$/.test(raw)) throw badRequest(`The stream position to resume after must be a number, not '${raw.slice(0, 32)}'.`);
  return Number(raw);
}

/** `?tenant=` (the default tenant when absent), lower-cased; 404 when there is no such tenant. */
async function tenantOf(deps: DashboardRouteDeps, request: FastifyRequest): Promise<string> {
  const tenantId = (queryParam(request, 'tenant') ?? deps.defaultTenantId).toLowerCase();
  if (!(await deps.store.getTenant(tenantId))) throw notFound(`No tenant '${tenantId.slice(0, 64)}'.`);
  return tenantId;
}

function queryParam(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw badRequest(`Give '${name}' at most once.`);
  return value;
}
