/**
 * Subscription lifecycle (docs/notifications/lifecycle.md): a due-loop over the subscriptions' expiry instants, like the
 * presence scheduler's.
 *
 * - At `expiresAt` a subscription is deleted (with its pending deliveries): it delivers nothing more, and reads
 *   answer 404.
 * - 10 minutes before `expiresAt`, a subscription with a `lifecycleNotificationUrl` gets one `reauthorizationRequired`
 *   item there [P: d-reauthorization-notice]; `reauthorizationNotifiedAt` records it, so it is sent once per lifetime. A renewal moves
 *   `expiresAt`, which starts a new lifetime (a notification older than the new warning instant no longer counts,
 *   whether or not the renewal cleared the mark); a reauthorize alone does not (same expiry: no second notice).
 *   Several nodes sharing a store all run this loop: the notice is queued only by the one whose conditional mark
 *   (./reauthorization.ts via `Store.updateSubscription`: set only while the expiry is unchanged and no notice of this
 *   lifetime is recorded) succeeds — mark and notice in one transaction on sqlite; on redis mark first, then queue,
 *   so a node dying between the two loses that notice (it is never sent twice). Known limit: a reauthorize clears
 *   the mark without moving the expiry; the node that sent the notice remembers it (`noticed`), but another node (or
 *   this one after a restart) does not, and may send one more notice in that lifetime.
 * - When the creator's access is revoked — the creating user is deleted, or the app's access in the tenant is
 *   withdrawn (`DELETE /_presently/tenants/{tid}/apps/{appId}/access`) — each affected subscription is deleted and
 *   then, when it has a `lifecycleNotificationUrl`, a `reauthorizationRequired` item is queued for it. Graph stops
 *   delivering once access is gone and the subscription cannot be reauthorised; deleting it says so plainly
 *   (reads answer 404), and the lifecycle item outlives it in the delivery queue.
 *
 * Woken at start, at the next instant it computed (`clock.at`), by a real-time safety timer, and by the manual
 * clock's settle. A subscription created or changed through the API (the subscriptionChanged event) only moves the
 * alarm earlier when its own instant comes first (`changed`): it reads that one subscription, not every one in the
 * 10-minute window, so creating many subscriptions does not make each create dearer.
 */
import type { Clock } from '../platform/clock/clock.ts';
import type { Store } from '../store/types.ts';
import { BackgroundLoop } from '../platform/loops/backgroundLoop.ts';
import { yieldToIo } from '../platform/loops/yieldToIo.ts';
import type { NewDelivery, Subscription } from '../domain/subscription.ts';
import { markReauthorizationNotice } from './reauthorization.ts';
import type { Emitter } from '../platform/events.ts';
import type { NotificationEvents } from './events.ts';
import { lifecycleItem } from './items.ts';

/** How long before expiry `reauthorizationRequired` is sent [P: d-reauthorization-notice]. */
export const REAUTHORIZE_BEFORE_MS = 10 * 60_000;

const BATCH = 500;

/** The lifecycle delivery for a subscription, or null when it has no lifecycleNotificationUrl. */
export function lifecycleDelivery(sub: Subscription, now: number): NewDelivery | null {
  if (!sub.lifecycleNotificationUrl) return null;
  return {
    subscriptionId: sub.id,
    tenantId: sub.tenantId,
    kind: 'lifecycle',
    url: sub.lifecycleNotificationUrl,
    item: lifecycleItem(sub),
    resourceView: null,
    userId: null,
    attempt: 0,
    nextAttemptAt: now,
    createdAt: now,
  };
}

/** Whether the subscription still needs its reauthorizationRequired for the current lifetime. */
export function needsReauthorizationNotice(sub: Subscription): boolean {
  if (!sub.lifecycleNotificationUrl) return false;
  return sub.reauthorizationNotifiedAt === null || sub.reauthorizationNotifiedAt < sub.expiresAt - REAUTHORIZE_BEFORE_MS;
}

/** When the loop must next look at a subscription. */
function dueInstant(sub: Subscription): number {
  return needsReauthorizationNotice(sub) ? sub.expiresAt - REAUTHORIZE_BEFORE_MS : sub.expiresAt;
}

export interface LifecycleOptions {
  /** Told when lifecycle deliveries were enqueued (the deliverer sends them). */
  events?: Emitter<NotificationEvents>;
  onError?: (err: unknown) => void;
  /** Real-time safety net, milliseconds (0: none). */
  safetyIntervalMs?: number;
}

