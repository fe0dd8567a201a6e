/**
 * Presence subscriptions (notifications.md §1, §3): the request-body rules of create and update, who may see what,
 * and the SubscriptionService the HTTP routes call. Every refusal names the property at fault.
 *
 * Presently's own choices [P]:
 * - a resource id that is not a user of the caller's tenant is `400` naming the id (Graph refuses such a
 *   subscription too; a 404 would suggest the subscription itself is missing);
 * - an `encryptionCertificate` is validated whenever it is sent, not only with `includeResourceData: true`;
 * - `expirationDateTime` must carry a zone (`Z` or an offset): an instant, not a wall-clock time;
 * - a subscription id that is not a GUID, or a subscription of another app, user or tenant, or an expired one, is
 *   `404`: callers cannot tell them apart;
 * - PATCH may change an existing `lifecycleNotificationUrl` (validated by handshake) but not add or remove one;
 * - a new expiry by PATCH, like reauthorize, clears `reauthorizationNotifiedAt`, so that the lifecycle worker warns
 *   again before the new expiry.
 */
import { randomUUID } from 'node:crypto';
import { Temporal } from 'temporal-polyfill';
import { AuthError, type Principal } from '../auth/types.ts';
import type { Clock } from '../platform/clock/clock.ts';
import { InvalidInput, NotFound } from '../platform/json/errors.ts';
import { formatUtc } from '../domain/timezones.ts';
import { isGuid, readBoolean, readObject, readString, type JsonObject } from '../platform/json/validate.ts';
import type { Store } from '../store/types.ts';
import { parseEncryptionCertificate } from '../notifications/encryption.ts';
import { HANDSHAKE_TIMEOUT_MS, handshakeError, validateEndpoint, type HandshakeResult, type PostText } from './handshake.ts';
import type { Subscription } from '../domain/subscription.ts';
import { checkWebhookUrl, type UrlPolicy } from './urlPolicy.ts';
import type { Emitter } from '../platform/events.ts';
import type { SubscriptionEvents } from './events.ts';

export const MAX_RESOURCE_IDS = 650;
export const MAX_CLIENT_STATE = 128;
export const MAX_CERTIFICATE_ID = 128;
/** Graph's presence subscriptions: at most an hour; an expiry sooner than 45 minutes is raised to 45 minutes. */
export const MAX_LIFETIME_MS = 60 * 60_000;
export const MIN_LIFETIME_MS = 45 * 60_000;
export const TLS_VERSIONS = ['v1_0', 'v1_1', 'v1_2', 'v1_3'] as const;
export const DEFAULT_TLS_VERSION = 'v1_2';
export const NOTIFICATION_CONTENT_TYPE = 'application/json';
export const PRESENCE_READ_ALL = 'Presence.Read.All';

/** Every property of Graph's subscription type. */
const SUBSCRIPTION_PROPERTIES = [
  'id', 'resource', 'applicationId', 'changeType', 'clientState', 'notificationUrl', 'notificationQueryOptions',
  'lifecycleNotificationUrl', 'expirationDateTime', 'creatorId', 'includeResourceData', 'latestSupportedTlsVersion',
  'encryptionCertificate', 'encryptionCertificateId', 'notificationUrlAppId', 'notificationContentType',
] as const;
const READ_ONLY = ['id', 'applicationId', 'creatorId'];
/** Graph properties presence subscriptions do not support; accepted only when null. */
const UNSUPPORTED = ['notificationQueryOptions', 'notificationUrlAppId'];
const UPDATABLE = ['expirationDateTime', 'notificationUrl', 'lifecycleNotificationUrl'];

// ---- Request bodies ----

/** What a valid create body asks for: the subscription's client-given fields. */
export type CreateInput = Pick<Subscription,
  'changeType' | 'resource' | 'userIds' | 'notificationUrl' | 'lifecycleNotificationUrl' | 'expiresAt' | 'clientState'
  | 'includeResourceData' | 'encryptionCertificate' | 'encryptionCertificateId' | 'latestSupportedTlsVersion'>;

export interface UpdateInput {
  expiresAt?: number;
  notificationUrl?: string;
  lifecycleNotificationUrl?: string;
}

