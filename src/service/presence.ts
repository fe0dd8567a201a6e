/**
 * The presence use cases: domain commands applied through the store's atomic update, at the clock's `now`.
 * Reads use the stored view while it is exact, and bring an overdue record up to date first.
 */
import type { Clock } from '../domain/clock.ts';
import { advance, transition, type Transition } from '../domain/record.ts';
import { setStatusMessage, type StatusMessageInput } from '../domain/statusMessage.ts';
import type { PresenceFacts, PresenceRecord } from '../domain/types.ts';
import type { PresenceSnapshot, Store } from '../store/types.ts';

export interface PresenceListener {
  /** Called after a committed change of a user's visible presence. */
  (tenantId: string, userId: string, t: Transition): void;
}

export class PresenceService {
  private readonly listeners: PresenceListener[] = [];
  /** Called with every committed due instant, so the scheduler can wake earlier than it planned. */
  onDue: (dueAt: number) => void = () => {};

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  onChange(listener: PresenceListener): void {
    this.listeners.push(listener);
  }

  /** The user's presence as of now, or null when the tenant has no such user. */
  async read(tenantId: string, userId: string): Promise<PresenceSnapshot | null> {
    const map = await this.readMany(tenantId, [userId]);
    return map.get(userId) ?? null;
  }

  /** Snapshots as of now for the users that exist. */
  async readMany(tenantId: string, userIds: readonly string[]): Promise<Map<string, PresenceSnapshot>> {
    const snapshots = await this.store.getSnapshots(tenantId, userIds);
    const now = this.clock.now();
    for (const [userId, snap] of snapshots) {
      if (snap.dueAt !== null && snap.dueAt <= now) {
        // The scheduler has not got to this user yet: make the transition now, so the read is exact.
        const t = await this.catchUp(tenantId, userId);
        if (t) snapshots.set(userId, t.record);
        else if (t === undefined) snapshots.delete(userId);
      }
    }
    return snapshots;
  }

  /** Applies a command to the user's facts. Resolves false when the user does not exist. */
  async apply(tenantId: string, userId: string, command: (facts: PresenceFacts, now: number) => PresenceFacts): Promise<boolean> {
    const result = await this.update(tenantId, userId, (record, now) => transition(record, command(record.facts, now), now));
    return result !== undefined;
  }

  setStatusMessage(tenantId: string, userId: string, input: StatusMessageInput): Promise<boolean> {
    return this.apply(tenantId, userId, (facts, now) => setStatusMessage(facts, input, now));
  }

  /** Makes the timed transitions that are due for a user (the scheduler's path). */
  async catchUp(tenantId: string, userId: string): Promise<Transition | null | undefined> {
    return this.update(tenantId, userId, (record, now) =>
      record.dueAt !== null && record.dueAt <= now ? advance(record, now) : null);
  }

  private async update(
    tenantId: string,
    userId: string,
    fn: (record: PresenceRecord, now: number) => Transition | null,
  ): Promise<Transition | null | undefined> {
    const result = await this.store.updatePresence(tenantId, userId, (record) => fn(record, this.clock.now()));
    if (result) {
      if (result.record.dueAt !== null) this.onDue(result.record.dueAt);
      if (result.changed) for (const listener of this.listeners) listener(tenantId, userId, result);
    }
    return result;
  }
}
