/** The delivery queue port: notifications waiting for their webhook POST, claimed with a lease. */
import type { Delivery, NewDelivery } from '../../domain/subscription.ts';

/** One delivery put back in the queue: tried next at `nextAttemptAt`, with `attempt` tries made. */
export interface DeliveryReschedule {
  id: string;
  nextAttemptAt: number;
  attempt: number;
}

export interface DeliveryQueuePort {
  enqueueDeliveries(deliveries: readonly NewDelivery[]): Promise<void>;
  /**
   * Deliveries due by `now` that nobody holds, earliest first; each returned one is leased until now + leaseMs (not
   * returned again before that unless completed or rescheduled).
   */
  claimDeliveries(now: number, limit: number, leaseMs: number): Promise<Delivery[]>;
  /** Removes deliveries that were sent (or dropped). Ids this store never handed out are ignored. */
  completeDeliveries(ids: readonly string[]): Promise<void>;
  /** Releases a delivery for another attempt at `nextAttemptAt`. */
  rescheduleDelivery(id: string, nextAttemptAt: number, attempt: number): Promise<void>;
  /**
   * `rescheduleDelivery` for many deliveries in one call (one transaction, or one pipelined round trip): a deliverer
   * putting back an endpoint's held items must not make one store call per item.
   */
  rescheduleDeliveries(items: readonly DeliveryReschedule[]): Promise<void>;
  /**
   * Ends every delivery lease at once (their deliveries become claimable now), resolving to how many there were. Only
   * backends written by one process have it: at start nothing can hold a lease there but the process that died
   * before it. A shared backend leaves other nodes' leases to run out.
   */
  releaseDeliveryLeases?(): Promise<number>;
  /** The earliest nextAttemptAt of any delivery (leased ones count from their lease end), or null. */
  nextDeliveryAt(): Promise<number | null>;
  /** How many deliveries are queued. */
  countDeliveries(): Promise<number>;
  /**
   * How many deliveries due by `now` are leased at `now`: claimed by a deliverer (this node's or another's) and not
   * yet completed or rescheduled. The manual clock's settle waits for those of other nodes. Its cost may grow with
   * the deliveries not yet due.
   */
  countLeasedDeliveries(now: number): Promise<number>;
}
