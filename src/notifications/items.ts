/**
 * Every notification wire shape Presently sends, in one place: the change item (queued by the dispatcher), the
 * `reauthorizationRequired` lifecycle item (queued by the lifecycle loop), the item as it leaves (the subscription's
 * current expiry, and for rich notifications `encryptedContent`), and the POST body around a batch of items.
 * Property order is Graph's.
 */
import { formatUtc } from '../domain/timezones.ts';
import type { ChangeEvent, Subscription } from '../domain/subscription.ts';

export type NotificationItem = Record<string, unknown>;

/** The body of one notification POST: the items, and for rich items one validation token per app and tenant. */
export interface NotificationBody {
  value: NotificationItem[];
  validationTokens?: string[];
}

/** The item of one change for one subscription (queued; `subscriptionExpirationDateTime` is set again at each send). */
export function changeItem(sub: Subscription, event: Pick<ChangeEvent, 'userId' | 'sequenceNumber'>): NotificationItem {
  return {
    subscriptionId: sub.id,
    subscriptionExpirationDateTime: formatUtc(sub.expiresAt),
    changeType: 'updated',
    resource: `communications/presences/${event.userId}`,
    resourceData: {
      '@odata.id': `users/${event.userId}/presence`,
      '@odata.type': '#microsoft.graph.presence',
      id: event.userId,
      sequenceNumber: event.sequenceNumber,
    },
    clientState: sub.clientState,
    tenantId: sub.tenantId,
  };
}

/** A lifecycle item (sent as queued: the subscription may be gone by then). */
export function lifecycleItem(sub: Subscription, lifecycleEvent = 'reauthorizationRequired'): NotificationItem {
  return {
    subscriptionId: sub.id,
    subscriptionExpirationDateTime: formatUtc(sub.expiresAt),
    tenantId: sub.tenantId,
    clientState: sub.clientState,
    lifecycleEvent,
  };
}

/**
 * A queued change item as it is sent: with the subscription's expiry as of now (a renewal since it was queued
 * shows), and `encryptedContent` when the subscription asked for resource data.
 */
export function changeItemToSend(queued: NotificationItem, sub: Subscription, encryptedContent?: unknown): NotificationItem {
  const item: NotificationItem = { ...queued, subscriptionExpirationDateTime: formatUtc(sub.expiresAt) };
  if (encryptedContent !== undefined) item.encryptedContent = encryptedContent;
  return item;
}

/** The sequenceNumber a queued change item carries (what the encrypted resource data repeats), or null. */
export function itemSequenceNumber(queued: NotificationItem): string | null {
  return (queued.resourceData as { sequenceNumber?: string } | undefined)?.sequenceNumber ?? null;
}

/** The POST body: `validationTokens` only when there are any (rich items). */
export function notificationBody(items: NotificationItem[], validationTokens: string[]): NotificationBody {
  return validationTokens.length > 0 ? { value: items, validationTokens } : { value: items };
}
