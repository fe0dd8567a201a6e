/**
 * The read cache kept true on a store other processes write too (decision d-shared-read-cache in docs/decisions.md).
 *
 * The store tells which users changed, whoever changed them (src/store/ports/presence.ts watchChanges: on Redis, its
 * own invalidation messages); each told user is dropped from the cache. What a read brought back from the store is kept
 * only when it cannot be older than the last change told:
 *
 * - no change of the user was told while the read was on its way (the message and the answer travel on two
 *   connections, so a read sent before a change may come back after the message about it);
 * - every change was being told when the read was sent and still is (`watching`, no `lost` since): after a dropped
 *   connection nothing is kept until the store tells changes again, and everything kept before is dropped.
 *
 * A store that a process writes alone (sqlite, memory) needs none of this: every change goes through the process.
 */
import type { PresenceKey, PresenceWatcher } from '../store/types.ts';
import type { SnapshotCache } from './snapshotCache.ts';

/** A read on its way: what was true when it was sent. */
export interface ReadTicket {
  readonly users: readonly PresenceKey[];
  /** `lost` had not happened since `watching`: changes were being told. */
  readonly watching: boolean;
  readonly epoch: number;
  /** Per user, the changes told while some read of them was on its way, at the read's start. */
  readonly changes: number[];
}

interface InFlight {
  reads: number;
  changes: number;
}

export class CacheCoherence implements PresenceWatcher {
  private live = false;
  /** Counts the times a change may have gone untold. */
  private epoch = 0;
  /** Users with reads on their way, by `tenant/user`. */
  private readonly inFlight = new Map<string, InFlight>();
  /** Who waits for `watching` (the cache's fill). */
  private readonly waiting: Array<() => void> = [];
  /** Called each time the store tells changes again after a loss, which emptied the cache (the service fills it again). */
  onWatchingAgain: (() => void) | null = null;

  /** `onRefused`: told when the store will not tell changes (the cache then stays empty). */
  constructor(private readonly cache: SnapshotCache, private readonly onRefused: (reason: string) => void = () => {}) {}

  changed(users: readonly PresenceKey[]): void {
    for (const user of users) {
      this.cache.delete(user.tenantId, user.userId);
      if (this.inFlight.size === 0) continue;
      const f = this.inFlight.get(keyOf(user));
      if (f) f.changes++;
    }
  }

  lost(): void {
    this.live = false;
    this.epoch++;
    this.cache.clear();
  }

  refused(reason: string): void {
    this.lost();
    this.onRefused(reason);
  }

  watching(): void {
    const again = !this.live && this.epoch > 0;
    this.live = true;
    for (const resolve of this.waiting.splice(0)) resolve();
    if (again) this.onWatchingAgain?.();
  }

  /** How many times changes may have gone untold so far: a fill begun at one count is stale at the next. */
  get losses(): number {
    return this.epoch;
  }

  /** Before reading (or writing) users whose answer may be kept; `end` it whatever happens. */
  begin(users: readonly PresenceKey[]): ReadTicket {
    const changes = new Array<number>(users.length);
    for (let i = 0; i < users.length; i++) {
      const key = keyOf(users[i]!);
      let f = this.inFlight.get(key);
      if (!f) this.inFlight.set(key, (f = { reads: 0, changes: 0 }));
      f.reads++;
      changes[i] = f.changes;
    }
    return { users, watching: this.live, epoch: this.epoch, changes };
  }

  /** Whether the answer about the ticket's `i`-th user may be kept (call before `end`). */
  mayKeep(ticket: ReadTicket, i: number): boolean {
    if (!ticket.watching || !this.live || ticket.epoch !== this.epoch) return false;
    return this.inFlight.get(keyOf(ticket.users[i]!))?.changes === ticket.changes[i];
  }

  end(ticket: ReadTicket): void {
    for (const user of ticket.users) {
      const key = keyOf(user);
      const f = this.inFlight.get(key);
      if (f && --f.reads === 0) this.inFlight.delete(key);
    }
  }

  /** Resolves once changes are told (at once if they are now); never, if the store never starts telling them. */
  whenWatching(): Promise<void> {
    if (this.live) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Users with a read on its way (tests: nothing is left behind). */
  get reading(): number {
    return this.inFlight.size;
  }
}

const keyOf = ({ tenantId, userId }: PresenceKey) => `${tenantId}/${userId}`;
