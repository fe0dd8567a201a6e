/** What the presence feature tells the rest (see src/platform/events.ts): emitted after the store committed. */
import type { Transition } from '../domain/record.ts';
import type { PresenceRecord } from '../domain/types.ts';

/**
 * Why a record changed, as far as the code that asked for the change knows it: a write through the API (the action's
 * name and the caller), a timed transition (the due loop, or a read that brought an overdue record up to date), or
 * the admin API. Timed transitions say no more here: what fell due follows from the record before and after.
 */
export type ChangeCause =
  | { kind: 'api'; action: string; appId: string | null; userId: string | null }
  | { kind: 'timed' }
  | { kind: 'admin'; action: string };

/** The cause of every timed transition (one object: nothing is allocated per transition). */
export const TIMED: ChangeCause = Object.freeze({ kind: 'timed' });

export interface PresenceEvents {
  /**
   * A user's visible presence changed; the change is in the outbox (the dispatcher fans it out). `previous` is the
   * record the committed transition was computed from (the one the store handed to it, not read again).
   */
  presenceChanged: { tenantId: string; userId: string; transition: Transition; previous: PresenceRecord; cause: ChangeCause };
  /** A user's record is due for a timed transition at `dueAt` (the due loop may need to wake sooner). */
  dueChanged: { tenantId: string; userId: string; dueAt: number };
}
