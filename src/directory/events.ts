/** What the directory tells the rest (see src/platform/events.ts). */

export interface DirectoryEvents {
  /**
   * A user was deleted, with their presence. Emitted with `emitAndWait`: the subscriptions the user created end
   * (src/notifications/lifecycle.ts) before the deletion is answered.
   */
  userDeleted: { tenantId: string; userId: string };
}
