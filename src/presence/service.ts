/**
 * The presence use cases: domain commands applied through the store's atomic update, at the clock's `now`.
 * Reads use the stored view while it is exact, and bring an overdue record up to date first.
 *
 * With `readCache`, the latest snapshot of each user is also kept in memory, so that reads (a 650-id
 * getPresencesByUserId above all) need no store round trip:
 *
 * - on a store this process writes alone (sqlite, memory), every write passes through here, so the copy is always
 *   current;
 * - on a store other processes write too (`sharedStore`: redis), the store tells every change (its `watchChanges`) and
 *   ./cacheCoherence.ts keeps only what no change has overtaken; a store that cannot tell (a Redis Cluster) gets no
 *   cache.
 *
 * Snapshots are replaced, never mutated. The read cache hands out a new object at each read, equal to the one kept,
 * so what a caller derives from one is keyed by its sequence number and view (a view object is shared and kept).
 */
import type { Clock } from '../platform/clock/clock.ts';
import { advance, transition, type Transition } from '../domain/record.ts';
import type { PresenceFacts, PresenceRecord } from '../domain/types.ts';
import type { PresenceKey, PresenceSnapshot, Store } from '../store/types.ts';
import { silentEmitter, type Emitter } from '../platform/events.ts';
import { TIMED, type ChangeCause, type PresenceEvents } from './events.ts';
import { CacheCoherence } from './cacheCoherence.ts';
import { SnapshotCache } from './snapshotCache.ts';

/**
 * Most snapshots kept in memory by default (./snapshotCache.ts; `--read-cache`): about 100 bytes a user (two 40-byte
 * slots of a typed-array table, at most half full, and a view reference each; users with equal views share one view
 * object, src/store/codec.ts).
 */
export const CACHE_LIMIT = 1_000_000;

/** Users read per page while the cache fills itself (./service.ts warm): a few milliseconds of the event loop. */
const WARM_PAGE = 2_000;

export class PresenceService {
  /** The latest snapshots; null without `readCache`, or on a shared store that cannot tell its changes. */
  private readonly cache: SnapshotCache | null;
  /** On a shared store: which snapshots read may be kept (null on a store this process writes alone). */
  private readonly coherence: CacheCoherence | null = null;
  /** While a page read by warm() is on its way: the users forgotten meanwhile, which it must not put back. */
  private forgottenWhileWarming: Set<string> | null = null;
  /** What the operator should know about the read cache (opts.warn). */
  private readonly warn: ((message: string) => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Told of every committed change and due instant (the dispatcher and the due loop react). */
    private readonly events: Emitter<PresenceEvents> = silentEmitter(),
    /** `warn`: what the operator should know about the read cache (a shared store that keeps it off). */
    opts: { readCache?: boolean; cacheLimit?: number; sharedStore?: boolean; warn?: (message: string) => void } = {},
  ) {
    this.warn = opts.warn;
    const limit = opts.cacheLimit ?? CACHE_LIMIT;
    let cache = opts.readCache && limit > 0 ? new SnapshotCache(limit) : null;
    if (cache && opts.sharedStore) {
      const off = (why: string) => opts.warn?.(`no read cache: ${why}; every read goes to the store`);
      // Told of every change from here on; until the store starts telling, nothing read is kept.
      const coherence = new CacheCoherence(cache, off);
      if (store.watchChanges?.(coherence)) this.coherence = coherence;
      else {
        cache = null;
        off('this store cannot tell this process of the changes other processes make (a Redis Cluster)');
      }
    }
    this.cache = cache;
  }

