/**
 * The presence use cases: domain commands applied through the store's atomic update, at the clock's `now`.
 * Reads use the stored view while it is exact, and bring an overdue record up to date first.
 *
 * With `readCache` (the composition root sets it when this process is the store's only writer: sqlite, memory), the
 * latest snapshot of each user is also kept in memory: every write passes through here, so the copy is always
 * current, and reads (a 650-id getPresencesByUserId above all) need no store round trip. Snapshot objects are replaced, never mutated, so
 * callers may cache what they derive from one (its JSON) by object identity.
 */
import type { Clock } from '../platform/clock/clock.ts';
import { advance, transition, type Transition } from '../domain/record.ts';
import type { PresenceFacts, PresenceRecord } from '../domain/types.ts';
import type { PresenceSnapshot, Store } from '../store/types.ts';
import { silentEmitter, type Emitter } from '../platform/events.ts';
import { TIMED, type ChangeCause, type PresenceEvents } from './events.ts';
import { SnapshotCache } from './snapshotCache.ts';

/** Most snapshots kept in memory (./snapshotCache.ts): about 300 bytes each. */
export const CACHE_LIMIT = 200_000;

export class PresenceService {
  /** The latest snapshots; null when the store is shared with other processes. */
  private readonly cache: SnapshotCache | null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Told of every committed change and due instant (the dispatcher and the due loop react). */
    private readonly events: Emitter<PresenceEvents> = silentEmitter(),
    opts: { readCache?: boolean; cacheLimit?: number } = {},
  ) {
    this.cache = opts.readCache ? new SnapshotCache(opts.cacheLimit ?? CACHE_LIMIT) : null;
  }

  /** The user's presence as of now, or null when the tenant has no such user. */
  async read(tenantId: string, userId: string): Promise<PresenceSnapshot | null> {
    const map = await this.readMany(tenantId, [userId]);
    return map.get(userId) ?? null;
  }

  /** Snapshots as of now for the users that exist. */
  async readMany(tenantId: string, userIds: readonly string[]): Promise<Map<string, PresenceSnapshot>> {
    let snapshots: Map<string, PresenceSnapshot>;
    if (this.cache) {
      snapshots = new Map();
      const missing: string[] = [];
      for (const userId of userIds) {
        const hit = this.cache.get(tenantId, userId);
        if (hit) snapshots.set(userId, hit);
        else missing.push(userId);
      }
      if (missing.length > 0) {
        for (const [userId, snap] of await this.store.getSnapshots(tenantId, missing)) {
          this.remember(tenantId, userId, snap);
          snapshots.set(userId, snap);
        }
      }
    } else {
      snapshots = await this.store.getSnapshots(tenantId, userIds);
    }
    const now = this.clock.now();
    for (const [userId, snap] of snapshots) {
      if (snap.dueAt !== null && snap.dueAt <= now) {
        // The scheduler has not got to this user yet: make the transition now, so the read is exact.
        const t = await this.catchUp(tenantId, userId);
        if (t) snapshots.set(userId, this.cached(tenantId, userId) ?? t.record);
        else if (t === undefined) snapshots.delete(userId);
      }
    }
    return snapshots;
  }

  /**
   * Applies a command to the user's facts; `cause` says who asked (it goes with the presenceChanged event). Resolves to
   * the committed transition, or undefined when the user does not exist.
   */
  async apply(
    tenantId: string, userId: string, command: (facts: PresenceFacts, now: number) => PresenceFacts, cause: ChangeCause,
  ): Promise<Transition | undefined> {
    const result = await this.update(tenantId, userId, (record, now) => transition(record, command(record.facts, now), now), cause);
    return result ?? undefined;
  }

  /** Makes the timed transitions that are due for a user (the scheduler's path). */
  async catchUp(tenantId: string, userId: string): Promise<Transition | null | undefined> {
    return this.update(tenantId, userId, (record, now) =>
      record.dueAt !== null && record.dueAt <= now ? advance(record, now) : null, TIMED);
  }

  /** Drops what is kept in memory of a user (after the user is deleted). */
  forget(tenantId: string, userId: string): void {
    this.cache?.delete(tenantId, userId);
  }

  private cached(tenantId: string, userId: string): PresenceSnapshot | undefined {
    return this.cache?.get(tenantId, userId);
  }

  private remember(tenantId: string, userId: string, record: PresenceSnapshot): void {
    this.cache?.set(tenantId, userId, { view: record.view, sequenceNumber: record.sequenceNumber, dueAt: record.dueAt });
  }

  private async update(
    tenantId: string,
    userId: string,
    fn: (record: PresenceRecord, now: number) => Transition | null,
    cause: ChangeCause,
  ): Promise<Transition | null | undefined> {
    let result: Transition | null | undefined;
    // The record the committed run of `fn` started from: the store may run `fn` more than once, the last run counts.
    let previous: PresenceRecord | null = null;
    try {
      result = await this.store.updatePresence(tenantId, userId, (record) => fn((previous = record), this.clock.now()));
    } catch (err) {
      // A failed update leaves the store as it was; drop the cached copy so the next read goes to the store.
      this.forget(tenantId, userId);
      throw err;
    }
    if (result === undefined) this.forget(tenantId, userId);
    if (result) {
      this.remember(tenantId, userId, result.record);
      if (result.record.dueAt !== null) this.events.emit('dueChanged', { tenantId, userId, dueAt: result.record.dueAt });
      if (result.changed) this.events.emit('presenceChanged', { tenantId, userId, transition: result, previous: previous!, cause });
    }
    return result;
  }
}
