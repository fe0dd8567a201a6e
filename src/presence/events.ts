/** What the presence feature tells the rest (see src/platform/events.ts): emitted after the store committed. */
import type { Transition } from '../domain/record.ts';

export interface PresenceEvents {
  /** A user's visible presence changed; the change is in the outbox (the dispatcher fans it out). */
  presenceChanged: { tenantId: string; userId: string; transition: Transition };
  /** A user's record is due for a timed transition at `dueAt` (the due loop may need to wake sooner). */
  dueChanged: { tenantId: string; userId: string; dueAt: number };
}
