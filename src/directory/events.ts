/** What the directory tells the rest (see src/platform/events.ts). */
import type { PresenceRecord } from '../domain/types.ts';
import type { User } from '../store/types.ts';

export interface DirectoryEvents {
  /** A user was created, with `record` as their presence (committed). */
  userCreated: { user: User; record: PresenceRecord };
  /**
   * A user was deleted, with their presence. Emitted with `emitAndWait`: the subscriptions the user created end
   * (src/notifications/lifecycle.ts) before the deletion is answered.
   */
  userDeleted: { tenantId: string; userId: string };
}
