/**
 * Users of a tenant: creating and deleting them together with their presence. A deleted user's last
 * sequenceNumber is remembered, so that a user created again with the same id continues after it.
 */
import type { Clock } from '../platform/clock/clock.ts';
import { newRecord } from '../domain/record.ts';
import type { Store, User } from '../store/types.ts';
import type { PresenceService } from '../presence/service.ts';
import { silentEmitter, type Emitter } from '../platform/events.ts';
import type { DirectoryEvents } from './events.ts';

const lastSequenceKey = (tenantId: string, userId: string) => `presence.lastSequence.${tenantId}.${userId}`;

export class Directory {
  constructor(
    private readonly store: Store,
    private readonly presence: PresenceService,
    private readonly clock: Clock,
    /** Told of deleted users, and awaited (their subscriptions end: src/notifications/lifecycle.ts). */
    private readonly events: Emitter<DirectoryEvents> = silentEmitter(),
  ) {}

  /** Creates the user (with an empty presence) or updates their names. Resolves true when created. */
  async putUser(user: User): Promise<boolean> {
    const previous = await this.store.getMeta(lastSequenceKey(user.tenantId, user.id));
    return this.store.putUser(user, newRecord(this.clock.now(), previous));
  }

  /**
   * Removes the user and their presence, then tells the rest and waits for it (the subscriptions the user created lose their
   * access). Resolves false when there was no such user.
   */
  async deleteUser(tenantId: string, userId: string): Promise<boolean> {
    const record = await this.store.getPresence(tenantId, userId);
    if (!record) return false;
    await this.store.setMeta(lastSequenceKey(tenantId, userId), record.sequenceNumber);
    const deleted = await this.store.deleteUser(tenantId, userId);
    this.presence.forget(tenantId, userId);
    if (deleted) await this.events.emitAndWait('userDeleted', { tenantId, userId });
    return deleted;
  }
}
