/**
 * The latest presence snapshot of each user, in memory, bounded (see ./service.ts for when it is used). Two
 * generations instead of a recency list: new and refreshed snapshots go to the young one; when it holds half the
 * limit, it becomes the old one and the former old one is dropped. A read that finds a user in the old generation
 * moves them to the young one, so users read or written within the last half-limit of changes stay, and the hit rate
 * past the limit falls off gradually instead of to zero (the cache used to empty itself whole at the limit, and a
 * store with more users than that kept missing). No per-read bookkeeping beyond a map lookup: a 650-id read stays
 * 650 lookups.
 */
import type { PresenceSnapshot } from '../store/types.ts';

type Generation = Map<string, Map<string, PresenceSnapshot>>;

export class SnapshotCache {
  private young: Generation = new Map();
  private old: Generation = new Map();
  /** Users in the young generation. */
  private youngSize = 0;

  /** `limit`: the most snapshots held, both generations together. */
  constructor(private readonly limit: number) {}

  get(tenantId: string, userId: string): PresenceSnapshot | undefined {
    const hit = this.young.get(tenantId)?.get(userId);
    if (hit) return hit;
    const aged = this.old.get(tenantId)?.get(userId);
    if (aged) this.set(tenantId, userId, aged);
    return aged;
  }

  set(tenantId: string, userId: string, snapshot: PresenceSnapshot): void {
    let tenant = this.young.get(tenantId);
    if (!tenant) this.young.set(tenantId, (tenant = new Map()));
    if (!tenant.has(userId)) {
      if (this.youngSize >= Math.max(1, Math.floor(this.limit / 2))) {
        this.old = this.young;
        this.young = new Map([[tenantId, (tenant = new Map())]]);
        this.youngSize = 0;
      }
      this.youngSize++;
    }
    tenant.set(userId, snapshot);
  }

  delete(tenantId: string, userId: string): void {
    if (this.young.get(tenantId)?.delete(userId)) this.youngSize--;
    this.old.get(tenantId)?.delete(userId);
  }

  /** Snapshots held (tests): at most `limit`. */
  get size(): number {
    let n = 0;
    for (const generation of [this.young, this.old]) for (const users of generation.values()) n += users.size;
    return n;
  }
}