export class Lifecycle {
  private readonly loop: BackgroundLoop;
  /** Since start (tests, metrics). */
  expired = 0;
  warned = 0;
  revoked = 0;
  /**
   * Subscription id → the expiresAt a notice was sent for. A reauthorize clears the stored mark without moving the
   * expiry; this keeps that from sending the notice again (and again) in the same lifetime. Lost on restart: at
   * worst one more notice.
   */
  private readonly noticed = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly opts: LifecycleOptions = {},
  ) {
    this.loop = new BackgroundLoop({
      clock, pass: () => this.drain(), nextAt: () => this.nextAt(), safetyIntervalMs: opts.safetyIntervalMs ?? 30_000,
      onError: (err) => this.opts.onError?.(err),
    });
  }

  start(): Promise<void> {
    return this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Look again at everything (after a revocation). */
  wake(): void {
    if (this.loop.running) void this.runDue();
  }

  /**
   * One subscription was created, renewed, moved, reauthorised or deleted: arm for its instant if that comes before
   * what the loop waits for; a pass now if it is already due. Reads only that subscription.
   */
  async changed(subscriptionId: string): Promise<void> {
    if (!this.loop.running) return;
    const sub = await this.store.getSubscription(subscriptionId);
    // Deleted: nothing can come sooner than what the loop is armed for (an alarm with nothing due finds nothing).
    if (sub === null) return;
    const at = this.instantOf(sub);
    if (at <= this.clock.now()) await this.runDue();
    else this.loop.wakeAt(at);
  }

  /** When the loop must next look at a subscription, given what this node has already sent. */
  private instantOf(sub: Subscription): number {
    return this.noticed.get(sub.id) === sub.expiresAt ? sub.expiresAt : dueInstant(sub);
  }

  /** Resolves when the pass in progress (one an alarm started, say), if any, has finished. */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  /** Expires and warns everything due by now; resolves when done. Safe to call concurrently. */
  runDue(): Promise<void> {
    return this.loop.run();
  }

  /** The creating user's access is gone (the user was deleted). Resolves to the number of subscriptions ended. */
  async revokeCreator(tenantId: string, creatorId: string): Promise<number> {
    return this.revoke(await this.store.listSubscriptions({ tenantId, creatorId }));
  }

  /** The app's access to the tenant was withdrawn. Resolves to the number of subscriptions ended. */
  async revokeApp(tenantId: string, applicationId: string): Promise<number> {
    return this.revoke(await this.store.listSubscriptions({ tenantId, applicationId }));
  }

  private async revoke(subs: Subscription[]): Promise<number> {
    let n = 0;
    let enqueued = 0;
    for (const sub of subs) {
      // Delete first, then queue: deleteSubscription removes the subscription's queued deliveries.
      this.noticed.delete(sub.id);
      if (!(await this.store.deleteSubscription(sub.id))) continue;
      n++;
      this.told('revoked', sub);
      const d = lifecycleDelivery(sub, this.clock.now());
      if (d) {
        await this.store.enqueueDeliveries([d]);
        enqueued++;
      }
    }
    this.revoked += n;
    if (enqueued > 0) this.opts.events?.emit('deliveriesEnqueued', { count: enqueued });
    if (n > 0) this.wake();
    return n;
  }

  private async drain(): Promise<void> {
    const now = this.clock.now();
    for (;;) {
      const expired = await this.store.subscriptionsExpiringBy(now, BATCH);
      for (const sub of expired) {
        this.noticed.delete(sub.id);
        if (await this.store.deleteSubscription(sub.id)) {
          this.expired++;
          this.told('expired', sub);
        }
      }
      if (expired.length < BATCH || !this.loop.running) break;
      await yieldToIo();
    }
    let enqueued = 0;
    // Already-notified subscriptions stay in the answer, so widen it until it holds everyone in the window.
    for (let limit = 1000; this.loop.running; limit *= 2) {
      const soon = await this.store.subscriptionsExpiringBy(now + REAUTHORIZE_BEFORE_MS, limit);
      for (const sub of soon) {
        if (!needsReauthorizationNotice(sub) || sub.expiresAt <= now || this.noticed.get(sub.id) === sub.expiresAt) continue;
        // Exactly once over every node sharing the store: the conditional mark decides who sends it, and only the
        // winner's notice is queued (see the header for what a crash can do).
        const lifetime = { expiresAt: sub.expiresAt, since: sub.expiresAt - REAUTHORIZE_BEFORE_MS };
        const won = await this.store.updateSubscription(
          sub.id, (s) => markReauthorizationNotice(s, lifetime, now), [lifecycleDelivery(sub, now)!]) !== null;
        // Won or lost (another node sent it, or the subscription was renewed or deleted meanwhile): this lifetime is
        // settled as far as this node is concerned.
        if (this.noticed.size >= 100_000) this.noticed.clear();
        this.noticed.set(sub.id, sub.expiresAt);
        if (!won) continue;
        enqueued++;
        this.warned++;
        this.told('reauthorizationRequired', sub);
      }
      if (soon.length < limit) break;
    }
    if (enqueued > 0) this.opts.events?.emit('deliveriesEnqueued', { count: enqueued });
  }

  private told(change: NotificationEvents['subscriptionLifecycle']['change'], sub: Subscription): void {
    this.opts.events?.emit('subscriptionLifecycle', { change, tenantId: sub.tenantId, subscriptionId: sub.id });
  }

  /** The first instant the loop must look at a subscription again, or null when there is none. */
  private async nextAt(): Promise<number | null> {
    const first = await this.store.nextSubscriptionExpiry();
    if (first === null) return null;
    // Every subscription's instant is at least its expiry minus the warning lead, so only those expiring by
    // `first + lead` can come before `first`.
    let next = first;
    for (let limit = 1000; ; limit *= 2) {
      const subs = await this.store.subscriptionsExpiringBy(first + REAUTHORIZE_BEFORE_MS, limit);
      for (const sub of subs) next = Math.min(next, this.instantOf(sub));
      if (subs.length < limit) break;
    }
    // Something due now that the drain could not settle (a store error): look again shortly, without spinning.
    return next <= this.clock.now() ? this.clock.now() + 1000 : next;
  }
}
