/**
 * Change notifications (docs/notifications/README.md): the data that lives in the store. Subscriptions, the outbox of change
 * events that presence updates append in the same transaction, and the delivery queue the deliverer works from.
 * Times are epoch milliseconds.
 */
import type { PresenceView } from './types.ts';

export interface Subscription {
  /** A GUID, lower-case. */
  id: string;
  tenantId: string;
  /** The subscribing application (the token's appid/azp). */
  applicationId: string;
  /** The signed-in user who created it (delegated tokens only). */
  creatorId: string;
  changeType: 'updated';
  /** The resource as the client sent it (leading slash optional in the request; kept as sent). */
  resource: string;
  /** The users it watches, lower-case GUIDs, at most 650. */
  userIds: string[];
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  expiresAt: number;
  clientState: string | null;
  includeResourceData: boolean;
  /** Base64 DER X.509 certificate (RSA 2048–4096) for rich notifications. */
  encryptionCertificate: string | null;
  encryptionCertificateId: string | null;
  latestSupportedTlsVersion: string;
  /** When a reauthorizationRequired lifecycle notification was last queued for it, or null. */
  reauthorizationNotifiedAt: number | null;
  createdAt: number;
}

/**
 * A committed change of a user's visible presence, appended by Store.updatePresence in the same transaction as the
 * change itself, so no change is ever left unnotified.
 */
export interface ChangeEvent {
  /** Store-assigned, increasing in commit order (a string so every backend can use its own ids). */
  id: string;
  tenantId: string;
  userId: string;
  sequenceNumber: string;
  /** The view as of the change (rich notifications carry it, with the watcher projection). */
  view: PresenceView;
  at: number;
}

/** One notification waiting to be delivered to one URL. */
export interface Delivery {
  /** Store-assigned. */
  id: string;
  subscriptionId: string;
  tenantId: string;
  kind: 'change' | 'lifecycle';
  /** Where it goes: the subscription's notificationUrl, or its lifecycleNotificationUrl for lifecycle items. */
  url: string;
  /** The notification item without encryptedContent (added, with a fresh key, at each send). */
  item: Record<string, unknown>;
  /** For rich change notifications: what encryptedContent encrypts. Null otherwise. */
  resourceView: PresenceView | null;
  userId: string | null;
  /** Attempts made so far. */
  attempt: number;
  nextAttemptAt: number;
  createdAt: number;
}

export type NewDelivery = Omit<Delivery, 'id'>;
