/**
 * Presence subscriptions as use cases (docs/notifications/subscriptions.md, docs/notifications/url-policy.md): create (after the URL policy and the validation
 * handshake), read, list, renew or move (PATCH), delete and reauthorize. The request rules are in ./requests.ts,
 * who may subscribe in src/auth/permissions.ts, and the JSON Graph answers in ./wire.ts.
 *
 * Presently's own choices [P]:
 * - a resource id that is not a user of the caller's tenant is `400` naming the id (Graph refuses such a
 *   subscription too; a 404 would suggest the subscription itself is missing);
 * - a subscription id that is not a GUID, or a subscription of another app, user or tenant, or an expired one, is
 *   `404`: callers cannot tell them apart;
 * - a new expiry by PATCH, like reauthorize, clears `reauthorizationNotifiedAt`, so that the lifecycle worker warns
 *   again before the new expiry;
 * - a create over a cap (subscriptions per application per tenant, per tenant) is `403` naming the cap, checked
 *   before any handshake [P: d-subscription-caps];
 * - the list comes in pages of ./paging.ts, oldest first [P: d-subscription-pages];
 * - a user has at most one live presence subscription per application, whatever users it watches (Graph's rule);
 *   a second create is `403` naming the one that exists, checked before the handshakes and again just before the
 *   write [P: d-one-presence-subscription].
 */
import { randomUUID } from 'node:crypto';
import { authorizeSubscriptions } from '../auth/permissions.ts';
import type { Principal } from '../auth/types.ts';
import type { Subscription } from '../domain/subscription.ts';
import type { Clock } from '../platform/clock/clock.ts';
import { InvalidInput, NotFound } from '../platform/json/errors.ts';
import { isGuid } from '../platform/json/validate.ts';
import type { SubscriptionCursor } from '../store/ports/subscriptions.ts';
import type { Store } from '../store/types.ts';
import { formatUtc } from '../domain/timezones.ts';
import { GraphError } from '../http/errors.ts';
import { HANDSHAKE_TIMEOUT_MS, handshakeError, validateEndpoint, type HandshakeResult, type PostText } from './handshake.ts';
import { decodeSkipToken, nextPage, SUBSCRIPTION_PAGE_SIZE, type SubscriptionPage } from './paging.ts';
import { parseCreate, parseUpdate } from './requests.ts';
import { checkWebhookUrl, type UrlPolicy } from './urlPolicy.ts';
import type { Emitter } from '../platform/events.ts';
import type { SubscriptionEvents } from './events.ts';

export interface SubscriptionServiceOptions {
  store: Store;
  clock: Clock;
  policy: UrlPolicy;
  /** How long a validation endpoint has to answer (Graph: 10 s). */
  handshakeTimeoutMs?: number;
  /** The HTTP call of the handshake; defaults to webhookClient.postText. */
  post?: PostText;
  newId?: () => string;
  /** The caps on live subscriptions; default DEFAULT_SUBSCRIPTION_LIMITS. */
  limits?: SubscriptionLimits;
  /** Told of every subscription created, changed or deleted (the lifecycle loop looks again). */
  events?: Emitter<SubscriptionEvents>;
  /**
   * Which of these users exist in the tenant (any map keyed by user id); defaults to the store's snapshots. The
   * composition root passes the presence service's cached reads: a subscription of 650 users then costs no 650-row
   * read and decode.
   */
  knownUsers?: (tenantId: string, userIds: readonly string[]) => Promise<ReadonlyMap<string, unknown>>;
  /** Told about each failed handshake (the client only sees Graph's fixed message). */
  onHandshakeFailure?: (info: { property: string; url: string; result: Extract<HandshakeResult, { ok: false }> }) => void;
}

/**
 * How many live subscriptions one user may create with one application [P: d-one-presence-subscription], how many
 * one application may have in a tenant, and a tenant in all [P: d-subscription-caps].
 */
