/** What the subscriptions feature tells the rest (see src/platform/events.ts): emitted after the store committed. */
import type { Subscription } from '../domain/subscription.ts';

export interface SubscriptionEvents {
  /**
   * A subscription was created, updated (renewed or moved: PATCH), reauthorised or deleted through the API. Its
   * expiry instants may now come before what the lifecycle loop is armed for.
   */
  subscriptionChanged: {
    change: 'created' | 'updated' | 'reauthorized' | 'deleted'; tenantId: string; subscriptionId: string;
    /** The subscription as now stored (as it was, for `deleted`): listeners need not read it again. */
    subscription: Subscription;
  };
}
