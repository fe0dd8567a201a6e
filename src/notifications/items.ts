/**
 * Every notification wire shape Presently sends, in one place: the change item (queued by the dispatcher), the
 * `reauthorizationRequired` lifecycle item (queued by the lifecycle loop), the item as it leaves (the subscription's
 * current expiry, and for rich notifications `encryptedContent`), the decrypted content of a rich item, and the POST
 * body around a batch of items. Property order is Graph's (docs/notifications/delivery.md,
 * docs/notifications/resource-data.md).
 *
 * A basic item's `resourceData` is the presence's identity only — `@odata.id`, `@odata.type`, `id` — as Graph's
 * basic presence notifications have been since June 2024. The queued item also keeps the presence's
 * `sequenceNumber` at the change (what a rich item's encrypted content repeats); it never leaves.
 */
import { formatUtc } from '../domain/timezones.ts';
import type { ChangeEvent, Subscription } from '../domain/subscription.ts';

export type NotificationItem = Record<string, unknown>;

/** The body of one notification POST: the items, and for rich items one validation token per app and tenant. */
export interface NotificationBody {
  value: NotificationItem[];
  validationTokens?: string[];
}

/** Graph's OData type of a presence, in notifications and in their decrypted content. */
export const PRESENCE_ODATA_TYPE = '#microsoft.graph.presence';

/** What identifies a user's presence in a notification: `resourceData` of every change item. */
export function presenceIdentity(userId: string): { '@odata.id': string; '@odata.type': string; id: string } {
  return { '@odata.id': `users/${userId}/presence`, '@odata.type': PRESENCE_ODATA_TYPE, id: userId };
}

/**
 * The item of one change for one subscription, as queued: `subscriptionExpirationDateTime` is set again at each
 * send, and `resourceData.sequenceNumber` is kept for the rich content only (changeItemToSend leaves it out).
 */
export function changeItem(sub: Subscription, event: Pick<ChangeEvent, 'userId' | 'sequenceNumber'>): NotificationItem {
  return {
    subscriptionId: sub.id,
    subscriptionExpirationDateTime: formatUtc(sub.expiresAt),
    changeType: 'updated',
    resource: `communications/presences/${event.userId}`,
    resourceData: { ...presenceIdentity(event.userId), sequenceNumber: event.sequenceNumber },
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
  const queuedData = queued.resourceData as { id: string } | undefined;
  const item: NotificationItem = { ...queued, subscriptionExpirationDateTime: formatUtc(sub.expiresAt) };
  // Only the identity leaves, whatever an older version queued beside it.
  if (queuedData !== undefined) item.resourceData = presenceIdentity(queuedData.id);
  if (encryptedContent !== undefined) item.encryptedContent = encryptedContent;
  return item;
}

/**
 * What a rich item's `encryptedContent.data` decrypts to: `@odata.id` and `@odata.type` as in Graph's example of
 * decrypted presence content, then the presence as the watcher sees it.
 */
export function richContent(userId: string, presence: object): Record<string, unknown> {
  const { '@odata.id': odataId, '@odata.type': odataType } = presenceIdentity(userId);
  return { '@odata.id': odataId, '@odata.type': odataType, ...presence };
}

/** The sequenceNumber a queued change item carries (what the encrypted resource data repeats), or null. */
export function itemSequenceNumber(queued: NotificationItem): string | null {
  return (queued.resourceData as { sequenceNumber?: string } | undefined)?.sequenceNumber ?? null;
}

/** The POST body: `validationTokens` only when there are any (rich items). */
export function notificationBody(items: NotificationItem[], validationTokens: string[]): NotificationBody {
  return validationTokens.length > 0 ? { value: items, validationTokens } : { value: items };
}
