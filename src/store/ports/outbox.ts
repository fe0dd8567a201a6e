/**
 * The outbox port: the change events updatePresence appends (./presence.ts), read and removed by the dispatcher.
 * Deleting a user leaves their undispatched events in place.
 */
import type { ChangeEvent, NewDelivery } from '../../domain/subscription.ts';

export interface OutboxPort {
  /** The oldest undispatched change events, in commit order. */
  readChanges(limit: number): Promise<ChangeEvent[]>;
  /**
   * Atomically removes the given change events and enqueues the deliveries they produced. Events already removed
   * (by another dispatcher) are ignored; their deliveries are still enqueued only if at least one id was removed
   * by this call — so two dispatchers racing on the same events do not both enqueue. Two calls on overlapping but
   * different sets of events may both enqueue: callers racing on one outbox dispatch one event per call.
   */
  dispatchChanges(eventIds: readonly string[], deliveries: readonly NewDelivery[]): Promise<boolean>;
}