  /**
   * Fills the read cache from the store in the background (the composition root calls it once the server is up): a
   * page of users per turn of the event loop, in key order, until every user is in or the cache is full, so reads
   * after a restart do not each go to the store. Never displaces a snapshot already there (a write's is newer).
   * Resolves to the users added; stops early when `signal` aborts.
   */
  async warm(signal?: AbortSignal): Promise<number> {
    const cache = this.cache;
    if (cache && this.coherence) return this.warmShared(cache, this.coherence, signal);
    if (!cache || !this.store.snapshotPage) return 0;
    let added = 0;
    for (let after: PresenceKey | null = null; !signal?.aborted;) {
      const forgotten = (this.forgottenWhileWarming = new Set());
      let page: Array<PresenceKey & PresenceSnapshot>;
      try {
        page = await this.store.snapshotPage(after, WARM_PAGE);
      } finally {
        this.forgottenWhileWarming = null;
      }
      for (const { tenantId, userId, view, sequenceNumber, dueAt } of page) {
        if (forgotten.has(warmKey(tenantId, userId))) continue;
        if (!cache.fill(tenantId, userId, { view, sequenceNumber, dueAt })) return added;
        added++;
      }
      if (page.length < WARM_PAGE) return added;
      after = page.at(-1)!;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return added;
  }

  /**
   * warm on a shared store: once the store tells changes, its users a page at a time (in no order: userPage), each
   * page's snapshots read and kept under the coherence rules, as any read. Never displaces a snapshot already there.
   * Each time the store tells changes again after a loss (the cache was emptied then), the same fill runs again in the
   * background; a fill stops when changes stop being told, and the next telling starts another.
   */
  private async warmShared(cache: SnapshotCache, coherence: CacheCoherence, signal?: AbortSignal): Promise<number> {
    const userPage = this.store.userPage?.bind(this.store);
    if (!userPage) return 0;
    const aborted = new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
    await Promise.race([coherence.whenWatching(), aborted]);
    coherence.onWatchingAgain = () => {
      if (signal?.aborted) return;
      this.fillShared(cache, coherence, userPage, signal).catch((err: unknown) => this.warn?.(
        `filling the read cache again after the store's connection came back failed (${err instanceof Error ? err.message : String(err)}); ` +
        'reads of the users it did not reach go to the store'));
    };
    return this.fillShared(cache, coherence, userPage, signal);
  }

  /** One pass of warmShared over the store's users: the users added. */
  private async fillShared(
    cache: SnapshotCache, coherence: CacheCoherence, userPage: NonNullable<Store['userPage']>, signal?: AbortSignal,
  ): Promise<number> {
    const losses = coherence.losses;
    let added = 0;
    for (let cursor: string | null = null; !signal?.aborted && coherence.losses === losses;) {
      const { users, next } = await userPage(cursor, WARM_PAGE);
      let full = false;
      for (const [tenantId, ids] of byTenant(users)) {
        await this.readKeeping(tenantId, ids, (userId, { view, sequenceNumber, dueAt }) => {
          full = !cache.fill(tenantId, userId, { view, sequenceNumber, dueAt });
          if (!full) added++;
          return !full;
        });
        if (full) return added;
      }
      if (next === null) return added;
      cursor = next;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return added;
  }

  /**
   * Creates users in bulk through `write` (the store's putUsers: whether each was created) and caches the created ones
   * with `initial` while there is room, so their first reads are hits. On a shared store, only those no change
   * overtook on the way (another node may have written them already).
   */
  async creating(users: readonly PresenceKey[], initial: PresenceSnapshot, write: () => Promise<boolean[]>): Promise<boolean[]> {
    const cache = this.cache;
    if (!cache) return write();
    const ticket = this.coherence?.begin(users);
    let created: boolean[];
    const overtaken: PresenceKey[] = [];
    try {
      created = await write();
      for (let i = 0; i < users.length; i++) {
        if (!created[i]) continue;
        if (ticket && !this.coherence!.mayKeep(ticket, i)) {
          overtaken.push(users[i]!);
          continue;
        }
        const { tenantId, userId } = users[i]!;
        if (!cache.fill(tenantId, userId, initial)) return created;
      }
    } finally {
      if (ticket) this.coherence!.end(ticket);
    }
    // On Redis the message about this very write may come back before its answer (Redis tells every client of every
    // change, the writer's own included): read those users once more, a turn later, to cache them as they now are.
    if (overtaken.length > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      for (const [tenantId, ids] of byTenant(overtaken)) await this.stored(tenantId, ids);
    }
    return created;
  }

  /**
   * The user's presence as of now when the read cache has it and nothing in it is due yet: what `read` would resolve
   * to, without waiting. Undefined otherwise (not cached, no cache, or a timed change to make first: `read` does).
   */
  known(tenantId: string, userId: string): PresenceSnapshot | undefined {
    const hit = this.cache?.get(tenantId, userId);
    if (!hit || isDue(hit, this.clock.now())) return undefined;
    return hit;
  }

  /** The user's presence as of now, or null when the tenant has no such user. */
  async read(tenantId: string, userId: string): Promise<PresenceSnapshot | null> {
    const map = await this.readMany(tenantId, [userId]);
    return map.get(userId) ?? null;
  }

  /**
   * Snapshots as of now, in the order of `userIds` (undefined: no such user), whose GUIDs' bits are in `words` (four
   * words an id: ./readMany.ts parseIds). Users in the read cache with nothing due are answered from it without a
   * second parse of their ids; the others go through `readMany`.
   */
  async readList(tenantId: string, userIds: readonly string[], words: Uint32Array): Promise<Array<PresenceSnapshot | undefined>> {
    const list = new Array<PresenceSnapshot | undefined>(userIds.length).fill(undefined);
    this.cache?.getGuids(tenantId, words, userIds.length, list);
    const now = this.clock.now();
    let others: number[] | null = null;
    for (let i = 0; i < userIds.length; i++) {
      const hit = list[i];
      if (!hit || isDue(hit, now)) (others ??= []).push(i);
    }
    if (others) {
      const found = await this.readMany(tenantId, others.map((i) => userIds[i]!));
      for (const i of others) list[i] = found.get(userIds[i]!);
    }
    return list;
  }

  /**
   * The user's presence as of now when nothing in it is due: from the read cache, or else from the store (and cached).
   * Undefined when the tenant has no such user or a timed change is due (`read` makes it). Never writes: the express
   * lane's read (./readLane.ts).
   */
  async lookUp(tenantId: string, userId: string): Promise<PresenceSnapshot | undefined> {
    const snap = (await this.stored(tenantId, [userId])).get(userId);
    return snap && !isDue(snap, this.clock.now()) ? snap : undefined;
  }

  /** Snapshots as of now for the users that exist. */
  async readMany(tenantId: string, userIds: readonly string[]): Promise<Map<string, PresenceSnapshot>> {
    const snapshots = await this.stored(tenantId, userIds);
    const now = this.clock.now();
    for (const [userId, snap] of snapshots) {
      if (isDue(snap, now)) {
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

  /** Snapshots as last written, timed changes due or not: the read cache's, then the store's for the others (cached). */
  private async stored(tenantId: string, userIds: readonly string[]): Promise<Map<string, PresenceSnapshot>> {
    if (!this.cache) return this.store.getSnapshots(tenantId, userIds);
    const snapshots = new Map<string, PresenceSnapshot>();
    const missing: string[] = [];
    for (const userId of userIds) {
      const hit = this.cache.get(tenantId, userId);
      if (hit) snapshots.set(userId, hit);
      else missing.push(userId);
    }
    if (missing.length === 0) return snapshots;
    const found = await this.readKeeping(tenantId, missing, (userId, snap) => {
      this.remember(tenantId, userId, snap);
      return true;
    });
    for (const [userId, snap] of found) snapshots.set(userId, snap);
    return snapshots;
  }

  /**
   * The store's snapshots of `userIds`, each handed to `keep` unless, on a shared store, a change of its user overtook
   * the read (./cacheCoherence.ts); `keep` answers false to keep no more (a full cache). Every snapshot the cache gets
   * from the store comes through here.
   */
  private async readKeeping(
    tenantId: string, userIds: readonly string[], keep: (userId: string, snap: PresenceSnapshot) => boolean,
  ): Promise<Map<string, PresenceSnapshot>> {
    const coherence = this.coherence;
    const ticket = coherence?.begin(userIds.map((userId) => ({ tenantId, userId })));
    try {
      const found = await this.store.getSnapshots(tenantId, userIds);
      let keeping = true;
      for (let i = 0; i < userIds.length && keeping; i++) {
        const snap = found.get(userIds[i]!);
        if (snap && (!ticket || coherence!.mayKeep(ticket, i))) keeping = keep(userIds[i]!, snap);
      }
      return found;
    } finally {
      if (ticket) coherence!.end(ticket);
    }
  }

  /** Drops what is kept in memory of a user (after the user is deleted). */
  forget(tenantId: string, userId: string): void {
    this.cache?.delete(tenantId, userId);
    this.forgottenWhileWarming?.add(warmKey(tenantId, userId));
  }

  private cached(tenantId: string, userId: string): PresenceSnapshot | undefined {
    return this.cache?.get(tenantId, userId);
  }

  private remember(tenantId: string, userId: string, record: PresenceSnapshot): void {
    this.cache?.set(tenantId, userId, record);
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
      // On a shared store the write is dropped, not kept: the store tells of it anyway (Redis tells the writer too), and
      // a copy kept until then would cost a table insert and delete per write.
      if (this.coherence) this.forget(tenantId, userId);
      else this.remember(tenantId, userId, result.record);
      if (result.record.dueAt !== null) this.events.emit('dueChanged', { tenantId, userId, dueAt: result.record.dueAt });
      if (result.changed) this.events.emit('presenceChanged', { tenantId, userId, transition: result, previous: previous!, cause });
    }
    return result;
  }
}

const warmKey = (tenantId: string, userId: string) => `${tenantId}/${userId}`;

/** User ids by tenant. */
function byTenant(users: readonly PresenceKey[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const { tenantId, userId } of users) {
    const ids = groups.get(tenantId);
    if (ids) ids.push(userId);
    else groups.set(tenantId, [userId]);
  }
  return groups;
}

/** A timed change of the snapshot's user is due at `now` and not made yet (the due loop is behind). */
function isDue(snap: PresenceSnapshot, now: number): boolean {
  return snap.dueAt !== null && snap.dueAt <= now;
}