const RESOURCE_FORMS = "'/communications/presences/{id}' or \"/communications/presences?$filter=id in ('{id}','{id}')\"";

function badResource(raw: string, why?: string): InvalidInput {
  return new InvalidInput(
    `Property 'resource' must be ${RESOURCE_FORMS}${why ? `: ${why}` : ''}; got '${raw.slice(0, 200)}'.`,
    'resource',
  );
}

/**
 * The users a resource watches, lower-case and without duplicates, in request order. Accepts, case-insensitively
 * and with a leading slash optional, `communications/presences/{id}` and
 * `communications/presences?$filter=id in ('{id}', …)` (1 to 650 single-quoted GUIDs; spaces around tokens are
 * ignored; the query may be percent-encoded).
 */
export function parseResource(raw: string): string[] {
  let text = raw.trim();
  if (text.startsWith('/')) text = text.slice(1);
  const q = text.indexOf('?');
  const path = q === -1 ? text : text.slice(0, q);
  let query = q === -1 ? null : text.slice(q + 1);
  const segments = path.split('/');
  if (segments.length < 2 || segments[0]!.toLowerCase() !== 'communications' || segments[1]!.toLowerCase() !== 'presences') {
    throw badResource(raw, 'presence subscriptions watch communications/presences');
  }
  if (segments.length === 3) {
    if (query !== null) throw badResource(raw, 'a single presence takes no query options');
    return [guidOf(segments[2]!.trim(), raw)];
  }
  if (segments.length !== 2) throw badResource(raw);
  if (query === null || query.trim() === '') throw badResource(raw, 'name the users with $filter=id in (…)');

  if (query.includes('%')) {
    try {
      query = decodeURIComponent(query);
    } catch {
      throw badResource(raw, 'its query has an invalid percent-encoded sequence');
    }
  }
  const eq = query.indexOf('=');
  const option = (eq === -1 ? query : query.slice(0, eq)).trim();
  if (option.toLowerCase() !== '$filter') {
    throw badResource(raw, `'${option.slice(0, 40)}' is not supported; only $filter is`);
  }
  // '+' is a form-encoded space; no valid filter contains one.
  const expr = query.slice(eq + 1).replace(/\+/g, ' ');
  const m = /^\s*id\s+in\s*\((.*)\)\s*$/is.exec(expr);
  if (!m) throw badResource(raw, "the filter must be id in ('{id}', …)");
  const items = m[1]!.split(',').map((s) => s.trim());
  if (items.length === 1 && items[0] === '') throw badResource(raw, 'the id list is empty');
  if (items.length > MAX_RESOURCE_IDS) {
    throw new InvalidInput(`Property 'resource' names ${items.length} ids; the limit is ${MAX_RESOURCE_IDS}.`, 'resource');
  }
  const seen = new Set<string>();
  const ids: string[] = [];
  for (const item of items) {
    const quoted = /^'([^']*)'$/.exec(item);
    if (!quoted) {
      throw badResource(raw, /^"[^"]*"$/.test(item)
        ? `ids are quoted with single quotes, not double quotes (${item.slice(0, 60)})`
        : `each id is a GUID in single quotes (${item.slice(0, 60) || 'an empty item'})`);
    }
    const id = guidOf(quoted[1]!.trim(), raw);
    if (!seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  }
  return ids;
}

function guidOf(value: string, raw: string): string {
  if (!isGuid(value)) {
    throw new InvalidInput(
      `Property 'resource' names '${value.slice(0, 64)}', which is not a user id (a GUID); got '${raw.slice(0, 200)}'.`,
      'resource',
    );
  }
  return value.toLowerCase();
}

/**
 * `expirationDateTime`: an ISO 8601 instant. In the past (or now) or more than 60 minutes ahead is a 400; less than
 * 45 minutes ahead is raised to 45 minutes. Returns epoch ms.
 */
