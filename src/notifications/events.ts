/** What the notification pipeline tells itself and the rest (see src/platform/events.ts). */

export interface NotificationEvents {
  /** Deliveries were queued (by the dispatcher or the lifecycle loop): the deliverer sends them now. */
  deliveriesEnqueued: { count: number };
  /**
   * The lifecycle loop ended a subscription (it expired, or its creator's access was revoked: it is deleted) or
   * queued its reauthorizationRequired notice (./lifecycle.ts).
   */
  subscriptionLifecycle: { change: 'expired' | 'revoked' | 'reauthorizationRequired'; tenantId: string; subscriptionId: string };
}