export interface SubscriptionLimits {
  perUser: number;
  perApp: number;
  perTenant: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = { perUser: 1, perApp: 1_000, perTenant: 10_000 };

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
    await this.ensureUserRoom(caller);
    await this.ensureRoom(caller.tenantId, caller.appId);
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
    // Again: another create by the same user and app may have passed its handshakes meanwhile.
    await this.ensureUserRoom(caller);
    await this.store.putSubscription(subscription);
    this.changed('created', subscription);
    return subscription;
  }

  async get(principal: Principal, id: string): Promise<Subscription> {
    return this.visible(authorizeSubscriptions(principal), id);
  }

  /**
   * One page of the caller's app's subscriptions created by the caller, oldest first, from the start or from a
   * `$skiptoken` of an earlier page; expired ones are left out.
   */
  async list(principal: Principal, skipToken?: string): Promise<SubscriptionPage> {
    const caller = authorizeSubscriptions(principal);
    const after = skipToken === undefined ? null : decodeSkipToken(skipToken);
    const owner = { tenantId: caller.tenantId, applicationId: caller.appId, creatorId: caller.userId };
    // One more than a page: whether there is a next one.
    const read = await this.store.listSubscriptionPage(owner, after, SUBSCRIPTION_PAGE_SIZE + 1);
    return nextPage(read, SUBSCRIPTION_PAGE_SIZE, this.clock.now());
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
    const reauthorized = { ...sub, reauthorizationNotifiedAt: null };
    if (sub.reauthorizationNotifiedAt !== null) await this.store.putSubscription(reauthorized);
    this.changed('reauthorized', reauthorized);
  }

  private changed(change: SubscriptionEvents['subscriptionChanged']['change'], sub: Subscription): void {
    this.opts.events?.emit('subscriptionChanged', { change, tenantId: sub.tenantId, subscriptionId: sub.id, subscription: sub });
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
    const found = await (this.opts.knownUsers ?? ((t, ids) => this.store.getSnapshots(t, ids)))(tenantId, userIds);
    const missing = userIds.filter((id) => !found.has(id));
    if (missing.length === 0) return;
    const more = missing.length > 1 ? ` (and ${missing.length - 1} more)` : '';
    throw new InvalidInput(
      `Property 'resource' names '${missing[0]}'${more}, which is not a user of the caller's tenant: a subscription can only watch users of its own tenant.`,
      'resource',
    );
  }

  /**
   * Refuses a create when the caller already has as many live subscriptions of this application as allowed — one:
   * Graph's "a single user can create one presence subscription per unique application"
   * [P: d-one-presence-subscription].
   */
  private async ensureUserRoom(caller: Principal & { userId: string }): Promise<void> {
    const { perUser } = this.opts.limits ?? DEFAULT_SUBSCRIPTION_LIMITS;
    const owner = { tenantId: caller.tenantId, applicationId: caller.appId, creatorId: caller.userId };
    const now = this.clock.now();
    if (perUser > 1) {
      // A raised cap: counted in the store, without reading the subscriptions (each carries up to 650 user ids).
      const live = await this.store.countLiveSubscriptions(owner, now, perUser);
      if (live >= perUser) throw tooManyForUser(null, perUser);
      return;
    }
    // The cap of one: the 403 names the live subscription. Oldest first, one at a time (each carries its user list);
    // expired ones the lifecycle has not removed yet do not count.
    let after: SubscriptionCursor | null = null;
    for (;;) {
      const [sub] = await this.store.listSubscriptionPage(owner, after, 1);
      if (!sub) return;
      if (sub.expiresAt > now) throw tooManyForUser(sub, perUser);
      after = { createdAt: sub.createdAt, id: sub.id };
    }
  }

  /** Refuses a create over a cap, before any handshake: a full tenant costs no outbound call. */
  private async ensureRoom(tenantId: string, applicationId: string): Promise<void> {
    const limits = this.opts.limits ?? DEFAULT_SUBSCRIPTION_LIMITS;
    const [ofApp, ofTenant] = await Promise.all([
      this.store.countSubscriptions({ tenantId, applicationId }),
      this.store.countSubscriptions({ tenantId }),
    ]);
    if (ofApp >= limits.perApp) throw capReached(`${limits.perApp} subscriptions per application in a tenant`, ofApp);
    if (ofTenant >= limits.perTenant) throw capReached(`${limits.perTenant} subscriptions per tenant, all applications together`, ofTenant);
  }

  private async handshake(url: string, property: 'notificationUrl' | 'lifecycleNotificationUrl'): Promise<void> {
    const result = await validateEndpoint(url, { timeoutMs: this.timeoutMs, ...(this.opts.post ? { post: this.opts.post } : {}) });
    if (result.ok) return;
    this.opts.onHandshakeFailure?.({ property, url, result });
    throw handshakeError(result, property);
  }
}

/**
 * Graph answers a subscription over one of its caps with 403 whose message says which cap; the shape is the one its
 * subscription service gives such refusals [P: d-subscription-caps].
 */
function capReached(cap: string, count: number): GraphError {
  return new GraphError(403, 'ExtensionError',
    `Operation: Create; Exception: [Status Code: Forbidden; Reason: Maximum number of subscriptions has been reached: the limit is ${cap}, `
    + `and ${count} exist. Delete subscriptions that are no longer needed, or let them expire.]`);
}

/** One presence subscription too many for one user and application [P: d-one-presence-subscription]. */
function tooManyForUser(existing: Subscription | null, perUser: number): GraphError {
  const rule = existing !== null && perUser === 1
    ? `A user can create only one presence subscription per application, and subscription '${existing.id}' of this user and application exists until ${formatUtc(existing.expiresAt)}.`
    : `A user can create only ${perUser} presence subscriptions per application, and ${perUser} exist.`;
  const it = perUser === 1 ? 'it' : 'one';
  return new GraphError(403, 'ExtensionError', `Operation: Create; Exception: [Status Code: Forbidden; Reason: ${rule} `
    + `Renew ${it} with PATCH, or delete ${it} before creating another; one subscription can watch up to 650 users.]`);
}

function notFound(id: string): NotFound {
  return new NotFound(`The subscription '${id.slice(0, 64)}' was not found.`);
}
