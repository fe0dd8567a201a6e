/**
 * The presence port: each user's record, its due index, and the outbox append that goes with every watched change.
 * An update commits the record, its due instant and (when the view changed) one change event atomically.
 */
import type { Transition } from '../../domain/record.ts';
import type { PresenceRecord } from '../../domain/types.ts';

/** What a read needs: the published view. Exact while `dueAt` is null or still ahead. */
export type PresenceSnapshot = Pick<PresenceRecord, 'view' | 'sequenceNumber' | 'dueAt'>;

export interface PresenceKey {
  tenantId: string;
  userId: string;
}

/**
 * `fn` receives the current record and returns the transition to store, or null to change nothing. It must be
 * pure: a backend may call it more than once (optimistic retries). The returned record is committed atomically
 * together with its due instant before the promise resolves.
 */
export type PresenceUpdate = (current: PresenceRecord) => Transition | null;

/** Told by a shared store which users' presence changed (PresencePort.watchChanges). */
export interface PresenceWatcher {
  /** These users' records changed, by any writer: this process or another. */
  changed(users: readonly PresenceKey[]): void;
  /** A change may have gone untold (the store's connection dropped, it was emptied): nothing kept may be trusted. */
  lost(): void;
  /** Every change is told from now on (after a start or a `lost`). */
  watching(): void;
  /** The store will not tell changes (it refused to): `reason` says why, for the operator. */
  refused(reason: string): void;
}

export interface PresencePort {
  /** The full record of a user, or null when the tenant has no such user. */
  getPresence(tenantId: string, userId: string): Promise<PresenceRecord | null>;
  /**
   * The full records (facts included) of the users that exist, keyed by user id; missing ids are absent. One batched
   * read, for the few readers that need the facts of many users (the dashboard's board).
   */
  getPresences(tenantId: string, userIds: readonly string[]): Promise<Map<string, PresenceRecord>>;
  /** Snapshots of the users that exist, keyed by user id; missing ids are absent from the map. */
  getSnapshots(tenantId: string, userIds: readonly string[]): Promise<Map<string, PresenceSnapshot>>;
  /**
   * Every user's snapshot in (tenant id, user id) order, starting after `after` (null: from the first), at most
   * `limit`: how the read cache of a sole writer fills itself after a start (src/presence/service.ts). Only the
   * backends a process writes alone (sqlite, memory) have it; a shared store has no read cache to fill.
   */
  snapshotPage?(after: PresenceKey | null, limit: number): Promise<Array<PresenceKey & PresenceSnapshot>>;
  /**
   * Tells `watcher` of every change to any user's record from now until the store closes, so that a process may keep
   * a read cache on a store others write too (src/presence/cacheCoherence.ts). Only a shared store that can (redis,
   * one server) has it, and answers true once it has started; false where it cannot (a Redis Cluster).
   */
  watchChanges?(watcher: PresenceWatcher): boolean;
  /**
   * A page of users, in no particular order, from `cursor` (null: the start) on, about `limit` of them (a user may
   * come twice); `next` is null after the last page. How a shared store's read cache fills itself after a start (its
   * users read under src/presence/cacheCoherence.ts's rules); only a store with `watchChanges` has it.
   */
  userPage?(cursor: string | null, limit: number): Promise<{ users: PresenceKey[]; next: string | null }>;
  /**
   * Atomically applies `fn` to the user's record. Resolves to the committed transition, to null when `fn` returned
   * null, or to undefined when the user does not exist. When the committed transition has `changed` true and a
   * stored subscription watches the user, a ChangeEvent is appended to the outbox (./outbox.ts) in the same atomic
   * update, so no watched change is ever skipped. For a user nobody watches a backend may append one or not (sqlite
   * does not, redis does: docs/decisions.md#d-outbox-watched). The promise resolves only once the update is
   * committed; a backend may commit the updates of one moment together (sqlite: docs/decisions.md#d-group-commit).
   */
  updatePresence(tenantId: string, userId: string, fn: PresenceUpdate): Promise<Transition | null | undefined>;

  /** Users whose `dueAt` is at or before `now`, earliest first. A read: asking twice gives the same answer. */
  dueUsers(now: number, limit: number): Promise<PresenceKey[]>;
  /** The earliest `dueAt` of any user, or null. */
  nextDueAt(): Promise<number | null>;
}
