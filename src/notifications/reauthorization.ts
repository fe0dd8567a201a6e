/**
 * The reauthorisation mark: the rule that makes a subscription's `reauthorizationRequired` notice exactly-once per
 * lifetime over every node sharing the store. Pure; the lifecycle applies it with the store's conditional write
 * (`updateSubscription`, a compare-and-set that re-runs it on the newer subscription when another node wrote first),
 * so of several nodes racing on one lifetime exactly one stores the mark, and only that one queues the notice.
 */
import type { Subscription } from '../domain/subscription.ts';

/** The lifetime a notice is for: the expiry it warns of, and where that lifetime's notice window starts. */
export interface NoticeLifetime {
  expiresAt: number;
  /** The window's start (expiresAt minus the warning lead): a mark at or after it belongs to this lifetime. */
  since: number;
}

/**
 * The subscription with its notice marked as sent at `at` — changing nothing else — or null when this lifetime is
 * not the current one (it was renewed: the expiry moved) or its notice is already marked (at or after `since`).
 */
export function markReauthorizationNotice(sub: Subscription, lifetime: NoticeLifetime, at: number): Subscription | null {
  const marked = sub.reauthorizationNotifiedAt;
  if (sub.expiresAt !== lifetime.expiresAt || (marked !== null && marked >= lifetime.since)) return null;
  return { ...sub, reauthorizationNotifiedAt: at };
}