export function parseExpiration(value: string, now: number): number {
  let at: number;
  try {
    at = Temporal.Instant.from(value.trim()).epochMilliseconds;
  } catch {
    throw new InvalidInput(
      `Property 'expirationDateTime' must be an ISO 8601 date and time with a zone, such as 2026-11-28T08:00:00.0000000Z; got '${value.slice(0, 64)}'.`,
      'expirationDateTime',
    );
  }
  if (at <= now) {
    throw new InvalidInput(
      `Property 'expirationDateTime' (${value.slice(0, 64)}) is not in the future: a subscription must expire within the next 60 minutes.`,
      'expirationDateTime',
    );
  }
  if (at - now > MAX_LIFETIME_MS) {
    throw new InvalidInput(
      `Subscription expiration can only be 60 minutes in the future: property 'expirationDateTime' (${value.slice(0, 64)}) is later than that.`,
      'expirationDateTime',
    );
  }
  return Math.max(at, now + MIN_LIFETIME_MS);
}

/** The body as an object whose keys are all properties of Graph's subscription type (or `@` annotations). */
function readBody(body: unknown): JsonObject {
  // readObject refuses non-objects; unknown keys get the subscription type's name below.
  const obj = readObject(body, '', isObject(body) ? Object.keys(body) : []);
  for (const key of Object.keys(obj)) {
    if (key.includes('@') || (SUBSCRIPTION_PROPERTIES as readonly string[]).includes(key)) continue;
    throw new InvalidInput(
      `The property '${key.slice(0, 100)}' does not exist on type 'microsoft.graph.subscription'. Make sure to only use property names that are defined by the type.`,
      key,
    );
  }
  return obj;
}

