/**
 * The records this process committed lately on Redis, each with the `rev` its commit gave it (decision
 * d-redis-recent-commits in docs/decisions.md). The next update of one of them tries its commit from this copy, without
 * reading the record first: COMMIT (./scripts.ts) checks the `rev`, so a copy another writer has overtaken only costs
 * that try (the script answers "rev moved", and the update reads the record as before). Every write of a user's
 * facts takes a fresh `rev` from the shard's counter (COMMIT, PUT_USER, PUT_USERS), so a copy whose `rev` still
 * matches is the record as stored.
 *
 * Bounded: the least recently committed user leaves when a new one comes in past the limit. A user whose copy was
 * refused keeps none for their next SKIP_AFTER_REFUSAL commits. A copy is handed to a
 * pure command; under the test suite (PRESENTLY_FREEZE_RECORDS=1) it is deep-frozen, as src/store/recentRecords.ts does.
 */
import type { PresenceRecord } from '../../domain/types.ts';
import { BoundedMap } from '../../platform/recency.ts';
import { deepFreeze } from '../codec.ts';

/** Users whose last commit is kept. */
export const RECENT_COMMITS = 10_000;

/**
 * After a copy was refused (another node writes the same user: a balancer that spreads one client's requests over the
 * nodes), the user's next commits keep no copy, so that they read at once instead of trying a copy that is likely
 * overtaken again; then the copy is tried once more.
 */
export const SKIP_AFTER_REFUSAL = 16;

export interface Commit {
  record: PresenceRecord;
  rev: string;
}

export class RecentCommits {
  /** Least recently committed first, by `tenant/user`. */
  private readonly commits: BoundedMap<string, Commit>;
  /** Users whose copy was refused lately: how many more commits keep no copy. */
  private readonly skips: BoundedMap<string, number>;
  private readonly freeze = process.env.PRESENTLY_FREEZE_RECORDS === '1';

  constructor(readonly limit = RECENT_COMMITS) {
    this.commits = new BoundedMap(limit);
    this.skips = new BoundedMap(limit);
  }

  /**
   * The user's last commit here. It stays until the next commit replaces it or Redis refuses it: a command that
   * changed nothing (decided again on the stored record: ./presence.ts), or a commit whose answer never came (its rev
   * then moved, and the next try is refused), leave it.
   */
  get(owner: string): Commit | undefined {
    return this.commits.get(owner);
  }

  /** The user is gone: no copy. */
  forget(owner: string): void {
    this.commits.delete(owner);
  }

  /** The user's copy was refused: another writer overtook it. */
  refused(owner: string): void {
    this.commits.delete(owner);
    this.skips.set(owner, SKIP_AFTER_REFUSAL);
  }

  set(owner: string, record: PresenceRecord, rev: string): void {
    this.commits.delete(owner);
    const skip = this.skips.get(owner);
    if (skip !== undefined) {
      if (skip <= 1) this.skips.delete(owner);
      else this.skips.set(owner, skip - 1);
      return;
    }
    this.commits.set(owner, { record: this.handOut(record), rev });
  }

  /** A record read from Redis, about to be handed to a command: frozen under the test suite, like a kept one. */
  handOut(record: PresenceRecord): PresenceRecord {
    return this.freeze ? deepFreeze(record) : record;
  }

  get size(): number {
    return this.commits.size;
  }
}
