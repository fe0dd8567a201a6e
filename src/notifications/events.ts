/** What the notification pipeline tells itself and the rest (see src/platform/events.ts). */

export interface NotificationEvents {
  /** Deliveries were queued (by the dispatcher or the lifecycle loop): the deliverer sends them now. */
  deliveriesEnqueued: { count: number };
}
