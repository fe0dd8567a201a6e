/**
 * The records of the users updated lately, exactly as committed (docs/decisions.md#d-recent-records). The next update
 * of one of them starts from this copy instead of reading its row and parsing its JSON: about 14 % of a write's CPU
 * for a user who writes again and again (a client reporting activity). This process is the store's only writer (SQLite,
 * with its presence records in its table or in the presence journal), and every path that writes a presence record
 * tells this copy: the updates (./sqlite/presence.ts and ./journal/presence.ts, after their commit) and the directory's
 * user creations and deletions (./sqlite/directory.ts), so a copy is never older than the record.
 *
 * Bounded: the least recently updated user leaves when a new one comes in past the limit.
 *
 * A copy is handed to the next update's command and to the change's listeners, so nothing may change a record it is
 * given: commands are pure (src/presence/write.ts). Under the test suite (`npm test` sets
 * PRESENTLY_FREEZE_RECORDS=1) every record a command is handed, kept or read from its row, is deep-frozen, so a
 * command that changed its input fails its tests; in production freezing would cost what keeping saves.
 */
import type { PresenceRecord } from '../domain/types.ts';
import { BoundedMap } from '../platform/recency.ts';
import { TenantUserMap } from '../platform/tenantUserMap.ts';
import { deepFreeze } from './codec.ts';

/** Users whose last record is kept (the decoded record each: a few small objects). */
export const RECENT_RECORDS = 10_000;

/** What both kinds of copies share: their bound and the freezing under the test suite. */
abstract class RecordCopies {
  constructor(
    readonly limit = RECENT_RECORDS,
    /** Deep-freeze each record handed out (see above). */
    readonly freeze = process.env.PRESENTLY_FREEZE_RECORDS === '1',
  ) {}

  /** A record about to be handed to a command: frozen under the test suite. */
  handOut(record: PresenceRecord): PresenceRecord {
    return this.freeze ? deepFreeze(record) : record;
  }
}

/** The copies by tenant and user id (the presence table's port, and the directory that tells it). */
export class RecentRecords extends RecordCopies {
  /** Least recently updated first. */
  private readonly records = new TenantUserMap<PresenceRecord>();

  /** The user's committed record, if kept. */
  get(tenantId: string, userId: string): PresenceRecord | undefined {
    return this.records.get(tenantId, userId);
  }

  /** Keeps `record` as the user's committed record, the most recent. */
  set(tenantId: string, userId: string, record: PresenceRecord): void {
    if (this.limit <= 0) return;
    this.records.set(tenantId, userId, this.handOut(record));
    if (this.records.size > this.limit) this.records.dropOldest(() => this.records.size > this.limit);
  }

  /** The user's row was created or deleted elsewhere: the next update reads it. */
  forget(tenantId: string, userId: string): void {
    this.records.delete(tenantId, userId);
  }

  get size(): number {
    return this.records.size;
  }
}

/**
 * The copies by the number the store gave each user (the presence journal's slot: ./journal/arena.ts), found without
 * hashing an id string: at a million users a write's copy is nearly never there, and the lookup, the insertion and
 * the eviction each of them pays were 3.4 % of a write by id (BENCHMARKS.md, 2026-12-07 09:50). A slot is a user's
 * until the user is deleted: the store forgets the slot's copy then.
 */
export class RecentRecordsBySlot extends RecordCopies {
  /**
   * Least recently updated first. Not a plain Map dropping its first key: at a million users every write evicts, and
   * each `keys().next()` walked every slot deleted since the table was last rebuilt, 21 µs a write (16 % of it; the
   * rule in docs/contributing/performance.md#no-first-key-eviction, BENCHMARKS.md, 2026-12-07 12:05).
   */
  private readonly records: BoundedMap<number, PresenceRecord>;

  constructor(limit?: number, freeze?: boolean) {
    super(limit, freeze);
    this.records = new BoundedMap(this.limit);
  }

  get(slot: number): PresenceRecord | undefined {
    return this.records.get(slot);
  }

  set(slot: number, record: PresenceRecord): void {
    this.records.set(slot, this.handOut(record));
  }

  forget(slot: number): void {
    this.records.delete(slot);
  }

  get size(): number {
    return this.records.size;
  }
}