function isObject(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function rejectImmutable(obj: JsonObject, allowed: readonly string[], verb: string): void {
  for (const key of Object.keys(obj)) {
    if (key.includes('@') || allowed.includes(key)) continue;
    if (READ_ONLY.includes(key)) throw new InvalidInput(`Property '${key}' is read-only: it is set by the server.`, key);
    if (UNSUPPORTED.includes(key)) {
      if (obj[key] === null) continue;
      throw new InvalidInput(`Property '${key}' is not supported for presence subscriptions.`, key);
    }
    throw new InvalidInput(`Property '${key}' cannot be ${verb}; only ${UPDATABLE.slice(0, 2).join(' and ')} can be changed.`, key);
  }
}

function readUrl(obj: JsonObject, key: string, required: boolean): string | null {
  const value = readString(obj, key, '', { required });
  if (value === undefined || value === null) return null;
  if (value.trim() === '') throw new InvalidInput(`Property '${key}' must not be empty.`, key);
  return value.trim();
}

function readLimited(obj: JsonObject, key: string, max: number): string | null {
  const value = readString(obj, key, '');
  if (value === undefined || value === null) return null;
  if (value.length > max) throw new InvalidInput(`Property '${key}' is ${value.length} characters long; the limit is ${max}.`, key);
  return value;
}

/** The body of `POST /subscriptions`. */
export function parseCreate(body: unknown, now: number): CreateInput {
  const obj = readBody(body);
  rejectImmutable(obj, SUBSCRIPTION_PROPERTIES.filter((k) => !READ_ONLY.includes(k) && !UNSUPPORTED.includes(k)), 'set');

  const changeType = readString(obj, 'changeType', '', { required: true });
  if (changeType.trim().toLowerCase() !== 'updated') {
    throw new InvalidInput(`Property 'changeType' must be 'updated' for presence subscriptions, not '${changeType.slice(0, 64)}'.`, 'changeType');
  }

  const notificationUrl = readUrl(obj, 'notificationUrl', true)!;
  const lifecycleNotificationUrl = readUrl(obj, 'lifecycleNotificationUrl', false);

  const resource = readString(obj, 'resource', '', { required: true });
  const userIds = parseResource(resource);

  const expiresAt = parseExpiration(readString(obj, 'expirationDateTime', '', { required: true }), now);
  const clientState = readLimited(obj, 'clientState', MAX_CLIENT_STATE);

  const includeResourceData = readBoolean(obj, 'includeResourceData', '') ?? false;
  const encryptionCertificate = readString(obj, 'encryptionCertificate', '') ?? null;
  const encryptionCertificateId = readLimited(obj, 'encryptionCertificateId', MAX_CERTIFICATE_ID);
  if (includeResourceData) {
    if (encryptionCertificate === null || encryptionCertificate.trim() === '') {
      throw new InvalidInput("Property 'encryptionCertificate' is required when 'includeResourceData' is true.", 'encryptionCertificate');
    }
    if (encryptionCertificateId === null || encryptionCertificateId === '') {
      throw new InvalidInput("Property 'encryptionCertificateId' is required when 'includeResourceData' is true.", 'encryptionCertificateId');
    }
  }
  if (encryptionCertificate !== null) parseEncryptionCertificate(encryptionCertificate, now, 'encryptionCertificate');

  const tls = readString(obj, 'latestSupportedTlsVersion', '');
  const latestSupportedTlsVersion = tls === undefined || tls === null
    ? DEFAULT_TLS_VERSION
    : readEnumExact(tls, TLS_VERSIONS, 'latestSupportedTlsVersion');

  const contentType = readString(obj, 'notificationContentType', '');
  if (contentType !== undefined && contentType !== null && contentType.trim().toLowerCase() !== NOTIFICATION_CONTENT_TYPE) {
    throw new InvalidInput(
      `Property 'notificationContentType' must be '${NOTIFICATION_CONTENT_TYPE}', not '${contentType.slice(0, 64)}'.`,
      'notificationContentType',
    );
  }

  return {
    changeType: 'updated',
    resource,
    userIds,
    notificationUrl,
    lifecycleNotificationUrl,
    expiresAt,
    clientState,
    includeResourceData,
    encryptionCertificate,
    encryptionCertificateId,
    latestSupportedTlsVersion,
  };
}

function readEnumExact<T extends string>(value: string, values: readonly T[], name: string): T {
  const found = values.find((v) => v.toLowerCase() === value.trim().toLowerCase());
  if (!found) throw new InvalidInput(`Property '${name}' has an invalid value '${value.slice(0, 64)}'. Allowed values: ${values.join(', ')}.`, name);
  return found;
}

/** The body of `PATCH /subscriptions/{id}`. */
export function parseUpdate(body: unknown, now: number, current: Subscription): UpdateInput {
  const obj = readBody(body ?? {});
  rejectImmutable(obj, UPDATABLE, 'changed');
  const out: UpdateInput = {};
  if (obj.expirationDateTime !== undefined) {
    out.expiresAt = parseExpiration(readString(obj, 'expirationDateTime', '', { required: true }), now);
  }
  if (obj.notificationUrl !== undefined) out.notificationUrl = readUrl(obj, 'notificationUrl', true)!;
  if (obj.lifecycleNotificationUrl !== undefined) {
    if (current.lifecycleNotificationUrl === null) {
      throw new InvalidInput(
        "Property 'lifecycleNotificationUrl' can only be added when a subscription is created; create a new subscription to receive lifecycle notifications.",
        'lifecycleNotificationUrl',
      );
    }
    const url = obj.lifecycleNotificationUrl === null ? null : readUrl(obj, 'lifecycleNotificationUrl', false);
    if (url === null) {
      throw new InvalidInput("Property 'lifecycleNotificationUrl' cannot be removed from a subscription.", 'lifecycleNotificationUrl');
    }
    out.lifecycleNotificationUrl = url;
  }
  return out;
}

// ---- Who may do what ----

/** A delegated caller with Presence.Read.All; application tokens are 403 (Graph has no app-only presence subscriptions). */
export function authorizeSubscriptions(p: Principal): Principal & { userId: string } {
  if (p.kind !== 'delegated' || p.userId === null) {
    throw new AuthError(403, 'Forbidden',
      `Presence subscriptions require delegated permissions: application permissions are not supported for presence change notifications. Use a delegated token with ${PRESENCE_READ_ALL}.`);
  }
  const wanted = PRESENCE_READ_ALL.toLowerCase();
  if (![...p.scopes].some((s) => s.toLowerCase() === wanted)) {
    throw new AuthError(403, 'Forbidden', `Insufficient privileges to complete the operation. Requires one of: ${PRESENCE_READ_ALL}.`);
  }
  return p as Principal & { userId: string };
}

// ---- The service ----

export interface SubscriptionServiceOptions {
  store: Store;
  clock: Clock;
  policy: UrlPolicy;
  /** How long a validation endpoint has to answer (Graph: 10 s). */
  handshakeTimeoutMs?: number;
  /** The HTTP call of the handshake; defaults to webhookClient.postText. */
  post?: PostText;
  newId?: () => string;
  /** Told of every subscription created, changed or deleted (the lifecycle loop looks again). */
  events?: Emitter<SubscriptionEvents>;
  /** Told about each failed handshake (the client only sees Graph's fixed message). */
  onHandshakeFailure?: (info: { property: string; url: string; result: Extract<HandshakeResult, { ok: false }> }) => void;
}

export class SubscriptionService {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly timeoutMs: number;

  constructor(private readonly opts: SubscriptionServiceOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.timeoutMs = opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  }

  async create(principal: Principal, body: unknown): Promise<Subscription> {
    const caller = authorizeSubscriptions(principal);
    const now = this.clock.now();
    const input = parseCreate(body, now);
    await this.ensureUsers(caller.tenantId, input.userIds);
    await checkWebhookUrl(input.notificationUrl, 'notificationUrl', this.opts.policy);
    if (input.lifecycleNotificationUrl !== null) {
      await checkWebhookUrl(input.lifecycleNotificationUrl, 'lifecycleNotificationUrl', this.opts.policy);
    }
    await this.handshake(input.notificationUrl, 'notificationUrl');
    if (input.lifecycleNotificationUrl !== null) await this.handshake(input.lifecycleNotificationUrl, 'lifecycleNotificationUrl');

    const subscription: Subscription = {
      id: (this.opts.newId ?? randomUUID)().toLowerCase(),
      tenantId: caller.tenantId,
      applicationId: caller.appId,
      creatorId: caller.userId,
      changeType: input.changeType,
      resource: input.resource,
      userIds: input.userIds,
      notificationUrl: input.notificationUrl,
      lifecycleNotificationUrl: input.lifecycleNotificationUrl,
      expiresAt: input.expiresAt,
      clientState: input.clientState,
      includeResourceData: input.includeResourceData,
      encryptionCertificate: input.encryptionCertificate,
      encryptionCertificateId: input.encryptionCertificateId,
      latestSupportedTlsVersion: input.latestSupportedTlsVersion,
      reauthorizationNotifiedAt: null,
      createdAt: now,
    };
    await this.store.putSubscription(subscription);
    this.changed('created', subscription);
    return subscription;
  }

  async get(principal: Principal, id: string): Promise<Subscription> {
    return this.visible(authorizeSubscriptions(principal), id);
  }

  /** The caller's app's subscriptions created by the caller, oldest first; expired ones are left out. */
  async list(principal: Principal): Promise<Subscription[]> {
    const caller = authorizeSubscriptions(principal);
    const now = this.clock.now();
    const all = await this.store.listSubscriptions({ tenantId: caller.tenantId, applicationId: caller.appId, creatorId: caller.userId });
    return all.filter((s) => s.expiresAt > now).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async update(principal: Principal, id: string, body: unknown): Promise<Subscription> {
    const caller = authorizeSubscriptions(principal);
    const current = await this.visible(caller, id);
    const input = parseUpdate(body, this.clock.now(), current);
    const newUrl = input.notificationUrl !== undefined && input.notificationUrl !== current.notificationUrl ? input.notificationUrl : null;
    const newLifecycle = input.lifecycleNotificationUrl !== undefined && input.lifecycleNotificationUrl !== current.lifecycleNotificationUrl
      ? input.lifecycleNotificationUrl : null;
    if (newUrl !== null) await checkWebhookUrl(newUrl, 'notificationUrl', this.opts.policy);
    if (newLifecycle !== null) await checkWebhookUrl(newLifecycle, 'lifecycleNotificationUrl', this.opts.policy);
    if (newUrl !== null) await this.handshake(newUrl, 'notificationUrl');
    if (newLifecycle !== null) await this.handshake(newLifecycle, 'lifecycleNotificationUrl');

    // Read again: the handshake took time, and the subscription may have been deleted or changed meanwhile.
    const latest = await this.visible(caller, id);
    const updated: Subscription = {
      ...latest,
      ...(newUrl !== null ? { notificationUrl: newUrl } : {}),
      ...(newLifecycle !== null ? { lifecycleNotificationUrl: newLifecycle } : {}),
      ...(input.expiresAt !== undefined ? { expiresAt: input.expiresAt, reauthorizationNotifiedAt: null } : {}),
    };
    await this.store.putSubscription(updated);
    this.changed('updated', updated);
    return updated;
  }

  async delete(principal: Principal, id: string): Promise<void> {
    const sub = await this.visible(authorizeSubscriptions(principal), id);
    if (!(await this.store.deleteSubscription(sub.id))) throw notFound(id);
    this.changed('deleted', sub);
  }

  /** Clears `reauthorizationNotifiedAt`: the app has confirmed it still has access. */
  async reauthorize(principal: Principal, id: string): Promise<void> {
    const sub = await this.visible(authorizeSubscriptions(principal), id);
    if (sub.reauthorizationNotifiedAt !== null) await this.store.putSubscription({ ...sub, reauthorizationNotifiedAt: null });
    this.changed('reauthorized', sub);
  }

  private changed(change: SubscriptionEvents['subscriptionChanged']['change'], sub: Subscription): void {
    this.opts.events?.emit('subscriptionChanged', { change, tenantId: sub.tenantId, subscriptionId: sub.id });
  }

  /** The subscription if the caller may see it: same tenant, app and creator, and not expired. Else NotFound. */
  private async visible(caller: Principal & { userId: string }, id: string): Promise<Subscription> {
    const sub = isGuid(id) ? await this.store.getSubscription(id.toLowerCase()) : null;
    if (
      !sub || sub.tenantId !== caller.tenantId || sub.applicationId !== caller.appId || sub.creatorId !== caller.userId ||
      sub.expiresAt <= this.clock.now()
    ) {
      throw notFound(id);
    }
    return sub;
  }

  private async ensureUsers(tenantId: string, userIds: string[]): Promise<void> {
    const found = await this.store.getSnapshots(tenantId, userIds);
    const missing = userIds.filter((id) => !found.has(id));
    if (missing.length === 0) return;
    const more = missing.length > 1 ? ` (and ${missing.length - 1} more)` : '';
    throw new InvalidInput(
      `Property 'resource' names '${missing[0]}'${more}, which is not a user of the caller's tenant: a subscription can only watch users of its own tenant.`,
      'resource',
    );
  }

  private async handshake(url: string, property: 'notificationUrl' | 'lifecycleNotificationUrl'): Promise<void> {
    const result = await validateEndpoint(url, { timeoutMs: this.timeoutMs, ...(this.opts.post ? { post: this.opts.post } : {}) });
    if (result.ok) return;
    this.opts.onHandshakeFailure?.({ property, url, result });
    throw handshakeError(result, property);
  }
}

function notFound(id: string): NotFound {
  return new NotFound(`The subscription '${id.slice(0, 64)}' was not found.`);
}

// ---- The JSON Graph answers ----

/** Graph's subscription entity (property order as Graph writes it). `clientState` is null in lists. */
export function subscriptionJson(s: Subscription, opts: { hideClientState?: boolean } = {}): Record<string, unknown> {
  return {
    id: s.id,
    resource: s.resource,
    applicationId: s.applicationId,
    changeType: s.changeType,
    clientState: opts.hideClientState ? null : s.clientState,
    notificationUrl: s.notificationUrl,
    notificationQueryOptions: null,
    lifecycleNotificationUrl: s.lifecycleNotificationUrl,
    expirationDateTime: formatUtc(s.expiresAt),
    creatorId: s.creatorId,
    includeResourceData: s.includeResourceData,
    latestSupportedTlsVersion: s.latestSupportedTlsVersion,
    encryptionCertificate: s.encryptionCertificate,
    encryptionCertificateId: s.encryptionCertificateId,
    notificationUrlAppId: null,
    notificationContentType: NOTIFICATION_CONTENT_TYPE,
  };
}

